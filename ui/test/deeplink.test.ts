import { describe, expect, it } from 'vitest';
import { deepLink, isPlayLink, magnetInfoHash, parseDeepLink } from '../src/lib/deeplink';

const HASH = 'c9e15763f722f23e98a29decdfae341b98d53056';
const MAGNET = `magnet:?xt=urn:btih:${HASH.toUpperCase()}&dn=Big%20Buck%20Bunny&x.pe=127.0.0.1:6881`;

describe('deep links', () => {
  it('opens a magnet link, with its name and info hash known up front', () => {
    const open = parseDeepLink(`#/play?magnet=${encodeURIComponent(MAGNET)}`);
    expect(open).toEqual({ request: { magnet: MAGNET }, title: 'Big Buck Bunny', infoHash: HASH });
  });

  it('opens an info hash and file', () => {
    expect(parseDeepLink(`#/play?infoHash=${HASH}&fileIndex=3`)).toEqual({
      request: { infoHash: HASH, fileIndex: 3 },
      infoHash: HASH,
    });
    expect(parseDeepLink(`#/play?magnet=${encodeURIComponent(MAGNET)}&fileIndex=2`)?.request).toEqual({
      magnet: MAGNET,
      fileIndex: 2,
    });
  });

  it('opens a .torrent file given as base64', () => {
    expect(parseDeepLink('#/play?torrent=ZDQ6aW5mb2Vl&name=x')).toEqual({ request: { torrent: 'ZDQ6aW5mb2Vl' }, title: 'x' });
  });

  it('ignores hashes that are no play link, and refuses bad file indexes', () => {
    expect(parseDeepLink('')).toBeNull();
    expect(parseDeepLink('#/settings')).toBeNull();
    expect(parseDeepLink('#/play?')).toBeNull();
    expect(parseDeepLink(`#/play?infoHash=${HASH}&fileIndex=-1`)).toBeNull();
    expect(parseDeepLink(`#/play?infoHash=${HASH}&fileIndex=x`)).toBeNull();
    expect(isPlayLink('#/play?x=1')).toBe(true);
    expect(isPlayLink('#/player')).toBe(false);
  });

  it('passes a malformed magnet on for the backend to judge', () => {
    expect(parseDeepLink('#/play?magnet=magnet%3A%3Fxt%3Dnope')?.request).toEqual({ magnet: 'magnet:?xt=nope' });
    expect(magnetInfoHash('magnet:?xt=nope')).toBeNull();
  });

  it('writes links that read back', () => {
    for (const request of [{ magnet: MAGNET, fileIndex: 1 }, { infoHash: HASH, fileIndex: 0 }, { infoHash: HASH }]) {
      expect(parseDeepLink(deepLink(request))?.request).toEqual(request);
    }
  });
});
