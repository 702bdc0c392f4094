// How a file plays in this browser: as it is (the stream URL), or as HLS the server makes
// with ffmpeg (remuxed, or transcoded to H.264) played through hls.js; which audio track;
// which subtitles. Decided from the probe and `canPlayType`, then from a real media error.

import Hls from 'hls.js';
import { tick } from 'svelte';
import { ApiError, isApiErrorBody, toApiError } from './errors';
import { madeFromFile } from './transport/http';
import type { Transport } from './transport';
import type { MediaProbe, PlaybackMode, StreamReady, SubtitleTrack } from './types';

/** ffmpeg's codec names as the codecs parameter of a media type. */
const CODECS: Record<string, string> = {
  h264: 'avc1.640028',
  hevc: 'hvc1.1.6.L93.B0',
  vp8: 'vp8',
  vp9: 'vp09.00.10.08',
  av1: 'av01.0.04M.08',
  aac: 'mp4a.40.2',
  mp3: 'mp4a.69',
  opus: 'opus',
  vorbis: 'vorbis',
  flac: 'flac',
  ac3: 'ac-3',
  eac3: 'ec-3',
  dts: 'dtsc',
};

const TEXT_SUBTITLES = ['subrip', 'srt', 'ass', 'ssa', 'webvtt', 'vtt', 'mov_text', 'text'];
const LANGUAGE_KEY = 'cinemahalal.subtitleLanguage';

/** The media type of the file as it is, with codecs, or '' when there is none to ask. */
export function directType(probe: MediaProbe): string {
  const audio = probe.audioTracks.find((a) => a.default) ?? probe.audioTracks[0];
  const codecs = [probe.video?.codec, audio?.codec].filter((c): c is string => !!c).map((c) => CODECS[c]);
  if (codecs.some((c) => !c)) return '';
  const container = probe.container === 'mp4' ? 'video/mp4' : probe.container === 'matroska' ? 'video/webm' : '';
  return container ? `${container}; codecs="${codecs.join(', ')}"` : '';
}

/** Whether this browser's MediaSource decodes the file's video codec (so a remux will do). */
export function canDecodeVideo(probe: MediaProbe): boolean {
  if (!probe.video) return true;
  const codec = CODECS[probe.video.codec];
  return !!codec && typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported(`video/mp4; codecs="${codec}"`);
}

/** SubRip (or WebVTT) text as WebVTT. */
export function srtToVtt(text: string): string {
  const body = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (body.startsWith('WEBVTT')) return body;
  return 'WEBVTT\n\n' + body.replace(/(\d\d:\d\d:\d\d),(\d\d\d)/g, '$1.$2');
}

export interface SubtitleChoice {
  id: string;
  label: string;
  language: string | null;
}

export class PlayerMedia {
  probe = $state<MediaProbe | null>(null);
  /** How the file plays now; null until decided. */
  mode = $state<PlaybackMode | null>(null);
  audio = $state(0);
  /** The `<video>` src for direct play; '' while HLS plays through MediaSource. */
  src = $state('');
  /** Why the file cannot be converted or played, when it cannot. */
  error = $state<ApiError | null>(null);
  /** Why the player left a form for the next one (hls.js's error detail), if it did. */
  fellBack = $state<{ from: PlaybackMode; reason: string } | null>(null);
  subtitles = $state<SubtitleChoice[]>([]);
  subtitle = $state('off');

  private readonly transportOf: () => Transport;
  private readonly viewer = Math.random().toString(36).slice(2, 14);
  private stream: StreamReady | null = null;
  private video: HTMLVideoElement | null = null;
  private hls: Hls | null = null;
  private probeError: ApiError | null = null;
  private track: HTMLTrackElement | null = null;
  private dropped = new Map<string, string>();
  private defaultAudio = 0;

  constructor(transport: () => Transport) {
    this.transportOf = transport;
  }

  private get transport(): Transport {
    return this.transportOf();
  }

