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
