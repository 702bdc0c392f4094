// Player keyboard shortcuts, as a pure function so it can be tested without a DOM.

export type PlayerKeyAction =
  | { kind: 'toggle-play' }
  | { kind: 'seek'; seconds: number }
  | { kind: 'fullscreen' }
  | { kind: 'leave' };

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  target?: unknown;
}

/** True when the key press belongs to a text field, select or editable element. */
export function isTypingTarget(target: unknown): boolean {
  if (!target || typeof target !== 'object') return false;
  const el = target as { tagName?: string; isContentEditable?: boolean; type?: string };
  if (el.isContentEditable) return true;
  const tag = (el.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (el.type ?? 'text').toLowerCase();
    return !['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color', 'file'].includes(type);
  }
  return false;
}

export const SEEK_STEP_SECONDS = 10;

/** space play/pause, ←/→ seek ∓10 s, f full screen, Esc leave; null = not ours. */
export function playerKeyAction(ev: KeyLike): PlayerKeyAction | null {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return null;
  if (isTypingTarget(ev.target)) return null;
  switch (ev.key) {
    case ' ':
    case 'Spacebar':
      return { kind: 'toggle-play' };
    case 'ArrowLeft':
      return { kind: 'seek', seconds: -SEEK_STEP_SECONDS };
    case 'ArrowRight':
      return { kind: 'seek', seconds: SEEK_STEP_SECONDS };
    case 'f':
    case 'F':
      return { kind: 'fullscreen' };
    case 'Escape':
    case 'Esc':
      return { kind: 'leave' };
    default:
      return null;
  }
}
