//! The WebTorrent tracker protocol over a WebSocket (`ws://`, `wss://`).
//!
//! Messages are JSON objects. `info_hash`, `peer_id`, `to_peer_id` and `offer_id` are
//! binary strings: each byte is one character U+0000..U+00FF. We announce with
//! `numwant` and as many `offers` (SDP of WebRTC peer connections we started); the
//! tracker relays them to other peers, relays their `answer`s back to us, and relays
//! their `offer`s to us, which we answer through it (`to_peer_id`, `offer_id`).
//! Announces repeat every `interval` the tracker gives; the connection is made again,
//! with growing pauses, when the tracker goes away.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;

use crate::rtc::{self, Offerer, RtcSettings};
use crate::{PeerConnection, SwarmConfig};

/// How far the download is, read at each announce.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub downloaded: u64,
    pub uploaded: u64,
    /// Bytes still wanted; `None` while the torrent's size is unknown.
    pub left: Option<u64>,
}

/// What the owner asks of a tracker client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackerEvent {
    /// Announce now, with fresh offers.
    Update,
    /// Leave the swarm (`stopped`) and join it again (`started`) under a new peer id,
    /// with fresh offers: peers that still hold our closed connections would refuse a
    /// new one from the same id.
    Renew,
    /// Announce `completed`.
    Completed,
    /// Announce `stopped` and end.
    Stopped,
}

/// The interval until the tracker says otherwise.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(120);
/// Our offers are forgotten after this long without an answer.
const OFFER_TIMEOUT: Duration = Duration::from_secs(50);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// An SDP description as the browser's `RTCSessionDescription` serialises it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Sdp {
    #[serde(rename = "type")]
    pub kind: String,
    pub sdp: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Offer {
    pub offer_id: String,
    pub offer: Sdp,
}

/// An announce we send.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Announce {
    pub action: &'static str,
    pub info_hash: String,
    pub peer_id: String,
    pub numwant: usize,
    pub uploaded: u64,
    pub downloaded: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<Offer>,
}

/// Our answer to a peer's offer, relayed by the tracker.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Answer {
    pub action: &'static str,
    pub info_hash: String,
    pub peer_id: String,
    pub to_peer_id: String,
    pub offer_id: String,
    pub answer: Sdp,
}

/// Anything a tracker sends: an announce response, a relayed offer or answer, a failure.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Incoming {
    pub action: Option<String>,
    pub info_hash: Option<String>,
    pub peer_id: Option<String>,
    pub offer_id: Option<String>,
    pub offer: Option<Sdp>,
    pub answer: Option<Sdp>,
    pub interval: Option<u64>,
    pub complete: Option<u64>,
    pub incomplete: Option<u64>,
    #[serde(rename = "failure reason")]
    pub failure_reason: Option<String>,
    #[serde(rename = "warning message")]
    pub warning_message: Option<String>,
}

/// Bytes as a binary string: one character per byte.
pub fn to_binary_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

/// A binary string's bytes; `None` when a character is beyond U+00FF.
pub fn from_binary_string(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(c as u32).ok()).collect()
}

/// A binary string of exactly 20 bytes (an info hash, a peer id, an offer id).
pub fn id20(s: &str) -> Option<[u8; 20]> {
    from_binary_string(s)?.try_into().ok()
}

pub(crate) struct TrackerHandle {
    url: String,
    events: mpsc::UnboundedSender<TrackerEvent>,
    /// Why the tracker cannot be used right now, if it cannot.
    problem: Problem,
}

/// The last reason a tracker could not be used (connect failed, TLS refused, the
/// tracker answered a failure), until it next works.
type Problem = Arc<Mutex<Option<String>>>;

