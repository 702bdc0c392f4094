//! A peer that serves crafted metadata: a stand-in for a hostile swarm.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A peer on 127.0.0.1 that answers every connection with the BitTorrent handshake, the
/// extension handshake (BEP 10) offering `ut_metadata`, and then the info dictionary it
/// was given, piece by piece (BEP 9), whatever it holds. The torrent's info hash is the
/// SHA-1 of those bytes, so a magnet with [`MetadataPeer::magnet`] accepts them: the
/// metadata is what the torrent really is, however malformed. It has no piece of the
/// torrent's data. Stops when dropped.
pub struct MetadataPeer {
    pub addr: SocketAddr,
    info_hash: [u8; 20],
    task: tokio::task::JoinHandle<()>,
}

/// BEP 9's metadata piece size.
const METADATA_PIECE: usize = 16 * 1024;
/// The extended message id this peer gives `ut_metadata` in its handshake.
const OUR_UT_METADATA: u8 = 3;

impl MetadataPeer {
    /// Serves `info`, the bencoded info dictionary of a torrent.
    pub async fn start(info: Vec<u8>) -> std::io::Result<MetadataPeer> {
        let info_hash = sha1(&info);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let info = std::sync::Arc::new(info);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let info = info.clone();
                tokio::spawn(async move {
                    // A connection that breaks off ends here; the next one is served anew.
                    let _ = serve(socket, info_hash, &info).await;
                });
            }
        });
        Ok(MetadataPeer {
            addr,
            info_hash,
            task,
        })
    }

    /// The info hash, 40 lowercase hex digits.
    pub fn info_hash(&self) -> String {
        self.info_hash.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A magnet naming this torrent, with this peer as its only source (`x.pe`).
    pub fn magnet(&self) -> String {
        format!(
            "magnet:?xt=urn:btih:{}&x.pe={}",
            self.info_hash(),
            self.addr
        )
    }
}

impl Drop for MetadataPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut socket: TcpStream, info_hash: [u8; 20], info: &[u8]) -> std::io::Result<()> {
    // Handshake: theirs first, then ours with the extension protocol bit (BEP 10).
    let mut theirs = [0u8; 68];
    socket.read_exact(&mut theirs).await?;
    let mut ours = Vec::with_capacity(68);
    ours.push(19);
    ours.extend_from_slice(b"BitTorrent protocol");
    ours.extend_from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 0]);
    ours.extend_from_slice(&info_hash);
    ours.extend_from_slice(b"-CHTEST-metadatapeer");
    socket.write_all(&ours).await?;
    let handshake = format!(
        "d1:md11:ut_metadatai{OUR_UT_METADATA}ee13:metadata_sizei{}ee",
        info.len()
    );
    send_extended(&mut socket, 0, handshake.as_bytes()).await?;

    // Their ut_metadata id, from their extension handshake.
    let mut their_id = None;
    loop {
        let mut len = [0u8; 4];
        socket.read_exact(&mut len).await?;
        let mut msg = vec![0u8; u32::from_be_bytes(len) as usize];
        socket.read_exact(&mut msg).await?;
        // Only extended messages (id 20) matter; keep-alives, bitfields, interest: ignored.
        let [20, ext, payload @ ..] = msg.as_slice() else {
            continue;
        };
        if *ext == 0 {
            their_id = number_after(payload, b"11:ut_metadatai").map(|n| n as u8);
        } else if *ext == OUR_UT_METADATA
            && number_after(payload, b"8:msg_typei") == Some(0)
            && let (Some(id), Some(piece)) = (their_id, number_after(payload, b"5:piecei"))
        {
            let start = (piece as usize * METADATA_PIECE).min(info.len());
            let end = (start + METADATA_PIECE).min(info.len());
            let mut data = format!(
                "d8:msg_typei1e5:piecei{piece}e10:total_sizei{}ee",
                info.len()
            )
            .into_bytes();
            data.extend_from_slice(&info[start..end]);
            send_extended(&mut socket, id, &data).await?;
        }
    }
}

async fn send_extended(socket: &mut TcpStream, id: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut msg = ((payload.len() + 2) as u32).to_be_bytes().to_vec();
    msg.extend_from_slice(&[20, id]);
    msg.extend_from_slice(payload);
    socket.write_all(&msg).await
}

/// The integer right after `key` in bencoded `bytes` (keys are unique enough here).
fn number_after(bytes: &[u8], key: &[u8]) -> Option<u64> {
    let at = bytes.windows(key.len()).position(|w| w == key)? + key.len();
    let digits = bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&bytes[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// SHA-1, for the info hash of the crafted metadata.
fn sha1(data: &[u8]) -> [u8; 20] {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    digest.as_ref().try_into().expect("SHA-1 is 20 bytes")
}