  /** Plays `stream` in `video`: probes it, then picks the form this browser plays. */
  async open(stream: StreamReady, video: HTMLVideoElement): Promise<void> {
    this.close();
    this.stream = stream;
    this.video = video;
    this.error = null;
    this.probeError = null;
    this.probe = null;
    this.audio = 0;
    let probe: MediaProbe | null = null;
    try {
      probe = await this.transport.probeMedia(stream.infoHash, stream.fileIndex);
    } catch (err) {
      this.probeError = toApiError(err);
    }
    if (this.stream !== stream) return;
    this.probe = probe;
    if (probe) {
      const def = probe.audioTracks.findIndex((a) => a.default);
      this.defaultAudio = def > 0 ? def : 0;
      this.audio = this.defaultAudio;
      this.subtitles = [
        ...probe.subtitleTracks
          .filter((t) => TEXT_SUBTITLES.includes(t.codec))
          .map((t) => ({ id: t.id, label: subtitleLabel(t), language: t.language })),
      ];
    } else {
      this.subtitles = [];
    }
    this.play(this.decide(), 0);
    const wanted = readLanguage();
    const match = wanted && wanted !== 'off' ? this.subtitles.find((s) => s.language === wanted) : undefined;
    if (match) void this.chooseSubtitle(match.id, false);
  }

  /** The mode for this browser: direct when it says it can play the file, else HLS. */
  private decide(): PlaybackMode {
    const probe = this.probe;
    if (!probe || !this.video) return 'direct';
    const type = directType(probe);
    if (type && this.video.canPlayType(type) !== '' && this.audio === this.defaultAudio) return 'direct';
    return canDecodeVideo(probe) ? 'remux' : 'transcode';
  }

  /** The user forces a form. */
  force(mode: PlaybackMode): void {
    this.play(mode, this.video?.currentTime ?? 0);
  }

  /** Another audio track: a remux (or the transcode) follows it. */
  chooseAudio(index: number): void {
    this.audio = index;
    const mode = this.mode === 'transcode' ? 'transcode' : this.probe && canDecodeVideo(this.probe) ? 'remux' : 'transcode';
    this.play(mode, this.video?.currentTime ?? 0);
  }

  /**
   * A media error of the `<video>`: falls back to the next form (direct → remux →
   * transcode). False when there is none left (the caller then shows the error).
   */
  onMediaError(): boolean {
    const at = this.video?.currentTime ?? 0;
    if (this.mode === 'direct' && this.probe) {
      this.play(canDecodeVideo(this.probe) ? 'remux' : 'transcode', at);
      return true;
    }
    if (this.mode === 'direct' && this.probeError) this.error = this.probeError;
    if (this.mode === 'remux') {
      this.play('transcode', at);
      return true;
    }
    return false;
  }

