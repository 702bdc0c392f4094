// The wire types are generated from the Rust ones (contract.ts for the API, commands.ts
// for the desktop's Tauri commands, by ts-rs) and only re-exported here; this file adds
// nothing but what exists in the UI alone.

export type * from './contract';
export type * from './commands';

/** What the search box sends: a title or an IMDb id (never both); a `SearchRequest`. */
export type SearchQuery = { query: string; imdbId?: undefined } | { imdbId: string; query?: undefined };
