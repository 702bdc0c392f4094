// Episodes in a torrent of several videos: which file is which episode (S01E02, 1x02,
// "Episode 2", or failing those the file names' order), and which one comes next.

import { baseName } from './format';
import type { TorrentFile } from './types';

export interface EpisodeNumber {
  /** 0 when the name gives no season. */
  season: number;
  episode: number;
}

export interface Episode extends EpisodeNumber {
  file: TorrentFile;
  /** `S01E03`, `E03`, or the file's name when it has no number. */
  label: string;
}

const PATTERNS: RegExp[] = [
  /(?:^|[^a-z0-9])s(\d{1,3})[ ._-]?e(\d{1,4})(?![0-9])/i, // S01E02, s1.e2
  /(?:^|[^a-z0-9])(\d{1,2})x(\d{1,3})(?![0-9])/i, // 1x02
  /(?:^|[^a-z])season[ ._-]*(\d{1,3})[ ._-]*(?:episode|ep)[ ._-]*(\d{1,4})(?![0-9])/i,
];
const EPISODE_ONLY = /(?:^|[^a-z])(?:episode|ep|e)[ ._-]*(\d{1,4})(?![0-9])/i;
const SEASON_DIR = /(?:^|[^a-z])(?:season|s)[ ._-]*(\d{1,3})(?![0-9])/i;

/** The season and episode a file's path names, if it names them. */
export function parseEpisode(path: string): EpisodeNumber | null {
  const name = baseName(path).replace(/\.[a-z0-9]{2,4}$/i, '');
  // Resolutions and codecs look like numbers: take them out first.
  const clean = name.replace(/\b(?:\d{3,4}p|[xh]\.?26[45]|\d{1,2}bit)\b/gi, ' ');
  for (const re of PATTERNS) {
    const m = re.exec(clean);
    if (m) return { season: Number(m[1]), episode: Number(m[2]) };
  }
  const m = EPISODE_ONLY.exec(clean);
  if (m) {
    const dirs = path.split('/').slice(0, -1).reverse();
    const season = dirs.map((d) => SEASON_DIR.exec(d)).find((x) => x);
    return { season: season ? Number(season[1]) : 0, episode: Number(m[1]) };
  }
  return null;
}

export function episodeLabel(n: EpisodeNumber): string {
  const e = `E${String(n.episode).padStart(2, '0')}`;
  return n.season > 0 ? `S${String(n.season).padStart(2, '0')}${e}` : e;
}

/**
 * The videos of a torrent in viewing order: by season and episode when every video has
 * a number, else by path (natural order: "2" before "10").
 */
export function episodes(files: TorrentFile[]): Episode[] {
  const videos = files.filter((f) => f.isVideo);
  const numbered = videos.map((file) => ({ file, n: parseEpisode(file.path) }));
  const natural = (a: TorrentFile, b: TorrentFile) =>
    a.path.localeCompare(b.path, undefined, { numeric: true, sensitivity: 'base' });
  if (numbered.every((x) => x.n)) {
    return numbered
      .map(({ file, n }) => ({ file, ...n!, label: episodeLabel(n!) }))
      .sort((a, b) => a.season - b.season || a.episode - b.episode || natural(a.file, b.file));
  }
  return videos
    .slice()
    .sort(natural)
    .map((file) => {
      const n = parseEpisode(file.path);
      return { file, season: n?.season ?? 0, episode: n?.episode ?? 0, label: n ? episodeLabel(n) : baseName(file.path) };
    });
}

/** The episode after file `fileIndex`, if the torrent is a series and there is one. */
export function nextEpisode(files: TorrentFile[], fileIndex: number): Episode | null {
  const list = episodes(files);
  if (list.length < 2) return null;
  const at = list.findIndex((e) => e.file.index === fileIndex);
  return at >= 0 && at + 1 < list.length ? list[at + 1] : null;
}
