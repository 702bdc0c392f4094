//! One WebRTC peer: a str0m [`Rtc`] driven by a tokio task over its own UDP sockets,
//! its one data channel exposed as a byte pipe ([`PeerPipe`]).
//!
//! Candidates: a host candidate per local IPv4 address (127.0.0.1 included), and a
//! server-reflexive one when a STUN server answers. A browser names its own host
//! candidates by mDNS (`<uuid>.local`), which is not resolved here: those lines are
//! dropped from its SDP, and its connectivity checks to our candidates make it known
//! to ICE as a peer-reflexive candidate instead.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Once};
use std::task::Poll;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::channel::ChannelId;
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::net::UdpSocket;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use crate::PeerConnection;

/// The data channel of a WebRTC peer as a byte pipe: what is written is sent on the
/// channel, what the channel receives is read. Writes wait while the channel's send
/// buffer is full; reads end (EOF) when the channel or the peer connection closes.
pub type PeerPipe = DuplexStream;

/// The pipe's buffer each way.
const PIPE_BUFFER: usize = 256 * 1024;
/// Messages written to the data channel stay within what every browser accepts.
const MAX_MESSAGE: usize = 16 * 1024;
/// Reading from the pipe stops while the channel holds this much unsent.
const HIGH_WATER: usize = 512 * 1024;
/// What str0m may hold unsent across the channel.
const MAX_BUFFERED: usize = 2 * HIGH_WATER;

/// How WebRTC peers are set up.
#[derive(Debug, Clone)]
pub struct RtcSettings {
    /// `host:port` of STUN servers.
    pub stun_servers: Vec<String>,
    /// A peer whose data channel has not opened by then is dropped.
    pub connect_timeout: Duration,
}

fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
}

