// Deep links: `#/play?magnet=<link>`, `#/play?infoHash=<hash>&fileIndex=<n>` and
// `#/play?torrent=<base64 of a .torrent file>` open the player straight away. The desktop
// app turns the magnet links and .torrent files the system hands it into these.

import type { OpenRequest } from './session.svelte';
import type { StreamRequest } from './types';

const HASH_HEX = /^[0-9a-f]{40}$/i;

/** The info hash a magnet link names (hex, lower case), if it names one plainly. */
export function magnetInfoHash(magnet: string): string | null {
  const m = /[?&]xt=urn:btih:([0-9a-z]+)/i.exec(magnet);
  return m && HASH_HEX.test(m[1]) ? m[1].toLowerCase() : null;
}

/** The `dn` (display name) of a magnet link. */
export function magnetName(magnet: string): string | undefined {
  const q = magnet.indexOf('?');
  if (q < 0) return undefined;
  try {
    return new URLSearchParams(magnet.slice(q + 1)).get('dn') ?? undefined;
  } catch {
    return undefined;
  }
}

/** Whether a location hash is a play link (well-formed or not). */
export function isPlayLink(hash: string): boolean {
  return /^#?\/play(?:\?|$)/.test(hash);
}

/**
 * What a location hash asks to play, or null when it is no play link. Values the backend
 * must judge (a malformed magnet) are passed on: the player shows its answer.
 */
export function parseDeepLink(hash: string): OpenRequest | null {
  const m = /^#?\/play\?(.*)$/s.exec(hash);
  if (!m) return null;
  const params = new URLSearchParams(m[1]);
  const fileText = params.get('fileIndex');
  let fileIndex: number | undefined;
  if (fileText !== null && fileText !== '') {
    if (!/^\d{1,9}$/.test(fileText)) return null;
    fileIndex = Number(fileText);
  }
  const withFile = (r: StreamRequest): StreamRequest => (fileIndex === undefined ? r : { ...r, fileIndex });
  const magnet = params.get('magnet');
  if (magnet) {
    return { request: withFile({ magnet }), title: magnetName(magnet), infoHash: magnetInfoHash(magnet) };
  }
  const infoHash = params.get('infoHash');
  if (infoHash) {
    const known = HASH_HEX.test(infoHash) ? infoHash.toLowerCase() : null;
    return { request: withFile({ infoHash }), infoHash: known };
  }
  const torrent = params.get('torrent');
  if (torrent) {
    return { request: withFile({ torrent: torrent.replace(/ /g, '+') }), title: params.get('name') ?? undefined };
  }
  return null;
}

/** The play link of a request (what `parseDeepLink` reads back). */
export function deepLink(request: StreamRequest): string {
  const params = new URLSearchParams();
  if (request.magnet) params.set('magnet', request.magnet);
  else if (request.infoHash) params.set('infoHash', request.infoHash);
  else if (request.torrent) params.set('torrent', request.torrent);
  if (request.fileIndex !== undefined) params.set('fileIndex', String(request.fileIndex));
  return `#/play?${params}`;
}
