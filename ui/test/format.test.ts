import { describe, expect, it } from 'vitest';
import {
  bufferedBytes,
  bufferedShare,
  bytesToBase64,
  detectImdbId,
  formatPercent,
  formatQuality,
  formatSize,
  formatSpeed,
  pastedRequest,
  peerTransports,
  stateLabel,
  toSearchQuery,
  videoFiles,
} from '../src/lib/format';

describe('sizes and speeds', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 KB'],
    [1536000, '1.5 MB'],
    [999_999, '1.0 MB'],
    [123_456_789, '123 MB'],
    [1_400_000_000, '1.4 GB'],
    [2.5e12, '2.5 TB'],
  ])('formatSize(%d) = %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('handles missing and bad sizes', () => {
    expect(formatSize(undefined)).toBe('—');
    expect(formatSize(-1)).toBe('—');
    expect(formatSize(Number.NaN)).toBe('—');
  });

  it('formats speeds per second', () => {
    expect(formatSpeed(0)).toBe('0 B/s');
    expect(formatSpeed(2_400_000)).toBe('2.4 MB/s');
    expect(formatSpeed(512)).toBe('512 B/s');
  });

  it('formats shares as whole percents without claiming 100% early', () => {
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(0.004)).toBe('<1%');
    expect(formatPercent(0.4237)).toBe('42%');
    expect(formatPercent(0.996)).toBe('99%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(1.5)).toBe('100%');
  });
});

describe('buffered share', () => {
  it('sums ranges (end exclusive) over the size', () => {
    expect(bufferedShare([{ start: 0, end: 250 }, { start: 500, end: 750 }], 1000)).toBe(0.5);
  });
  it('counts overlaps once and clips to the file', () => {
    expect(bufferedBytes([{ start: 0, end: 600 }, { start: 400, end: 1200 }, { start: 100, end: 200 }], 1000)).toBe(1000);
    expect(bufferedShare([{ start: 900, end: 2000 }], 1000)).toBe(0.1);
  });
  it('is 0 with no ranges or unknown size', () => {
    expect(bufferedShare([], 1000)).toBe(0);
    expect(bufferedShare([{ start: 0, end: 10 }], 0)).toBe(0);
    expect(bufferedShare(undefined, 10)).toBe(0);
  });
  it('ignores empty and adjacent ranges correctly', () => {
    expect(bufferedBytes([{ start: 0, end: 10 }, { start: 10, end: 20 }, { start: 30, end: 30 }], 100)).toBe(20);
  });
});

describe('IMDb detection', () => {
  it.each([
    ['tt1234567', 'tt1234567'],
    ['  TT12345678 ', 'tt12345678'],
    ['https://www.imdb.com/title/tt0111161/', 'tt0111161'],
    ['https://m.imdb.com/title/tt0111161/?ref_=x', 'tt0111161'],
  ])('%s → %s', (input, id) => {
    expect(detectImdbId(input)).toBe(id);
  });
  it.each(['tt123456', 'tt123456789', 'the matrix', 'tt1234567 matrix', 'xtt1234567'])('%s is a title', (input) => {
    expect(detectImdbId(input)).toBeNull();
  });
  it('builds the search query', () => {
    expect(toSearchQuery(' tt0111161 ')).toEqual({ imdbId: 'tt0111161' });
    expect(toSearchQuery(' big buck bunny ')).toEqual({ query: 'big buck bunny' });
  });
});

describe('pasted sources', () => {
  // The UI only picks the field; whether it is a valid link or hash is the backend's answer.
  const hex = 'c9e15763f722f23e98a29decdfae341b98d53056';
  it('a magnet link goes as magnet, as pasted', () => {
    const m = `magnet:?xt=urn:btih:${hex.toUpperCase()}&dn=Cosmos`;
    expect(pastedRequest(m)).toEqual({ magnet: m });
    expect(pastedRequest(` ${m} `)).toEqual({ magnet: m });
    expect(pastedRequest('MAGNET:?xt=urn:btih:ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMCW')).toEqual({
      magnet: 'MAGNET:?xt=urn:btih:ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMCW',
    });
  });
  it('anything else goes as infoHash, for the backend to accept or refuse', () => {
    expect(pastedRequest(` ${hex.toUpperCase()} `)).toEqual({ infoHash: hex.toUpperCase() });
    expect(pastedRequest('ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMCW')).toEqual({ infoHash: 'ZHQVOY7XELZD5GFCTXWN7LRUDOMNKMCW' });
    expect(pastedRequest('hello')).toEqual({ infoHash: 'hello' });
  });
});

describe('labels and lists', () => {
  it('quality', () => {
    expect(formatQuality({ resolution: '1080p', source: 'WEB-DL' })).toBe('1080p · WEB-DL');
    expect(formatQuality({ resolution: null, source: 'BluRay' })).toBe('BluRay');
    expect(formatQuality({ resolution: null, source: null })).toBe('');
  });
  it('state words', () => {
    expect(stateLabel('fetching_metadata')).toBe('Fetching torrent info from peers…');
    for (const s of ['connecting', 'ready', 'stalled', 'error', 'preparing', 'failed'] as const) {
      expect(stateLabel(s)).toMatch(/\w/);
    }
  });
  it('video files sorted naturally', () => {
    const files = [
      { index: 0, path: 'S01/E10.mkv', size: 1, isVideo: true },
      { index: 1, path: 'S01/E2.mkv', size: 1, isVideo: true },
      { index: 2, path: 'S01/info.nfo', size: 1, isVideo: false },
    ];
    expect(videoFiles(files).map((f) => f.index)).toEqual([1, 0]);
  });
  it('base64 of bytes', () => {
    expect(bytesToBase64(new TextEncoder().encode('d4:infoe'))).toBe('ZDQ6aW5mb2U=');
    // Larger than one chunk: decodes back to the same bytes.
    const big = new Uint8Array(100_000).map((_, i) => (i * 7) % 256);
    const back = Uint8Array.from(atob(bytesToBase64(big)), (c) => c.charCodeAt(0));
    expect(back).toEqual(big);
  });
});

describe('peer transports', () => {
  const none = { connected: 0, downloadedBytes: 0, uploadedBytes: 0 };
  it('lists only the transports that carried a peer or a byte, in a fixed order', () => {
    const peers = {
      connected: 3,
      known: 9,
      tcp: { connected: 2, downloadedBytes: 10, uploadedBytes: 0 },
      utp: none,
      webrtc: { connected: 0, downloadedBytes: 0, uploadedBytes: 5 },
    };
    expect(peerTransports(peers).map((t) => `${t.label} ${t.kind.connected}`)).toEqual(['TCP 2', 'WebRTC 0']);
  });
  it('is empty before any peer', () => {
    expect(peerTransports({ connected: 0, known: 0, tcp: none, utp: none, webrtc: none })).toEqual([]);
  });
});