#[derive(Debug, thiserror::Error)]
pub enum RtcError {
    #[error("udp: {0}")]
    Io(#[from] io::Error),
    #[error("webrtc: {0}")]
    Rtc(#[from] str0m::RtcError),
    #[error("sdp: {0}")]
    Sdp(String),
}

/// A peer connection not yet running: its `Rtc` and its sockets.
pub(crate) struct Peer {
    rtc: Rtc,
    sockets: Vec<UdpSocket>,
    connect_timeout: Duration,
}

/// Our offer, waiting for the answer a tracker relays.
pub(crate) struct Offerer {
    peer: Peer,
    pending: SdpPendingOffer,
}

impl Peer {
    async fn new(settings: &RtcSettings) -> Result<Peer, RtcError> {
        install_crypto();
        let mut rtc = Rtc::builder()
            .set_sctp_max_buffered_amount(MAX_BUFFERED)
            .build(Instant::now());
        let mut sockets = Vec::new();
        for ip in local_ipv4_addresses() {
            let Ok(socket) = bind_udp(ip) else {
                continue;
            };
            let addr = socket.local_addr()?;
            if let Ok(c) = Candidate::host(addr, "udp") {
                rtc.add_local_candidate(c);
            }
            if !ip.is_loopback()
                && !settings.stun_servers.is_empty()
                && let Some(mapped) =
                    crate::stun::mapped_address(&socket, &settings.stun_servers).await
                && mapped != addr
                && let Ok(c) = Candidate::server_reflexive(mapped, addr, "udp")
            {
                rtc.add_local_candidate(c);
            }
            sockets.push(socket);
        }
        if sockets.is_empty() {
            return Err(RtcError::Io(io::Error::other("no local address to bind")));
        }
        Ok(Peer {
            rtc,
            sockets,
            connect_timeout: settings.connect_timeout,
        })
    }

    /// Runs the peer until its data channel closes, sending the channel's pipe once it
    /// opens. `permit` is held meanwhile (it bounds the peers at once).
    pub(crate) async fn run(
        self,
        peer_id: [u8; 20],
        opened: mpsc::Sender<PeerConnection>,
        permit: OwnedSemaphorePermit,
    ) {
        let _permit = permit;
        if let Err(e) = self.drive(peer_id, opened).await {
            tracing::debug!("webrtc peer ended: {e}");
        }
    }

    async fn drive(
        mut self,
        peer_id: [u8; 20],
        opened: mpsc::Sender<PeerConnection>,
    ) -> Result<(), RtcError> {
        let give_up = Instant::now() + self.connect_timeout;
        let mut channel: Option<ChannelId> = None;
        let mut pipe: Option<(
            tokio::io::ReadHalf<DuplexStream>,
            tokio::io::WriteHalf<DuplexStream>,
        )> = None;
        let mut inbound: Vec<u8> = Vec::new();
        let mut closing = false;
        let mut udp_buf = vec![0u8; 2048];
        let mut out_buf = vec![0u8; MAX_MESSAGE];
        // Read from the pipe but not yet accepted by the channel.
        let mut outbound = 0usize;
        loop {
            if outbound > 0
                && let Some(mut c) = channel.and_then(|id| self.rtc.channel(id))
                && c.write(true, &out_buf[..outbound])?
            {
                outbound = 0;
            }
            let timeout = loop {
                match self.rtc.poll_output()? {
                    Output::Timeout(t) => break t,
                    Output::Transmit(t) => {
                        let socket = self
                            .sockets
                            .iter()
                            .find(|s| s.local_addr().is_ok_and(|a| a == t.source))
                            .unwrap_or(&self.sockets[0]);
                        // Waits while the socket's send buffer is full rather than
                        // dropping the datagram (a lost SACK stalls the sender until
                        // its retransmission timer fires); other errors (an
                        // unreachable candidate) lose only this datagram.
                        let _ = socket.send_to(&t.contents, t.destination).await;
                    }
                    Output::Event(event) => match event {
                        Event::ChannelOpen(id, _label) if channel.is_none() => {
                            channel = Some(id);
                            let (ours, theirs) = tokio::io::duplex(PIPE_BUFFER);
                            pipe = Some(tokio::io::split(ours));
                            if opened
                                .try_send(PeerConnection {
                                    peer_id,
                                    pipe: theirs,
                                })
                                .is_err()
                            {
                                return Ok(());
                            }
                            if let Some(mut c) = self.rtc.channel(id) {
                                c.set_buffered_amount_low_threshold(HIGH_WATER / 2);
                            }
                        }
                        Event::ChannelData(data) if Some(data.id) == channel => {
                            inbound.extend_from_slice(&data.data);
                        }
                        Event::ChannelClose(id) if Some(id) == channel => closing = true,
                        Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                            closing = true
                        }
                        _ => {}
                    },
                }
            };
            if !self.rtc.is_alive() {
                closing = true;
            }
            if closing {
                // What arrived before the close is still delivered.
                if let Some((_, w)) = pipe.as_mut() {
                    let _ = w.write_all(&inbound).await;
                    let _ = w.shutdown().await;
                }
                self.rtc.disconnect();
                return Ok(());
            }
            if channel.is_none() && Instant::now() > give_up {
                return Err(RtcError::Sdp(
                    "the data channel did not open in time".into(),
                ));
            }
            let buffered = channel
                .and_then(|id| self.rtc.channel(id))
                .map(|mut c| c.buffered_amount())
                .unwrap_or(0);
            let can_send = pipe.is_some() && outbound == 0 && buffered < HIGH_WATER;
            let (pipe_rd, pipe_wr) = match pipe.as_mut() {
                Some((r, w)) => (Some(r), Some(w)),
                None => (None, None),
            };
            let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(timeout));
            tokio::select! {
                r = recv_any(&self.sockets, &mut udp_buf) => {
                    if let Ok((n, source, destination)) = r
                        && let Ok(receive) = Receive::new(Protocol::Udp, source, destination, &udp_buf[..n])
                    {
                        self.rtc.handle_input(Input::Receive(Instant::now(), receive))?;
                    }
                }
                _ = sleep => self.rtc.handle_input(Input::Timeout(Instant::now()))?,
                r = async { pipe_rd.unwrap().read(&mut out_buf).await }, if can_send => {
                    match r {
                        // Written to the channel at the top of the loop.
                        Ok(n) if n > 0 => outbound = n,
                        // The pipe's other end closed: so does the channel.
                        _ => closing = true,
                    }
                    if closing {
                        self.rtc.disconnect();
                        return Ok(());
                    }
                }
                r = async { pipe_wr.unwrap().write(&inbound).await }, if !inbound.is_empty() => {
                    match r {
                        Ok(n) => {
                            inbound.drain(..n);
                        }
                        Err(_) => {
                            self.rtc.disconnect();
                            return Ok(());
                        }
                    }
                }
            }
        }
    }
}

impl Offerer {
    /// A new peer connection with one data channel, and its SDP offer.
    pub(crate) async fn new(settings: &RtcSettings) -> Result<(String, Offerer), RtcError> {
        let mut peer = Peer::new(settings).await?;
        let mut api = peer.rtc.sdp_api();
        api.add_channel("cinemahalal".into());
        let (offer, pending) = api
            .apply()
            .ok_or_else(|| RtcError::Sdp("no offer to make".into()))?;
        Ok((offer.to_sdp_string(), Offerer { peer, pending }))
    }

    /// Takes the remote answer: the peer is ready to run.
    pub(crate) fn accept(mut self, answer_sdp: &str) -> Result<Peer, RtcError> {
        let answer = SdpAnswer::from_sdp_string(&usable_sdp(answer_sdp))
            .map_err(|e| RtcError::Sdp(e.to_string()))?;
        self.peer
            .rtc
            .sdp_api()
            .accept_answer(self.pending, answer)?;
        Ok(self.peer)
    }
}

/// Answers a remote offer: the answer's SDP and the peer, ready to run.
pub(crate) async fn answer(
    settings: &RtcSettings,
    offer_sdp: &str,
) -> Result<(String, Peer), RtcError> {
    let offer = SdpOffer::from_sdp_string(&usable_sdp(offer_sdp))
        .map_err(|e| RtcError::Sdp(e.to_string()))?;
    let mut peer = Peer::new(settings).await?;
    let answer = peer.rtc.sdp_api().accept_offer(offer)?;
    Ok((answer.to_sdp_string(), peer))
}