impl TrackerHandle {
    pub(crate) fn spawn(
        url: String,
        config: SwarmConfig,
        settings: Arc<RtcSettings>,
        progress: Arc<dyn Fn() -> Progress + Send + Sync>,
        slots: Arc<Semaphore>,
        opened: mpsc::Sender<PeerConnection>,
    ) -> TrackerHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        let problem = Problem::default();
        let client = Client {
            problem: problem.clone(),
            url: url.clone(),
            config,
            settings,
            progress,
            slots,
            opened,
            pending: HashMap::new(),
            interval: DEFAULT_INTERVAL,
            started: false,
        };
        tokio::spawn(client.run(rx));
        TrackerHandle {
            url,
            events: tx,
            problem,
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Why the tracker cannot be used now, if it cannot.
    pub(crate) fn problem(&self) -> Option<String> {
        self.problem.lock().unwrap().clone()
    }

    pub(crate) fn send(&self, event: TrackerEvent) {
        let _ = self.events.send(event);
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Client {
    url: String,
    problem: Problem,
    config: SwarmConfig,
    settings: Arc<RtcSettings>,
    progress: Arc<dyn Fn() -> Progress + Send + Sync>,
    slots: Arc<Semaphore>,
    opened: mpsc::Sender<PeerConnection>,
    /// Our offers awaiting answers, by offer id.
    pending: HashMap<String, (Offerer, Instant)>,
    interval: Duration,
    /// Whether `started` was announced.
    started: bool,
}

enum Ended {
    /// Stopped by its owner.
    Stopped,
    /// The connection was lost or refused.
    Lost,
}

impl Client {
    /// Records why the tracker cannot be used (`None`: it works again). A new reason is
    /// logged as a warning once; the same one again, at every retry, only at debug.
    fn set_problem(&self, problem: Option<String>) {
        let mut current = self.problem.lock().unwrap();
        match &problem {
            Some(p) if current.as_ref() != Some(p) => {
                tracing::warn!(url = %self.url, "websocket tracker: {p}")
            }
            Some(p) => tracing::debug!(url = %self.url, "websocket tracker: {p}"),
            None => {}
        }
        *current = problem;
    }

    async fn run(mut self, mut events: mpsc::UnboundedReceiver<TrackerEvent>) {
        let mut backoff = Duration::from_secs(1);
        loop {
            let connected = tokio::time::timeout(Duration::from_secs(10), connect(&self.url)).await;
            match connected {
                Ok(Ok(mut ws)) => {
                    tracing::debug!(url = %self.url, "websocket tracker connected");
                    self.set_problem(None);
                    backoff = Duration::from_secs(1);
                    match self.session(&mut ws, &mut events).await {
                        Ended::Stopped => return,
                        Ended::Lost => {
                            tracing::info!(url = %self.url, "websocket tracker connection lost")
                        }
                    }
                }
                Ok(Err(e)) => self.set_problem(Some(e.to_string())),
                Err(_) => self.set_problem(Some("connecting timed out".into())),
            }
            // Wait before trying again; a stop meanwhile ends the client.
            let wake = tokio::time::sleep(backoff);
            tokio::pin!(wake);
            loop {
                tokio::select! {
                    _ = &mut wake => break,
                    e = events.recv() => match e {
                        None | Some(TrackerEvent::Stopped) => return,
                        Some(_) => {}
                    },
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection: announce, then answer what comes until it ends.
    async fn session(
        &mut self,
        ws: &mut Socket,
        events: &mut mpsc::UnboundedReceiver<TrackerEvent>,
    ) -> Ended {
        let first = if self.started { None } else { Some("started") };
        if self.announce(ws, first, true).await.is_err() {
            return Ended::Lost;
        }
        self.started = true;
        let mut next = tokio::time::Instant::now() + self.interval;
        loop {
            tokio::select! {
                msg = ws.next() => match msg {
                    Some(Ok(Message::Text(text))) => {
                        let Ok(incoming) = serde_json::from_str::<Incoming>(&text) else {
                            tracing::debug!(url = %self.url, "unreadable tracker message");
                            continue;
                        };
                        if let Some(i) = incoming.interval {
                            let interval = Duration::from_secs(i.clamp(10, 3600));
                            if interval != self.interval {
                                self.interval = interval;
                                next = tokio::time::Instant::now() + interval;
                            }
                        }
                        if self.handle(ws, incoming).await.is_err() {
                            return Ended::Lost;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ended::Lost,
                    Some(Ok(_)) => {}
                },
                e = events.recv() => {
                    let result = match e {
                        Some(TrackerEvent::Update) => self.announce(ws, None, true).await,
                        Some(TrackerEvent::Renew) => {
                            let left = self.announce(ws, Some("stopped"), false).await;
                            self.config.peer_id = crate::random_peer_id();
                            match left {
                                Ok(()) => self.announce(ws, Some("started"), true).await,
                                Err(()) => Err(()),
                            }
                        }
                        Some(TrackerEvent::Completed) => self.announce(ws, Some("completed"), false).await,
                        None | Some(TrackerEvent::Stopped) => {
                            let _ = self.announce(ws, Some("stopped"), false).await;
                            let _ = ws.close(None).await;
                            return Ended::Stopped;
                        }
                    };
                    if result.is_err() {
                        return Ended::Lost;
                    }
                }
                _ = tokio::time::sleep_until(next) => {
                    next = tokio::time::Instant::now() + self.interval;
                    if self.announce(ws, None, true).await.is_err() {
                        return Ended::Lost;
                    }
                }
            }
        }
    }

    /// Sends an announce, with fresh offers when `with_offers` and peer slots are free.
    async fn announce(
        &mut self,
        ws: &mut Socket,
        event: Option<&'static str>,
        with_offers: bool,
    ) -> Result<(), ()> {
        let now = Instant::now();
        self.pending
            .retain(|_, (_, at)| now.duration_since(*at) < OFFER_TIMEOUT);
        let mut offers = Vec::new();
        if with_offers && event != Some("stopped") {
            let wanted = self
                .config
                .offers_per_announce
                .min(self.slots.available_permits());
            for _ in 0..wanted {
                match Offerer::new(&self.settings).await {
                    Ok((sdp, offerer)) => {
                        let id: [u8; 20] = rand::random();
                        let offer_id = to_binary_string(&id);
                        self.pending.insert(offer_id.clone(), (offerer, now));
                        offers.push(Offer {
                            offer_id,
                            offer: Sdp {
                                kind: "offer".into(),
                                sdp,
                            },
                        });
                    }
                    Err(e) => {
                        tracing::warn!("making a webrtc offer: {e}");
                        break;
                    }
                }
            }
        }
        let p = (self.progress)();
        let announce = Announce {
            action: "announce",
            info_hash: to_binary_string(&self.config.info_hash),
            peer_id: to_binary_string(&self.config.peer_id),
            numwant: offers.len(),
            uploaded: p.uploaded,
            downloaded: p.downloaded,
            left: p.left,
            event,
            offers,
        };
        let text = serde_json::to_string(&announce).expect("an announce serialises");
        ws.send(Message::text(text)).await.map_err(|_| ())
    }

    /// A message from the tracker. Errors only when the socket fails.
    async fn handle(&mut self, ws: &mut Socket, m: Incoming) -> Result<(), ()> {
        if let Some(reason) = &m.failure_reason {
            self.set_problem(Some(format!("refused: {reason}")));
            return Ok(());
        }
        if let Some(w) = &m.warning_message {
            tracing::debug!(url = %self.url, "websocket tracker warning: {w}");
        }
        if m.info_hash.as_deref().and_then(id20) != Some(self.config.info_hash) {
            return Ok(());
        }
        let Some(peer_id) = m.peer_id.as_deref().and_then(id20) else {
            return Ok(());
        };
        if peer_id == self.config.peer_id {
            return Ok(());
        }
        if let (Some(offer), Some(offer_id)) = (&m.offer, &m.offer_id) {
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                return Ok(());
            };
            match rtc::answer(&self.settings, &offer.sdp).await {
                Ok((sdp, peer)) => {
                    let answer = Answer {
                        action: "announce",
                        info_hash: to_binary_string(&self.config.info_hash),
                        peer_id: to_binary_string(&self.config.peer_id),
                        to_peer_id: to_binary_string(&peer_id),
                        offer_id: offer_id.clone(),
                        answer: Sdp {
                            kind: "answer".into(),
                            sdp,
                        },
                    };
                    let text = serde_json::to_string(&answer).expect("an answer serialises");
                    ws.send(Message::text(text)).await.map_err(|_| ())?;
                    rtc::spawn(peer, peer_id, self.opened.clone(), permit);
                }
                Err(e) => tracing::debug!("answering a webrtc offer: {e}"),
            }
        } else if let (Some(answer), Some(offer_id)) = (&m.answer, &m.offer_id) {
            let Some((offerer, _)) = self.pending.remove(offer_id) else {
                return Ok(());
            };
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                return Ok(());
            };
            match offerer.accept(&answer.sdp) {
                Ok(peer) => rtc::spawn(peer, peer_id, self.opened.clone(), permit),
                Err(e) => tracing::debug!("a webrtc answer: {e}"),
            }
        }
        Ok(())
    }
}

async fn connect(url: &str) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let (ws, _) = tokio_tungstenite::connect_async(url).await?;
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn binary_strings_keep_every_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        let s = to_binary_string(&bytes);
        assert_eq!(s.chars().count(), 256);
        assert_eq!(from_binary_string(&s).unwrap(), bytes);
        assert_eq!(from_binary_string("\u{100}"), None);
        assert_eq!(id20("short"), None);
        // JSON keeps them: control characters are escaped, the rest is UTF-8.
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<String>(&json).unwrap(), s);
    }

    #[test]
    fn incoming_messages_decode() {
        let hash = [0xffu8; 20];
        let text = serde_json::json!({
            "action": "announce",
            "info_hash": to_binary_string(&hash),
            "peer_id": to_binary_string(&[b'a'; 20]),
            "offer_id": to_binary_string(&[1; 20]),
            "offer": {"type": "offer", "sdp": "v=0"},
        })
        .to_string();
        let m: Incoming = serde_json::from_str(&text).unwrap();
        assert_eq!(m.info_hash.as_deref().and_then(id20), Some(hash));
        assert_eq!(m.offer.unwrap().kind, "offer");
        let m: Incoming =
            serde_json::from_str(r#"{"failure reason":"invalid info_hash"}"#).unwrap();
        assert_eq!(m.failure_reason.as_deref(), Some("invalid info_hash"));
        let m: Incoming = serde_json::from_str(
            r#"{"action":"announce","interval":120,"complete":1,"incomplete":0}"#,
        )
        .unwrap();
        assert_eq!(m.interval, Some(120));
    }

    /// A tracker on loopback that records what it receives and answers our offer with
    /// an answer made by a second peer connection, like a browser would.
    #[tokio::test]
    async fn announces_offers_answers_and_stops_against_a_local_tracker() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let info_hash = [0x11u8; 20];
        let (seen_tx, mut seen) = mpsc::unbounded_channel::<serde_json::Value>();
        tokio::spawn(async move {
            // The first connection is dropped right after the first announce: the
            // client must come back.
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            let Some(Ok(Message::Text(t))) = ws.next().await else {
                panic!()
            };
            seen_tx.send(serde_json::from_str(&t).unwrap()).unwrap();
            drop(ws);
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            let settings = RtcSettings {
                stun_servers: vec![],
                connect_timeout: Duration::from_secs(20),
            };
            let mut browser_pipe = None;
            let (bt, mut brx) = mpsc::channel(1);
            while let Some(Ok(msg)) = ws.next().await {
                let Message::Text(t) = msg else { continue };
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                seen_tx.send(v.clone()).unwrap();
                if let Some(offers) = v["offers"].as_array()
                    && browser_pipe.is_none()
                {
                    let offer = &offers[0];
                    let (sdp, peer) =
                        rtc::answer(&settings, offer["offer"]["sdp"].as_str().unwrap())
                            .await
                            .unwrap();
                    let permit = Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap();
                    rtc::spawn(peer, [b'b'; 20], bt.clone(), permit);
                    let reply = serde_json::json!({
                        "action": "announce",
                        "info_hash": v["info_hash"],
                        "peer_id": to_binary_string(&[b'b'; 20]),
                        "offer_id": offer["offer_id"],
                        "answer": {"type": "answer", "sdp": sdp},
                    });
                    ws.send(Message::text(reply.to_string())).await.unwrap();
                    browser_pipe = Some(brx.recv().await.unwrap());
                }
            }
            drop(browser_pipe);
        });
        let mut config = SwarmConfig::new(info_hash, vec![url]);
        config.offers_per_announce = 2;
        let progress: Arc<dyn Fn() -> Progress + Send + Sync> = Arc::new(|| Progress {
            downloaded: 5,
            uploaded: 7,
            left: Some(100),
        });
        let (swarm, mut peers) = crate::Swarm::start(config.clone(), progress);

        let first = seen.recv().await.unwrap();
        assert_eq!(first["action"], "announce");
        assert_eq!(first["event"], "started");
        assert_eq!(id20(first["info_hash"].as_str().unwrap()), Some(info_hash));
        assert_eq!(
            id20(first["peer_id"].as_str().unwrap()),
            Some(config.peer_id)
        );
        assert_eq!(first["numwant"], 2);
        assert_eq!(first["left"], 100);
        assert_eq!(first["uploaded"], 7);
        let offers = first["offers"].as_array().unwrap();
        assert_eq!(offers.len(), 2);
        assert_eq!(offers[0]["offer"]["type"], "offer");
        assert!(
            offers[0]["offer"]["sdp"]
                .as_str()
                .unwrap()
                .contains("webrtc-datachannel")
        );
        assert!(id20(offers[0]["offer_id"].as_str().unwrap()).is_some());

        // After the reconnect: an announce without `started`, then a data channel.
        let again = tokio::time::timeout(Duration::from_secs(10), seen.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(again.get("event").is_none(), "{again}");
        let peer = tokio::time::timeout(Duration::from_secs(20), peers.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(peer.peer_id, [b'b'; 20]);

        swarm.completed();
        let completed = seen.recv().await.unwrap();
        assert_eq!(completed["event"], "completed");
        assert!(completed.get("offers").is_none());
        drop(swarm);
        let stopped = seen.recv().await.unwrap();
        assert_eq!(stopped["event"], "stopped");
    }
}
