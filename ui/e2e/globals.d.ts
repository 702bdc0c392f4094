// What swarm.test.mjs records in the page (recordMediaEvents, recordStatusLine).

interface MediaEventRecord {
  type: string;
  /** The video's currentTime at the event. */
  t: number;
  src: string;
  at: number;
}

interface StatusLineRecord {
  at: number;
  state: string | null;
  label: string | null;
  speed: string | null;
  peers: string | null;
  buffered: string | null;
}

interface Window {
  __media: MediaEventRecord[];
  __statusSeen: StatusLineRecord[];
}
