import { describe, expect, it } from 'vitest';
import { HttpTransport, TauriTransport, isTauri, selectTransport } from '../src/lib/transport';

describe('transport selection', () => {
  it('picks Tauri when __TAURI_INTERNALS__ exists', () => {
    const win = { __TAURI_INTERNALS__: { invoke() {} } };
    expect(isTauri(win)).toBe(true);
    expect(selectTransport(win)).toBeInstanceOf(TauriTransport);
    expect(selectTransport(win).kind).toBe('tauri');
  });

  it('picks HTTP in a plain browser', () => {
    expect(isTauri({})).toBe(false);
    expect(isTauri({ __TAURI__: {} })).toBe(false);
    expect(selectTransport({ location: { origin: 'http://x' } })).toBeInstanceOf(HttpTransport);
  });

  it('picks HTTP in this (node) test environment', () => {
    expect(selectTransport().kind).toBe('http');
  });
});
