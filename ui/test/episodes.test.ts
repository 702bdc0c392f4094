import { describe, expect, it } from 'vitest';
import { episodeLabel, episodes, nextEpisode, parseEpisode } from '../src/lib/episodes';
import type { TorrentFile } from '../src/lib/types';

const files = (paths: string[]): TorrentFile[] =>
  paths.map((path, index) => ({ index, path, size: 1000, isVideo: !/\.(srt|nfo|txt)$/.test(path) }));

describe('parseEpisode', () => {
  it('reads SxxEyy, 1x02 and "Episode N"', () => {
    expect(parseEpisode('Show.S01E02.1080p.x264.mkv')).toEqual({ season: 1, episode: 2 });
    expect(parseEpisode('show/s02.e10.mp4')).toEqual({ season: 2, episode: 10 });
    expect(parseEpisode('Show - 1x02 - Title.avi')).toEqual({ season: 1, episode: 2 });
    expect(parseEpisode('Season 3/Episode 7.mkv')).toEqual({ season: 3, episode: 7 });
    expect(parseEpisode('Show Episode 12.mp4')).toEqual({ season: 0, episode: 12 });
    expect(parseEpisode('Show Season 2 Episode 4.mp4')).toEqual({ season: 2, episode: 4 });
  });

  it('does not take resolutions, codecs or years for episodes', () => {
    expect(parseEpisode('Film.2019.1080p.x265.mkv')).toBeNull();
    expect(parseEpisode('Film 720p h264.mp4')).toBeNull();
    expect(parseEpisode('movie.mp4')).toBeNull();
  });

  it('labels episodes', () => {
    expect(episodeLabel({ season: 1, episode: 3 })).toBe('S01E03');
    expect(episodeLabel({ season: 0, episode: 12 })).toBe('E12');
  });
});

describe('episodes and the next one', () => {
  it('orders by season and episode, not by file order, and skips non-videos', () => {
    const list = files(['S01E10.mkv', 'S01E02.mkv', 'S02E01.mkv', 'notes.txt', 'S01E01.mkv']);
    expect(episodes(list).map((e) => e.label)).toEqual(['S01E01', 'S01E02', 'S01E10', 'S02E01']);
    expect(nextEpisode(list, 1)?.label).toBe('S01E10');
    expect(nextEpisode(list, 0)?.file.path).toBe('S02E01.mkv');
    expect(nextEpisode(list, 2)).toBeNull(); // the last one
    expect(nextEpisode(list, 3)).toBeNull(); // not a video
  });

  it('falls back to natural name order when some names have no number', () => {
    const list = files(['part 10.mp4', 'part 2.mp4', 'intro.mp4']);
    expect(episodes(list).map((e) => e.file.path)).toEqual(['intro.mp4', 'part 2.mp4', 'part 10.mp4']);
    expect(nextEpisode(list, 1)?.file.path).toBe('part 10.mp4');
  });

  it('offers nothing in a torrent of one video', () => {
    expect(nextEpisode(files(['film.mkv', 'film.srt']), 0)).toBeNull();
  });
});
