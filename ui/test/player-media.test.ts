import { describe, expect, it } from 'vitest';
import { directType, srtToVtt } from '../src/lib/player-media.svelte';
import type { MediaProbe } from '../src/lib/types';

function probe(container: string, video: string, audio: string): MediaProbe {
  return {
    container,
    durationSeconds: 10,
    video: { codec: video, width: 320, height: 180 },
    audioTracks: [{ index: 0, codec: audio, channels: 2, language: null, title: null, default: true }],
    subtitleTracks: [],
    recommended: 'direct',
  };
}

describe('PlayerMedia', () => {
  it('asks the browser about the file with its codecs', () => {
    expect(directType(probe('mp4', 'h264', 'aac'))).toBe('video/mp4; codecs="avc1.640028, mp4a.40.2"');
    expect(directType(probe('matroska', 'vp9', 'opus'))).toBe('video/webm; codecs="vp09.00.10.08, opus"');
    expect(directType(probe('matroska', 'h264', 'ac3'))).toBe('video/webm; codecs="avc1.640028, ac-3"');
    // A codec or container it has no name for: nothing to ask, so not played as it is.
    expect(directType(probe('mp4', 'mpeg4', 'aac'))).toBe('');
    expect(directType(probe('avi', 'h264', 'mp3'))).toBe('');
  });

  it('turns SubRip into WebVTT', () => {
    const srt = '\uFEFF1\r\n00:00:01,500 --> 00:00:04,250\r\nHello\r\n';
    expect(srtToVtt(srt)).toBe('WEBVTT\n\n1\n00:00:01.500 --> 00:00:04.250\nHello\n');
    expect(srtToVtt('WEBVTT\n\n00:01.000 --> 00:02.000\nx\n')).toBe('WEBVTT\n\n00:01.000 --> 00:02.000\nx\n');
  });
});
