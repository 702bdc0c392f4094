import { describe, expect, it } from 'vitest';
import { MEDIA_ERR, diagnoseMediaError } from '../src/lib/media';
import { validateProvider, withApiKey } from '../src/lib/providers';
import type { Provider } from '../src/lib/types';

describe('diagnoseMediaError', () => {
  it('uses the JSON error the media URL answers', async () => {
    const err = await diagnoseMediaError('/api/stream/x', MEDIA_ERR.SRC_NOT_SUPPORTED, async (_url, init) => {
      expect((init?.headers as Record<string, string>).Range).toBe('bytes=0-0');
      return new Response(JSON.stringify({ status: 'ERROR', code: 'TOO_MANY_READERS', message: 'm' }), { status: 429 });
    });
    expect(err.code).toBe('TOO_MANY_READERS');
  });
  it('blames the format when the bytes are there', async () => {
    const err = await diagnoseMediaError('/v', MEDIA_ERR.SRC_NOT_SUPPORTED, async () => new Response('x', { status: 206 }));
    expect(err.code).toBe('PLAYBACK_UNSUPPORTED');
  });
  it('a network error with an unreachable URL is STREAM_FAILED', async () => {
    const err = await diagnoseMediaError('/v', MEDIA_ERR.NETWORK, async () => {
      throw new TypeError('Failed to fetch');
    });
    expect(err.code).toBe('STREAM_FAILED');
  });
});

describe('validateProvider', () => {
  const ok: Provider = { name: 'Jackett', kind: 'torznab', url: 'http://127.0.0.1:9117/api', apiKey: 'k', enabled: true, hasApiKey: false };
  it('accepts a good provider', () => {
    expect(validateProvider(ok, [])).toBeNull();
  });
  it('rejects missing names, duplicates and bad URLs', () => {
    expect(validateProvider({ ...ok, name: ' ' }, [])).toMatch(/name/);
    expect(validateProvider(ok, [{ ...ok, name: 'jackett' }])).toMatch(/already/);
    expect(validateProvider({ ...ok, url: 'localhost:9117' }, [])).toMatch(/http/);
    expect(validateProvider({ ...ok, url: 'ftp://x' }, [])).toMatch(/http/);
  });
});

describe('withApiKey', () => {
  const saved: Provider[] = [
    { name: 'Jackett', kind: 'torznab', url: 'http://127.0.0.1:9117/api', enabled: true, hasApiKey: true },
    { name: 'Prowlarr', kind: 'torznab', url: 'http://127.0.0.1:9696/api', enabled: true, hasApiKey: true },
  ];
  it('replaces one key and sends no key for the others, so the backend keeps theirs', () => {
    const next = withApiKey(saved, 'Jackett', 'new-key');
    expect(next[0]).toEqual({ ...saved[0], apiKey: 'new-key', hasApiKey: true });
    expect(next[1]).toEqual(saved[1]);
    expect('apiKey' in next[1]).toBe(false);
  });
  it('clears a key with an empty one', () => {
    expect(withApiKey(saved, 'Prowlarr', '')[1]).toEqual({ ...saved[1], apiKey: '', hasApiKey: false });
  });
});
