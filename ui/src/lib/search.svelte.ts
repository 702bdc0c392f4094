// The search screen's state; it outlives the screen so results are kept while playing.

import { ApiError, toApiError } from './errors';
import { toSearchQuery } from './format';
import type { ProviderFailure, SearchQuery, SearchResult } from './types';
import type { Transport } from './transport';

export class SearchModel {
  input = $state('');
  /** The "play a magnet link or info hash" field, kept so a rejected link can be corrected. */
  pasted = $state('');
  results = $state<SearchResult[]>([]);
  failedProviders = $state<ProviderFailure[]>([]);
  error = $state<ApiError | null>(null);
  loading = $state(false);
  /** The last query sent (null before the first search). */
  lastQuery = $state<SearchQuery | null>(null);

  private readonly transport: Transport;
  private generation = 0;

  constructor(transport: Transport) {
    this.transport = transport;
  }

  async run(): Promise<void> {
    if (!this.input.trim()) return;
    const q = toSearchQuery(this.input);
    const gen = ++this.generation;
    this.loading = true;
    this.error = null;
    this.lastQuery = q;
    try {
      const res = await this.transport.search(q);
      if (gen !== this.generation) return;
      this.results = res.results;
      this.failedProviders = res.failedProviders;
    } catch (err) {
      if (gen !== this.generation) return;
      this.results = [];
      this.failedProviders = [];
      this.error = toApiError(err);
    } finally {
      if (gen === this.generation) this.loading = false;
    }
  }
}
