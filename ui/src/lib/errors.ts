// The one place where error codes become words a person can act on.

import type { ApiError as ApiErrorBody, ErrorCode, ProviderFailure } from './types';

/**
 * Codes the UI raises itself, never the backend: the backend could not be reached, the
 * browser cannot decode the video, or something failed that is no API error at all.
 */
export type UiErrorCode = 'NETWORK' | 'PLAYBACK_UNSUPPORTED' | 'UNKNOWN';

/**
 * One sentence per code. Keyed by the generated `ErrorCode`, so a code added in Rust
 * fails the UI's type check until it has its sentence here.
 */
const SENTENCES: Record<ErrorCode | UiErrorCode, string> = {
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
  TOO_MANY_STREAMS:
    'Too many videos are playing or starting at once. Stop one you no longer watch in Streams, then try again.',
  RANGE_NOT_SATISFIABLE:
    'The player asked for a part of the video that lies past its end. Start the video again from the beginning.',
  NOT_FOUND:
    'The engine does not know this request, so the app and the engine are probably different versions. Restart CinemaHalal; if that does not help, reinstall it.',
  METHOD_NOT_ALLOWED:
    'The engine refused the way this request was made, which means the app does not match its engine. Restart CinemaHalal; if that does not help, reinstall it.',
  SETTINGS_FAILED:
    'Your settings could not be saved, so the change was not kept. Check that there is free disk space and that your settings folder can be written to, then try again.',
  PLAYER_FAILED:
    'The external player could not be started. Make sure it is installed, or choose another player, then try again.',
  CLIPBOARD_FAILED:
    'The stream URL could not be copied to the clipboard. Try again; if it keeps failing, the details below say why.',
  HOST_NOT_ALLOWED:
    'This address does not reach the engine. Use the address CinemaHalal printed when it started, or ask its owner to allow this name (--allowed-host or PUBLIC_URL).',
  UNAUTHORIZED:
    'This CinemaHalal server needs its access token. Try again, and enter the token as the password when your browser asks for one.',
  ORIGIN_NOT_ALLOWED:
    'The engine only takes orders from its own pages. Use CinemaHalal at the address the server printed, not through another site.',
  INTERNAL_ERROR:
    'The engine hit a bug while answering. Try again; the rest of CinemaHalal keeps working. If it keeps happening, restart CinemaHalal.',
  PAYLOAD_TOO_LARGE:
    'That is too large to send to the engine. A .torrent file must be under 16 MiB; choose another file or paste its magnet link instead.',
  HISTORY_FAILED:
    'Where you stopped watching could not be saved. Check that there is free disk space and that the data folder can be written to; playback goes on.',
  FFMPEG_MISSING:
    'This video needs converting, and ffmpeg is not installed. Make sure ffmpeg is installed (Debian/Ubuntu: sudo apt install ffmpeg; macOS: brew install ffmpeg; Windows: winget install ffmpeg), then play it again.',
  PROBE_FAILED:
    'This file could not be read as a video, so it cannot be converted. Choose another file of the torrent or another result.',
  TRANSCODE_FAILED:
    'Converting this video for the browser failed. Try the other playback form in the player, or copy the stream URL into VLC or mpv.',
  TRACK_NOT_FOUND:
    'That audio or subtitle track is not in this file. Pick another track in the player.',
  SEGMENT_NOT_FOUND:
    'The player asked for a part of the converted video that does not exist. Start the video again.',
  TOO_MANY_TRANSCODES:
    'Too many videos are being converted at once. Stop one you no longer watch, then try again.',
  NETWORK:
    'CinemaHalal could not reach its engine. Make sure the app (or the server) is still running, then try again.',
  PLAYBACK_UNSUPPORTED:
    'This video’s format cannot be played here. Use “Copy stream URL” and open it in a player such as VLC or mpv.',
  UNKNOWN: 'Something went wrong. Try again; if it keeps happening, restart CinemaHalal.',
};

/** Every code that has a sentence: the backend's, then the UI's own. */
export const ERROR_CODES = Object.keys(SENTENCES) as (ErrorCode | UiErrorCode)[];

/**
 * The error every transport throws: the backend's `ApiError` body (see the contract) as
 * a JavaScript error, or one of the UI's own codes.
 */
export class ApiError extends Error {
  readonly code: ErrorCode | UiErrorCode;
  /** Providers that failed (SEARCH_FAILED carries them). */
  readonly providers?: ProviderFailure[];
  /** HTTP status, when the error came over HTTP. */
  readonly httpStatus?: number;

  constructor(
    code: ErrorCode | UiErrorCode,
    message: string,
    extra: { providers?: ProviderFailure[]; httpStatus?: number } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    if (extra.providers) this.providers = extra.providers;
    if (extra.httpStatus !== undefined) this.httpStatus = extra.httpStatus;
  }

  /** The error the backend answered (an HTTP body, or what a Tauri command rejects with). */
  static fromBody(body: ApiErrorBody, httpStatus?: number): ApiError {
    return new ApiError(body.code, body.message, { providers: body.providers, httpStatus });
  }
}

/** True for the backend's error answer `{"status":"ERROR","code",…}`, as opposed to anything else thrown. */
export function isApiErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.status === 'ERROR' && typeof v.code === 'string' && typeof v.message === 'string';
}

export function isKnownCode(code: string): code is ErrorCode | UiErrorCode {
  return Object.hasOwn(SENTENCES, code);
}

/** The sentence shown for an error code (unknown codes get the generic one). */
export function errorSentence(code: string): string {
  return isKnownCode(code) ? SENTENCES[code] : SENTENCES.UNKNOWN;
}

/** Turn anything thrown into an ApiError. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isApiErrorBody(err)) return ApiError.fromBody(err);
  if (typeof err === 'string') return new ApiError('UNKNOWN', err);
  if (err instanceof Error) return new ApiError('UNKNOWN', err.message);
  return new ApiError('UNKNOWN', String(err));
}

/**
 * What the error box shows: the sentence, and the backend's message as the detail for the
 * curious (a SEARCH_FAILED message already names each provider and why it failed).
 */
export function describeError(err: unknown): { code: string; sentence: string; detail: string } {
  const e = toApiError(err);
  return { code: e.code, sentence: errorSentence(e.code), detail: e.message };
}
