// Pure helpers: units, shares, input detection, state words.

import type { ByteRange, Quality, SearchQuery, StreamRequest, StreamState, TorrentFile } from './types';

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

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A 32-character base32 info hash → 40 hex characters (null if not base32). */
export function base32ToHex(b32: string): string | null {
  const s = b32.toUpperCase();
  if (!/^[A-Z2-7]{32}$/.test(s)) return null;
  let bits = 0;
  let value = 0;
  let hex = '';
  for (const ch of s) {
    value = (value << 5) | BASE32.indexOf(ch);
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      hex += ((value >>> bits) & 0xff).toString(16).padStart(2, '0');
    }
  }
  return hex;
}

/** Info hash (lower-case hex) named by a magnet link, or null. */
export function infoHashFromMagnet(magnet: string): string | null {
  const m = /[?&]xt=urn:btih:([0-9a-z]+)/i.exec(magnet);
  if (!m) return null;
  const h = m[1];
  if (/^[0-9a-f]{40}$/i.test(h)) return h.toLowerCase();
  return base32ToHex(h);
}

/** The `dn` (display name) of a magnet link, or ''. */
export function magnetDisplayName(magnet: string): string {
  const q = magnet.indexOf('?');
  if (q < 0) return '';
  try {
    return new URLSearchParams(magnet.slice(q + 1)).get('dn')?.trim() ?? '';
  } catch {
    return '';
  }
}

/** The "paste magnet or info hash" field → a stream request, or null if it is neither. */
export function parsePastedSource(input: string): { request: StreamRequest; infoHash: string | null } | null {
  const s = input.trim();
  if (/^magnet:\?/i.test(s)) {
    const infoHash = infoHashFromMagnet(s);
    return infoHash ? { request: { magnet: s }, infoHash } : null;
  }
  if (/^[0-9a-f]{40}$/i.test(s)) return { request: { infoHash: s.toLowerCase() }, infoHash: s.toLowerCase() };
  const hex = base32ToHex(s);
  if (hex) return { request: { infoHash: hex }, infoHash: hex };
  return null;
}

/** "1080p · WEB-DL", or "" when nothing is known. */
export function formatQuality(q: Quality | null | undefined): string {
  if (!q) return '';
  return [q.resolution, q.source].filter((x): x is string => !!x).join(' · ');
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
