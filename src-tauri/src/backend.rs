//! The in-process backend: the same engine and loopback HTTP server the headless
//! `cinemahalal-server` runs, through the same [`cinemahalal_server::start`].

use std::net::Ipv4Addr;

use cinemahalal_server::config::Config;
use cinemahalal_server::start::{Port, Settings};

/// The desktop's settings: the headless server's, from the environment only (the app
/// takes no flags), e.g. `CINEMAHALAL_DATA_DIR`, `CINEMAHALAL_NO_DHT`, `PORT`.
pub fn config_from_env() -> Result<Config, clap::Error> {
    config_from_args(["cinemahalal-desktop"])
}

/// [`config_from_env`] with arguments too; tests pass flags instead of setting variables.
pub fn config_from_args<I, T>(args: I) -> Result<Config, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    Config::try_parse_from(args)
}

/// The server's settings as the desktop runs them: on 127.0.0.1 whatever
/// `CINEMAHALAL_BIND` says (the page's CSP allows media from 127.0.0.1 only), on `PORT`
/// when it is free and on a free port otherwise (the window is told the URL).
pub fn settings(config: &Config) -> Settings {
    Settings {
        bind: Ipv4Addr::LOCALHOST.into(),
        port: Port::Preferred(config.port),
        ..config.settings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn the_desktop_listens_on_loopback_whatever_the_bind_setting_says() {
        let config = config_from_args(["x", "--bind", "0.0.0.0", "--port", "4321"]).unwrap();
        let settings = settings(&config);
        assert!(settings.bind.is_loopback());
        assert_eq!(settings.port, Port::Preferred(4321));
        let config = config_from_args(["x", "--no-dht"]).unwrap();
        assert!(!super::settings(&config).engine.dht);
    }

    /// The whole backend: started from flags, answering on loopback, stopped.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn starts_serves_health_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_str().unwrap();
        let config = config_from_args([
            "x",
            "--port",
            "0",
            "--data-dir",
            data_dir,
            "--no-dht",
            "--no-local-discovery",
            "--peer-listen",
            "127.0.0.1:0",
            "--search-config",
            dir.path().join("search.toml").to_str().unwrap(),
        ])
        .unwrap();
        let running = tokio::time::timeout(
            Duration::from_secs(30),
            cinemahalal_server::start(settings(&config)),
        )
        .await
        .unwrap()
        .unwrap();
        let addr = running.local_addr();
        assert!(addr.ip().is_loopback());
        assert_eq!(running.api().health().status, "OK");

        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        socket
            .write_all(
                format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(10), socket.read_to_string(&mut answer))
            .await
            .unwrap()
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"status\":\"OK\""), "{answer}");

        tokio::time::timeout(Duration::from_secs(15), running.shutdown())
            .await
            .unwrap();
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "the server still accepts after shutdown"
        );
    }
}