  private play(mode: PlaybackMode, at: number): void {
    const video = this.video;
    const stream = this.stream;
    if (!video || !stream) return;
    this.destroyHls();
    this.mode = mode;
    this.error = null;
    const resume = () => {
      if (at > 0 && Number.isFinite(at)) video.currentTime = at;
    };
    video.addEventListener('loadedmetadata', resume, { once: true });
    if (mode === 'direct') {
      this.src = stream.streamUrl;
      return;
    }
    const url = madeFromFile(stream, 'hls/index.m3u8', { mode, audio: String(this.audio), viewer: this.viewer });
    if (!Hls.isSupported() && video.canPlayType('application/vnd.apple.mpegurl')) {
      this.src = url;
      return;
    }
    this.src = '';
    video.removeAttribute('src');
    const hls = new Hls({ enableWorker: false, maxBufferLength: 30 });
    this.hls = hls;
    // hls.js gives the <video> a MediaSource through its src; the view removes the src
    // attribute when `this.src` goes '' on a switch from direct play, so attach only
    // once the view has applied that change, or the MediaSource would be taken away.
    void tick().then(() => {
      if (this.hls !== hls) return;
      hls.loadSource(url);
      hls.attachMedia(video);
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal || this.hls !== hls) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        this.fellBack = { from: mode, reason: data.details };
        if (!this.onMediaError()) this.error = new ApiError('PLAYBACK_UNSUPPORTED', 'The browser cannot decode this video.');
        return;
      }
      const failed = data.frag?.url ?? data.url ?? url;
      void explain(failed).then((err) => {
        if (this.hls === hls) this.error = err;
      });
    });
  }

  /** Shows subtitle track `id` ('off' hides them); remembers its language. */
  async chooseSubtitle(id: string, remember = true): Promise<void> {
    this.subtitle = id;
    this.removeTrack();
    const choice = this.subtitles.find((s) => s.id === id);
    if (remember) writeLanguage(id === 'off' ? 'off' : (choice?.language ?? ''));
    if (id === 'off' || !choice || !this.stream || !this.video) return;
    let url = this.dropped.get(id);
    if (!url) {
      try {
        url = await this.transport.subtitleTrackUrl(this.stream, id);
      } catch (err) {
        this.error = toApiError(err);
        return;
      }
    }
    if (this.subtitle !== id || !this.video) return;
    const track = document.createElement('track');
    track.kind = 'subtitles';
    track.label = choice.label;
    if (choice.language) track.srclang = choice.language;
    track.src = url;
    track.default = true;
    this.video.appendChild(track);
    track.track.mode = 'showing';
    this.track = track;
    // A media engine may run its own track selection when its in-band tracks appear or
    // the file loads (WebKitGTK playing an MKV with subtitles disables ours then): the
    // chosen track is shown again whenever the tracks change.
    const video = this.video;
    const keepShowing = () => {
      if (this.track !== track) {
        video.textTracks.removeEventListener('change', keepShowing);
        video.textTracks.removeEventListener('addtrack', keepShowing);
      } else if (track.track.mode !== 'showing') {
        track.track.mode = 'showing';
      }
    };
    track.addEventListener('load', keepShowing);
    video.textTracks.addEventListener('change', keepShowing);
    video.textTracks.addEventListener('addtrack', keepShowing);
  }

  /** A .srt or .vtt file the user dropped on the player: shown at once. */
  async addFile(file: File): Promise<void> {
    const vtt = srtToVtt(await file.text());
    const id = `dropped-${this.dropped.size}`;
    this.dropped.set(id, URL.createObjectURL(new Blob([vtt], { type: 'text/vtt' })));
    this.subtitles = [...this.subtitles, { id, label: file.name, language: null }];
    await this.chooseSubtitle(id, false);
  }

  private removeTrack(): void {
    if (this.track) {
      this.track.track.mode = 'disabled';
      this.track.remove();
      this.track = null;
    }
  }

  private destroyHls(): void {
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
  }

  /** Stops everything: hls.js (its requests end, so does the server's ffmpeg). */
  close(): void {
    this.destroyHls();
    this.removeTrack();
    for (const url of this.dropped.values()) URL.revokeObjectURL(url);
    this.dropped.clear();
    this.stream = null;
    this.mode = null;
    this.src = '';
  }
}

function subtitleLabel(t: SubtitleTrack): string {
  const parts = [t.language, t.title].filter(Boolean);
  const what = t.kind === 'external' ? 'file' : 'embedded';
  return parts.length ? `${parts.join(' · ')} (${what})` : `${t.id} (${what})`;
}

/** The server's JSON error behind a failed HLS request. */
async function explain(url: string): Promise<ApiError> {
  try {
    const res = await fetch(url);
    const body: unknown = await res.json().catch(() => null);
    if (isApiErrorBody(body)) return ApiError.fromBody(body, res.status);
  } catch {
    // Unreachable: said below.
  }
  return new ApiError('STREAM_FAILED', 'The converted video stopped loading.');
}

function readLanguage(): string | null {
  try {
    return globalThis.localStorage?.getItem(LANGUAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

function writeLanguage(language: string): void {
  try {
    globalThis.localStorage?.setItem(LANGUAGE_KEY, language);
  } catch {
    // Storage refused (private mode): the choice is not remembered.
  }
}
