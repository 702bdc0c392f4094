//! A peer that says nothing: a stand-in for a swarm where metadata never comes.

use std::net::SocketAddr;

/// A TCP peer on 127.0.0.1 that accepts connections and never says a word, so metadata
/// never comes from it and librqbit keeps waiting on it. Stops when dropped.
pub struct SilentPeer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl SilentPeer {
    pub async fn start() -> std::io::Result<SilentPeer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        Ok(SilentPeer { addr, task })
    }
}

impl Drop for SilentPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
