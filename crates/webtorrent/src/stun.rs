//! The address a STUN server sees a UDP socket at (RFC 5389 binding request), for a
//! server-reflexive candidate. Used only when STUN servers are configured.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;

const MAGIC: u32 = 0x2112_A442;

/// The mapped address from the first of `servers` that answers within a second.
pub(crate) async fn mapped_address(socket: &UdpSocket, servers: &[String]) -> Option<SocketAddr> {
    for server in servers {
        let Ok(Some(addr)) = tokio::net::lookup_host(server.as_str())
            .await
            .map(|mut a| a.find(|a| a.is_ipv4()))
        else {
            continue;
        };
        let txid: [u8; 12] = rand::random();
        if socket.send_to(&request(&txid), addr).await.is_err() {
            continue;
        }
        let mut buf = [0u8; 512];
        let answer = tokio::time::timeout(Duration::from_secs(1), async {
            loop {
                let (n, from) = socket.recv_from(&mut buf).await.ok()?;
                if from == addr
                    && let Some(mapped) = parse_response(&buf[..n], &txid)
                {
                    return Some(mapped);
                }
            }
        })
        .await;
        if let Ok(Some(mapped)) = answer {
            return Some(mapped);
        }
    }
    None
}

/// A binding request with transaction id `txid`.
pub(crate) fn request(txid: &[u8; 12]) -> Vec<u8> {
    let mut m = Vec::with_capacity(20);
    m.extend_from_slice(&0x0001u16.to_be_bytes());
    m.extend_from_slice(&0u16.to_be_bytes());
    m.extend_from_slice(&MAGIC.to_be_bytes());
    m.extend_from_slice(txid);
    m
}

/// The (XOR-)MAPPED-ADDRESS of a binding success response to `txid`.
pub(crate) fn parse_response(m: &[u8], txid: &[u8; 12]) -> Option<SocketAddr> {
    if m.len() < 20
        || m[0..2] != [0x01, 0x01]
        || m[4..8] != MAGIC.to_be_bytes()
        || &m[8..20] != txid
    {
        return None;
    }
    let len = u16::from_be_bytes([m[2], m[3]]) as usize;
    let body = m.get(20..20 + len)?;
    let mut at = 0;
    let mut plain = None;
    while at + 4 <= body.len() {
        let kind = u16::from_be_bytes([body[at], body[at + 1]]);
        let alen = u16::from_be_bytes([body[at + 2], body[at + 3]]) as usize;
        let value = body.get(at + 4..at + 4 + alen)?;
        match kind {
            0x0020 => return address(value, Some(txid)),
            0x0001 => plain = address(value, None),
            _ => {}
        }
        at += 4 + alen.div_ceil(4) * 4;
    }
    plain
}

fn address(v: &[u8], xor_txid: Option<&[u8; 12]>) -> Option<SocketAddr> {
    if v.len() < 8 {
        return None;
    }
    let cookie = MAGIC.to_be_bytes();
    let mut port = u16::from_be_bytes([v[2], v[3]]);
    if xor_txid.is_some() {
        port ^= (MAGIC >> 16) as u16;
    }
    let ip = match v[1] {
        0x01 => {
            let mut o = [v[4], v[5], v[6], v[7]];
            if xor_txid.is_some() {
                for (b, c) in o.iter_mut().zip(cookie) {
                    *b ^= c;
                }
            }
            IpAddr::V4(Ipv4Addr::from(o))
        }
        0x02 if v.len() >= 20 => {
            let mut o: [u8; 16] = v[4..20].try_into().ok()?;
            if let Some(txid) = xor_txid {
                let key: Vec<u8> = cookie.iter().chain(txid.iter()).copied().collect();
                for (b, k) in o.iter_mut().zip(key) {
                    *b ^= k;
                }
            }
            IpAddr::V6(Ipv6Addr::from(o))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_local_stun_server_reports_the_socket_address() {
        // A minimal STUN server on loopback answering with XOR-MAPPED-ADDRESS.
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(n, 20);
            let SocketAddr::V4(from4) = from else {
                panic!()
            };
            let mut r = vec![0x01, 0x01, 0, 12];
            r.extend_from_slice(&buf[4..20]);
            r.extend_from_slice(&[0x00, 0x20, 0, 8, 0, 0x01]);
            r.extend_from_slice(&(from.port() ^ (MAGIC >> 16) as u16).to_be_bytes());
            let ip = u32::from(*from4.ip()) ^ MAGIC;
            r.extend_from_slice(&ip.to_be_bytes());
            server.send_to(&r, from).await.unwrap();
        });
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mapped = mapped_address(&socket, &[server_addr.to_string()]).await;
        assert_eq!(mapped, Some(socket.local_addr().unwrap()));
    }

    #[test]
    fn a_response_to_another_request_is_ignored() {
        let txid = [7u8; 12];
        let mut r = vec![0x01, 0x01, 0, 0];
        r.extend_from_slice(&MAGIC.to_be_bytes());
        r.extend_from_slice(&[8u8; 12]);
        assert_eq!(parse_response(&r, &txid), None);
        assert_eq!(request(&txid).len(), 20);
    }
}
