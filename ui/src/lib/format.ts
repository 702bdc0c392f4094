// Pure helpers: units, shares, input detection, state words.

import type { ByteRange, PeerKind, Peers, Quality, SearchQuery, StreamRequest, StreamState, TorrentFile } from './types';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 1536000 → "1.5 MB" (decimal units, as file managers on macOS and most sites show). */
export function formatSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let v = bytes;
  let i = 0;
  while (v >= 999.5 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 99.95 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[i]}`;
}

/** Bytes per second → "2.4 MB/s". */
export function formatSpeed(bytesPerSecond: number | null | undefined): string {
  if (!bytesPerSecond || !Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) return '0 B/s';
  return `${formatSize(bytesPerSecond)}/s`;
}

/** 0.4237 → "42%". */
export function formatPercent(share: number): string {
  if (!Number.isFinite(share)) return '0%';
  const p = Math.min(1, Math.max(0, share)) * 100;
  if (p > 0 && p < 1) return '<1%';
  if (p < 100 && p > 99) return '99%';
  return `${Math.floor(p)}%`;
}

/** Bytes covered by the ranges (end exclusive), overlaps counted once, clipped to [0, size]. */
export function bufferedBytes(ranges: ByteRange[] | null | undefined, size: number): number {
  if (!ranges || ranges.length === 0 || !(size > 0)) return 0;
  const sorted = ranges
    .map((r) => ({ start: Math.max(0, r.start), end: Math.min(size, r.end) }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  let total = 0;
  let curStart = -1;
  let curEnd = -1;
  for (const r of sorted) {
    if (r.start > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = r.start;
      curEnd = r.end;
    } else if (r.end > curEnd) {
      curEnd = r.end;
    }
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

/** Share of the file on disk, 0 to 1, from `availableRanges`. */
export function bufferedShare(ranges: ByteRange[] | null | undefined, size: number): number {
  if (!(size > 0)) return 0;
  return bufferedBytes(ranges, size) / size;
}

const IMDB_RE = /^(?:https?:\/\/(?:www\.|m\.)?imdb\.com\/title\/)?(tt\d{7,8})(?:[/?#].*)?$/i;

/** "tt0111161" or an IMDb title URL → "tt0111161"; anything else → null. */
export function detectImdbId(input: string): string | null {
  const m = IMDB_RE.exec(input.trim());
  return m ? m[1].toLowerCase() : null;
}

/** What the search box sends: an IMDb id when it looks like one, else the text. */
export function toSearchQuery(input: string): SearchQuery {
  const imdbId = detectImdbId(input);
  return imdbId ? { imdbId } : { query: input.trim() };
}

/**
 * The "paste a magnet link or info hash" field → a stream request. Nothing is parsed
 * here: the backend checks the link or hash and answers INVALID_REQUEST, with its reason,
 * when it is neither.
 */
export function pastedRequest(input: string): StreamRequest {
  const s = input.trim();
  return /^magnet:/i.test(s) ? { magnet: s } : { infoHash: s };
}

/** "1080p · WEB-DL", or "" when nothing is known. */
export function formatQuality(q: Quality | null | undefined): string {
  if (!q) return '';
  return [q.resolution, q.source].filter((x) => x !== null).join(' · ');
}

/** The transports a stream's peers came over, as the status line names them. */
export const TRANSPORTS = [
  { key: 'tcp', label: 'TCP' },
  { key: 'utp', label: 'uTP' },
  { key: 'webrtc', label: 'WebRTC' },
] as const;

/** The transports that carried a peer or a byte so far, in `TRANSPORTS` order. */
export function peerTransports(peers: Peers): { key: (typeof TRANSPORTS)[number]['key']; label: string; kind: PeerKind }[] {
  return TRANSPORTS.map(({ key, label }) => ({ key, label, kind: peers[key] })).filter(
    ({ kind }) => kind.connected > 0 || kind.downloadedBytes > 0 || kind.uploadedBytes > 0,
  );
}

/** A stream's state in words. */
export function stateLabel(state: StreamState | 'preparing' | 'failed'): string {
  switch (state) {
    case 'preparing':
    case 'fetching_metadata':
      return 'Fetching torrent info from peers…';
    case 'connecting':
      return 'Connecting to peers…';
    case 'ready':
      return 'Streaming';
    case 'stalled':
      return 'Waiting for peers — no one is sending data right now';
    case 'error':
      return 'The torrent failed';
    case 'failed':
      return 'Could not start this stream';
  }
}

/** Video files of a torrent, in path order, for the episode picker. */
export function videoFiles(files: TorrentFile[] | null | undefined): TorrentFile[] {
  return (files ?? []).filter((f) => f.isVideo).sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
}

/** The last path segment, for showing a file's name. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** Bytes of a file → base64 (what `torrent` in a stream request carries). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}
