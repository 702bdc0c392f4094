// One open player: prepares the stream, polls its status every second, switches files.

import { ApiError, toApiError } from './errors';
import type { StreamReady, StreamRequest, StreamStatus } from './types';
import type { Transport } from './transport';

export const STATUS_POLL_MS = 1000;

export type Phase = 'preparing' | 'ready' | 'error';

export interface OpenRequest {
  request: StreamRequest;
  /** What to call it before the backend names it (a search result's name). */
  title?: string;
  /** Known up front for magnets, hashes and search results: lets status be polled while preparing. */
  infoHash?: string | null;
}

export class PlayerSession {
  phase = $state<Phase>('preparing');
  title = $state('');
  infoHash = $state<string | null>(null);
  stream = $state<StreamReady | null>(null);
  status = $state<StreamStatus | null>(null);
  error = $state<ApiError | null>(null);
  /** The `<video>` src; empty until the stream is ready. */
  src = $state('');

  /** What the player was opened with (a later file of the same torrent is asked by hash). */
  readonly openedWith: StreamRequest;

  private readonly transport: Transport;
  private request: StreamRequest;
  private generation = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private polling = false;
  private disposed = false;

  constructor(transport: Transport, open: OpenRequest) {
    this.transport = transport;
    this.request = open.request;
    this.openedWith = open.request;
    this.title = open.title ?? '';
    this.infoHash = open.infoHash?.toLowerCase() ?? null;
  }

  /** Prepare the stream and start polling its status. */
  start(): Promise<void> {
    if (this.timer === null && !this.disposed) {
      this.timer = setInterval(() => void this.poll(), STATUS_POLL_MS);
    }
    return this.prepare(this.request);
  }

  /** Play another file of the same torrent (an episode). */
  selectFile(fileIndex: number): Promise<void> {
    const hash = this.stream?.infoHash ?? this.infoHash;
    const request: StreamRequest = hash ? { infoHash: hash, fileIndex } : { ...this.request, fileIndex };
    return this.prepare(request);
  }

  retry(): Promise<void> {
    return this.prepare(this.request);
  }

  /** Stop polling and ignore answers still on their way. */
  dispose(): void {
    this.disposed = true;
    this.generation++;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  get fileIndex(): number | undefined {
    return this.stream?.fileIndex ?? this.request.fileIndex;
  }

  private async prepare(request: StreamRequest): Promise<void> {
    const gen = ++this.generation;
    this.request = request;
    this.phase = 'preparing';
    this.error = null;
    this.src = '';
    this.status = null;
    try {
      // Status polls start with the timer: one sent now would overtake the POST and
      // find no stream yet (404). Once the POST is in, the server answers
      // fetching_metadata until the stream is ready.
      const stream = await this.transport.prepareStream(request);
      if (gen !== this.generation) return;
      this.stream = stream;
      this.infoHash = stream.infoHash.toLowerCase();
      this.title = stream.name || this.title;
      // The server built this URL for where this client reaches it (Host, or a trusted
      // proxy's forwarding headers, or its public URL): the page uses it as it is.
      this.src = stream.streamUrl;
      this.phase = 'ready';
      void this.poll();
    } catch (err) {
      if (gen !== this.generation) return;
      this.error = toApiError(err);
      this.phase = 'error';
    }
  }

  /** One status request; skipped while another is in flight or nothing is known yet. */
  async poll(): Promise<void> {
    if (this.disposed || this.polling || !this.infoHash) return;
    const gen = this.generation;
    this.polling = true;
    try {
      const status = await this.transport.streamStatus(this.infoHash, this.phase === 'ready' ? this.fileIndex : undefined);
      if (gen === this.generation) this.status = status;
    } catch {
      // Status is advisory: before the stream is registered it may be STREAM_NOT_FOUND,
      // and a failing prepare reports its own error. Keep the last good status.
    } finally {
      this.polling = false;
    }
  }
}
