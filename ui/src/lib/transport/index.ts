import { HttpTransport } from './http';
import { TauriTransport } from './tauri';
import type { Transport } from './transport';

export type { Transport } from './transport';
export { HttpTransport } from './http';
export { TauriTransport } from './tauri';

/** True inside the Tauri webview (Tauri v2 injects `__TAURI_INTERNALS__`). */
export function isTauri(win: unknown = globalThis): boolean {
  return typeof win === 'object' && win !== null && '__TAURI_INTERNALS__' in win && !!(win as any).__TAURI_INTERNALS__;
}

/** Tauri commands inside the desktop app, same-origin `/api` everywhere else. */
export function selectTransport(win: unknown = globalThis): Transport {
  return isTauri(win) ? new TauriTransport() : new HttpTransport();
}
