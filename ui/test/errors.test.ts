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
  'RANGE_NOT_SATISFIABLE',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'SETTINGS_FAILED',
  'PLAYER_FAILED',
  'CLIPBOARD_FAILED',
  'NETWORK',
];

describe('error wording', () => {
  it('every backend code has its own sentence', () => {
    const generic = errorSentence('SOMETHING_NEW');
    const seen = new Set<string>();
    for (const code of new Set([...BACKEND_CODES, ...ERROR_CODES.filter((c) => c !== 'UNKNOWN')])) {
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

  it("describeError's detail is the backend's message, which already names the failed providers", () => {
    const message = 'every search provider failed: archive: timeout; jackett: HTTP 401';
    const d = describeError(
      new ApiError('SEARCH_FAILED', message, {
        providers: [
          { provider: 'archive', reason: 'timeout' },
          { provider: 'jackett', reason: 'HTTP 401' },
        ],
      }),
    );
    expect(d.code).toBe('SEARCH_FAILED');
    expect(d.detail).toBe(message);
  });

  it('settings and player failures do not speak of streams', () => {
    expect(errorSentence('SETTINGS_FAILED')).toMatch(/settings could not be saved/i);
    expect(errorSentence('PLAYER_FAILED')).toMatch(/player could not be started/i);
    expect(errorSentence('PLAYER_FAILED')).toMatch(/installed/);
    for (const code of ['SETTINGS_FAILED', 'PLAYER_FAILED', 'CLIPBOARD_FAILED']) {
      expect(errorSentence(code), code).not.toMatch(/stream (stopped|is no longer)/i);
    }
  });

  it('toApiError normalises what was thrown', () => {
    expect(toApiError({ status: 'ERROR', code: 'NO_SEEDS', message: 'm' })).toMatchObject({ code: 'NO_SEEDS', message: 'm' });
    expect(toApiError('boom')).toMatchObject({ code: 'UNKNOWN', message: 'boom' });
    expect(toApiError(new Error('e'))).toMatchObject({ code: 'UNKNOWN', message: 'e' });
    const e = new ApiError('NETWORK', 'x');
    expect(toApiError(e)).toBe(e);
  });
});
