// Why a <video> failed: the media URL answers errors as JSON, which the element hides.

import { ApiError, isApiErrorBody } from './errors';

type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** MediaError.code values (the DOM constants, without needing a DOM). */
export const MEDIA_ERR = { ABORTED: 1, NETWORK: 2, DECODE: 3, SRC_NOT_SUPPORTED: 4 } as const;

/**
 * Ask the media URL for one byte: a JSON error there (TOO_MANY_READERS, STREAM_NOT_FOUND…)
 * is the real reason; otherwise the browser cannot play the format.
 */
export async function diagnoseMediaError(
  src: string,
  mediaErrorCode: number | undefined,
  fetchFn: FetchFn = (i, init) => globalThis.fetch(i, init),
): Promise<ApiError> {
  try {
    const res = await fetchFn(src, { headers: { Range: 'bytes=0-0' } });
    if (!res.ok) {
      const body: unknown = await res.json().catch(() => null);
      if (isApiErrorBody(body)) return ApiError.fromBody(body, res.status);
      return new ApiError('STREAM_FAILED', `The stream answered HTTP ${res.status}.`, { httpStatus: res.status });
    }
  } catch {
    // Cross-origin or unreachable: fall back to what the element said.
    if (mediaErrorCode === MEDIA_ERR.NETWORK) return new ApiError('STREAM_FAILED', 'The video stopped loading.');
  }
  if (mediaErrorCode === MEDIA_ERR.NETWORK) return new ApiError('STREAM_FAILED', 'The video stopped loading.');
  return new ApiError('PLAYBACK_UNSUPPORTED', 'The browser cannot decode this video.');
}
