// The one place where error codes become words a person can act on.

import type { ProviderFailure } from './types';

/** Codes the backend sends, plus the ones the UI raises itself. */
export const ERROR_CODES = [
  'METADATA_TIMEOUT',
  'NO_VIDEO_FILE',
  'NO_SEEDS',
  'STREAM_FAILED',
  'SEARCH_FAILED',
  'INVALID_REQUEST',
  'STREAM_NOT_FOUND',
  'TOO_MANY_READERS',
  'NETWORK',
  'PLAYBACK_UNSUPPORTED',
  'UNKNOWN',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The error every transport throws: the backend's `{status:"ERROR", code, message}`. */
export class ApiError extends Error {
  readonly code: string;
  /** Providers that failed (SEARCH_FAILED may carry them). */
  readonly providers?: ProviderFailure[];
  /** HTTP status, when the error came over HTTP. */
  readonly httpStatus?: number;

  constructor(code: string, message: string, extra: { providers?: ProviderFailure[]; httpStatus?: number } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    if (extra.providers) this.providers = extra.providers;
    if (extra.httpStatus !== undefined) this.httpStatus = extra.httpStatus;
  }
}

const SENTENCES: Record<ErrorCode, string> = {
  METADATA_TIMEOUT:
    'No one is sharing this torrent right now, so its details could not be fetched. Try another result or try again later.',
  NO_SEEDS:
    'Nobody is sharing the data of this torrent at the moment, so it cannot be played. Pick a result with more seeders or try again later.',
  NO_VIDEO_FILE:
    'This torrent has no video file in it. Choose a different result.',
  STREAM_FAILED:
    'The stream stopped working. Go back and press play again; if it keeps failing, try another result.',
  SEARCH_FAILED:
    'The search did not reach any provider. Check your internet connection and the providers in Settings, then search again.',
  INVALID_REQUEST:
    'That is not something that can be played. Paste a full magnet link (magnet:?xt=…), a 40-character info hash, or choose a .torrent file.',
  STREAM_NOT_FOUND:
    'This stream is no longer running. Start it again from the search results or your list of streams.',
  TOO_MANY_READERS:
    'This video is already being played in too many places. Close another player or tab that is playing it, then try again.',
  NETWORK:
    'CinemaHalal could not reach its engine. Make sure the app (or the server) is still running, then try again.',
  PLAYBACK_UNSUPPORTED:
    'This video’s format cannot be played here. Use “Copy stream URL” and open it in a player such as VLC or mpv.',
  UNKNOWN: 'Something went wrong. Try again; if it keeps happening, restart CinemaHalal.',
};

export function isKnownCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

/** The sentence shown for an error code (unknown codes get the generic one). */
export function errorSentence(code: string): string {
  return isKnownCode(code) ? SENTENCES[code] : SENTENCES.UNKNOWN;
}

/** Turn anything thrown into an ApiError. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string') {
    const e = err as { code: string; message?: unknown; providers?: ProviderFailure[] };
    return new ApiError(e.code, typeof e.message === 'string' ? e.message : '', {
      providers: Array.isArray(e.providers) ? e.providers : undefined,
    });
  }
  if (typeof err === 'string') return new ApiError('UNKNOWN', err);
  if (err instanceof Error) return new ApiError('UNKNOWN', err.message);
  return new ApiError('UNKNOWN', String(err));
}

/** What the error box shows: the sentence, and technical detail for the curious. */
export function describeError(err: unknown): { code: string; sentence: string; detail: string } {
  const e = toApiError(err);
  let detail = e.message;
  if (e.providers && e.providers.length > 0) {
    const list = e.providers.map((p) => `${p.provider}: ${p.reason}`).join('; ');
    detail = detail ? `${detail} (${list})` : list;
  }
  return { code: e.code, sentence: errorSentence(e.code), detail };
}
