import { describe, expect, it } from 'vitest';
import { ApiError, ERROR_CODES, describeError, errorSentence, toApiError } from '../src/lib/errors';

const BACKEND_CODES = [
  'METADATA_TIMEOUT',
  'NO_VIDEO_FILE',
  'NO_SEEDS',
  'STREAM_FAILED',
  'SEARCH_FAILED',
  'INVALID_REQUEST',
  'STREAM_NOT_FOUND',
  'TOO_MANY_READERS',
  'NETWORK',
];

describe('error wording', () => {
  it('every backend code has its own sentence', () => {
    const generic = errorSentence('SOMETHING_NEW');
    const seen = new Set<string>();
    for (const code of BACKEND_CODES) {
      expect(ERROR_CODES).toContain(code);
      const s = errorSentence(code);
      expect(s, code).not.toBe(generic);
      expect(s, code).toMatch(/^[A-Z].{30,}[.)]$/);
      expect(seen.has(s), `${code} repeats a sentence`).toBe(false);
      seen.add(s);
    }
  });

  it('every sentence tells the person what to do', () => {
    for (const code of ERROR_CODES) {
      expect(errorSentence(code), code).toMatch(/\b(try|check|choose|pick|paste|close|make sure|use|start|go back|restart)\b/i);
    }
  });

  it('METADATA_TIMEOUT reads as specified', () => {
    expect(errorSentence('METADATA_TIMEOUT')).toBe(
      'No one is sharing this torrent right now, so its details could not be fetched. Try another result or try again later.',
    );
  });

  it('unknown codes fall back to a generic sentence', () => {
    expect(errorSentence('WAT')).toBe(errorSentence('UNKNOWN'));
  });

  it('describeError lists failed providers in the detail', () => {
    const d = describeError(
      new ApiError('SEARCH_FAILED', 'all providers failed', { providers: [{ provider: 'archive', reason: 'timeout' }] }),
    );
    expect(d.code).toBe('SEARCH_FAILED');
    expect(d.detail).toBe('all providers failed (archive: timeout)');
  });

  it('toApiError normalises what was thrown', () => {
    expect(toApiError({ status: 'ERROR', code: 'NO_SEEDS', message: 'm' })).toMatchObject({ code: 'NO_SEEDS', message: 'm' });
    expect(toApiError('boom')).toMatchObject({ code: 'UNKNOWN', message: 'boom' });
    expect(toApiError(new Error('e'))).toMatchObject({ code: 'UNKNOWN', message: 'e' });
    const e = new ApiError('NETWORK', 'x');
    expect(toApiError(e)).toBe(e);
  });
});
