// Resume positions and "Continue watching": the rules the UI applies to the watch
// history the backend keeps (GET /api/history). The backend decides `watched`.

import { baseName } from './format';
import type { HistoryEntry, StreamInfo, StreamRequest } from './types';
import type { OpenRequest } from './session.svelte';

/** How often the player saves its position while playing. */
export const SAVE_EVERY_MS = 5000;
/** A position this early is not worth resuming (or listing): start from the beginning. */
export const MIN_RESUME_SECONDS = 5;

/** Saves on their way: what reads the history waits for them first. */
const inFlight = new Set<Promise<unknown>>();

/** Registers a save on its way (see `savesSettled`). */
export function trackSave<T>(save: Promise<T>): Promise<T> {
  inFlight.add(save);
  const done = () => inFlight.delete(save);
  save.then(done, done);
  return save;
}

/**
 * Resolves once every save begun so far has been answered: the player saves as it closes,
 * and the screen that follows must list that position, not the one before.
 */
export async function savesSettled(): Promise<void> {
  await Promise.allSettled([...inFlight]);
}

/** The entry of one file, if the history has it. */
export function findEntry(entries: HistoryEntry[], infoHash: string, fileIndex: number): HistoryEntry | undefined {
  const hash = infoHash.toLowerCase();
  return entries.find((e) => e.infoHash === hash && e.fileIndex === fileIndex);
}

/** Where to start a file: its saved position, or 0 when it was watched or barely begun. */
export function resumeAt(entry: HistoryEntry | undefined): number {
  if (!entry || entry.watched || !Number.isFinite(entry.positionSeconds)) return 0;
  return entry.positionSeconds >= MIN_RESUME_SECONDS ? entry.positionSeconds : 0;
}

/** What "Continue watching" lists: begun, not finished, newest first (as the backend orders them). */
export function continueWatching(entries: HistoryEntry[], limit = 12): HistoryEntry[] {
  return entries.filter((e) => resumeAt(e) > 0).slice(0, limit);
}

/** Share of the file watched, 0..1 (0 when the duration is unknown). */
export function watchedShare(entry: Pick<HistoryEntry, 'positionSeconds' | 'durationSeconds'>): number {
  if (!(entry.durationSeconds > 0)) return 0;
  return Math.min(1, Math.max(0, entry.positionSeconds / entry.durationSeconds));
}

/** `1:02:03` or `4:05`. */
export function formatTime(seconds: number): string {
  const s = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** What the history calls a file: its own name in a torrent of several files, else the torrent's. */
export function entryName(stream: Pick<StreamInfo, 'name' | 'videoFile' | 'files'>): string {
  const videos = stream.files.filter((f) => f.isVideo);
  if (videos.length > 1 && stream.videoFile) return baseName(stream.videoFile);
  return stream.name || baseName(stream.videoFile);
}

/** The magnet link a request opened, kept so the entry can be reopened with its peers. */
export function requestMagnet(request: StreamRequest): string | undefined {
  return request.magnet?.trim() || undefined;
}

/** How "Continue watching" reopens an entry: its magnet when it has one, else its hash. */
export function reopenRequest(entry: HistoryEntry): OpenRequest {
  const request: StreamRequest = entry.magnet
    ? { magnet: entry.magnet, fileIndex: entry.fileIndex }
    : { infoHash: entry.infoHash, fileIndex: entry.fileIndex };
  return { request, title: entry.name, infoHash: entry.infoHash };
}