/// The SDP without the candidates str0m cannot use: mDNS names (`*.local`) and TCP.
pub(crate) fn usable_sdp(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        let t = line.trim_end();
        if let Some(c) = t.strip_prefix("a=candidate:") {
            let fields: Vec<&str> = c.split(' ').collect();
            let ip_ok = fields.get(4).is_some_and(|a| a.parse::<IpAddr>().is_ok());
            let udp = fields.get(2).is_some_and(|p| p.eq_ignore_ascii_case("udp"));
            if !ip_ok || !udp {
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

/// The kernel buffers asked for each peer's UDP sockets. A browser sends a whole
/// congestion window at once; while this peer's task waits for a core, the default
/// receive buffer (208 KiB on Linux) overflows, and SCTP answers the lost datagrams
/// with a retransmission timeout and a window back at one packet: seconds of nothing.
/// The kernel caps the size at `net.core.rmem_max`/`wmem_max`.
const SOCKET_BUFFER: usize = 2 * 1024 * 1024;

/// A non-blocking UDP socket on `ip`, any port, with `SOCKET_BUFFER` asked for.
fn bind_udp(ip: Ipv4Addr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    // Best effort: a smaller buffer still works, only with less slack.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::from((ip, 0)).into())?;
    UdpSocket::from_std(socket.into())
}

/// 127.0.0.1 and the IPv4 addresses of the machine's interfaces.
fn local_ipv4_addresses() -> Vec<Ipv4Addr> {
    use network_interface::{Addr, NetworkInterface, NetworkInterfaceConfig};
    let mut ips = vec![Ipv4Addr::LOCALHOST];
    if let Ok(ifaces) = NetworkInterface::show() {
        for iface in ifaces {
            for addr in iface.addr {
                if let Addr::V4(v4) = addr {
                    let ip = v4.ip;
                    if !ip.is_loopback() && !ip.is_link_local() && !ips.contains(&ip) {
                        ips.push(ip);
                    }
                }
            }
        }
    }
    ips
}

/// The next datagram on any of `sockets`: its length, source and the local address it
/// arrived at.
async fn recv_any(
    sockets: &[UdpSocket],
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, SocketAddr)> {
    std::future::poll_fn(|cx| {
        for socket in sockets {
            let mut rb = tokio::io::ReadBuf::new(buf);
            match socket.poll_recv_from(cx, &mut rb) {
                Poll::Ready(Ok(source)) => {
                    let n = rb.filled().len();
                    return Poll::Ready(socket.local_addr().map(|local| (n, source, local)));
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    })
    .await
}

/// Runs `peer` in a task of its own.
pub(crate) fn spawn(
    peer: Peer,
    peer_id: [u8; 20],
    opened: mpsc::Sender<PeerConnection>,
    permit: OwnedSemaphorePermit,
) {
    tokio::spawn(peer.run(peer_id, opened, permit));
}

#[allow(dead_code)]
pub(crate) type Shared = Arc<RtcSettings>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdns_and_tcp_candidates_are_dropped() {
        let sdp = "v=0\r\n\
            a=candidate:1 1 udp 2113937151 3f1c-aa.local 50000 typ host\r\n\
            a=candidate:2 1 udp 2113937151 192.168.1.2 50001 typ host\r\n\
            a=candidate:3 1 tcp 2113937151 192.168.1.2 9 typ host tcptype active\r\n\
            a=end-of-candidates\r\n";
        let out = usable_sdp(sdp);
        assert!(!out.contains(".local"));
        assert!(!out.contains(" tcp "));
        assert!(out.contains("192.168.1.2 50001"));
        assert!(out.ends_with("a=end-of-candidates\r\n"));
    }

    #[tokio::test]
    async fn two_peers_carry_bytes_both_ways_through_their_pipes() {
        let settings = RtcSettings {
            stun_servers: vec![],
            connect_timeout: Duration::from_secs(20),
        };
        let (offer, offerer) = Offerer::new(&settings).await.unwrap();
        let (answer, answering) = super::answer(&settings, &offer).await.unwrap();
        let offering = offerer.accept(&answer).unwrap();
        let slots = Arc::new(tokio::sync::Semaphore::new(2));
        let (tx, mut rx) = mpsc::channel(2);
        spawn(
            offering,
            [1; 20],
            tx.clone(),
            slots.clone().try_acquire_owned().unwrap(),
        );
        spawn(
            answering,
            [2; 20],
            tx,
            slots.clone().try_acquire_owned().unwrap(),
        );
        let a = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap();
        let b = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap();
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (mut a, mut b) = (a.pipe, b.pipe);
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            a.write_all(&sent).await.unwrap();
            a.write_all(b"").await.unwrap();
            let mut back = [0u8; 5];
            a.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"thank");
        });
        let mut got = vec![0u8; data.len()];
        b.read_exact(&mut got).await.unwrap();
        assert!(got == data, "the bytes arrive in order, unchanged");
        b.write_all(b"thank").await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), writer)
            .await
            .unwrap()
            .unwrap();
    }
}
