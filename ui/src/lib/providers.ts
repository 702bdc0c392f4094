import type { Provider } from './types';

/** Why a new provider cannot be added, or null when it can. */
export function validateProvider(p: Provider, existing: Provider[]): string | null {
  if (!p.name.trim()) return 'Give the provider a name.';
  if (existing.some((x) => x.name.toLowerCase() === p.name.trim().toLowerCase())) {
    return `There is already a provider called “${p.name.trim()}”.`;
  }
  let u: URL;
  try {
    u = new URL(p.url);
  } catch {
    return 'Enter the full address, starting with http:// or https://.';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'The address must start with http:// or https://.';
  return null;
}

/**
 * The list to save with one provider's API key replaced (`key` non-empty) or cleared
 * (`key` empty). The others carry no `apiKey`, so the backend keeps their saved keys.
 */
export function withApiKey(providers: Provider[], name: string, key: string): Provider[] {
  return providers.map((p) => (p.name === name ? { ...p, apiKey: key, hasApiKey: key !== '' } : p));
}
