import { describe, expect, it } from 'vitest';
import { isTypingTarget, playerKeyAction } from '../src/lib/keyboard';

describe('player keys', () => {
  it('maps the shortcuts', () => {
    expect(playerKeyAction({ key: ' ' })).toEqual({ kind: 'toggle-play' });
    expect(playerKeyAction({ key: 'ArrowLeft' })).toEqual({ kind: 'seek', seconds: -10 });
    expect(playerKeyAction({ key: 'ArrowRight' })).toEqual({ kind: 'seek', seconds: 10 });
    expect(playerKeyAction({ key: 'f' })).toEqual({ kind: 'fullscreen' });
    expect(playerKeyAction({ key: 'F' })).toEqual({ kind: 'fullscreen' });
    expect(playerKeyAction({ key: 'Escape' })).toEqual({ kind: 'leave' });
    expect(playerKeyAction({ key: 'x' })).toBeNull();
  });

  it('leaves typing and browser shortcuts alone', () => {
    const input = { tagName: 'INPUT', type: 'text' };
    expect(playerKeyAction({ key: ' ', target: input })).toBeNull();
    expect(playerKeyAction({ key: 'Escape', target: input })).toBeNull();
    expect(playerKeyAction({ key: 'f', target: { tagName: 'TEXTAREA' } })).toBeNull();
    expect(playerKeyAction({ key: 'ArrowLeft', target: { tagName: 'SELECT' } })).toBeNull();
    expect(playerKeyAction({ key: 'f', target: { tagName: 'DIV', isContentEditable: true } })).toBeNull();
    expect(playerKeyAction({ key: 'f', ctrlKey: true })).toBeNull();
    expect(playerKeyAction({ key: 'ArrowLeft', altKey: true })).toBeNull();
  });

  it('still acts on buttons, checkboxes and the video', () => {
    expect(isTypingTarget({ tagName: 'INPUT', type: 'checkbox' })).toBe(false);
    expect(playerKeyAction({ key: ' ', target: { tagName: 'BUTTON' } })).toEqual({ kind: 'toggle-play' });
    expect(playerKeyAction({ key: 'ArrowRight', target: { tagName: 'VIDEO' } })).toEqual({ kind: 'seek', seconds: 10 });
  });
});
