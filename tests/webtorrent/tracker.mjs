// bittorrent-tracker's WebSocket tracker alone on 127.0.0.1, for the tests that need a
// WebTorrent swarm: this folder's browser suites and the desktop test.

import { createServer as createHttpsServer } from 'node:https';

// server.js by path: the package exports only its client, whose index pulls in the
// native WebRTC addon.
import Server from './node_modules/bittorrent-tracker/server.js';

import { withTimeout } from '../../ui/e2e/swarm.mjs';

/**
 * bittorrent-tracker's WebSocket tracker alone, on 127.0.0.1 (`port` 0: any). With
 * `tls` ({key, cert}, PEM), it is a wss:// tracker: its WebSocket server takes the
 * upgrades of an HTTPS server of ours (bittorrent-tracker makes only plain HTTP ones).
 */
export async function startWsTracker(port = 0, tls = null) {
  const tracker = new Server({ udp: false, http: false, ws: tls ? { noServer: true } : true, stats: false, interval: 15_000 });
  tracker.on('warning', () => {});
  tracker.on('error', () => {});
  if (tls) {
    // close() closes `tracker.http`: this server.
    tracker.http = createHttpsServer(tls);
    tracker.http.on('upgrade', (req, socket, head) =>
      tracker.ws.handleUpgrade(req, socket, head, (ws) => tracker.ws.emit('connection', ws, req)),
    );
  }
  // Its sockets, so that closing it really drops every peer (ws keeps upgraded ones).
  const sockets = new Set();
  tracker.http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  tracker.sockets = sockets;
  if (tls) await new Promise((r) => tracker.http.listen(port, '127.0.0.1', r));
  else await new Promise((r) => tracker.listen(port, '127.0.0.1', r));
  const p = tracker.http.address().port;
  return { tracker, port: p, url: `${tls ? 'wss' : 'ws'}://127.0.0.1:${p}` };
}

/** Stops the tracker, dropping every connection to it. */
export async function closeTracker(tracker) {
  const closed = new Promise((r) => tracker.close(r));
  for (const socket of tracker.sockets) socket.destroy();
  await withTimeout(closed, 5000, 'the tracker to close').catch(() => {});
}
