//! The server's settings: command-line flags, each with an environment variable, and
//! their defaults (the constants below and the engine's, which the README's table shows).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use cinemahalal_engine::EngineConfig;
use cinemahalal_engine::config::{
    DEFAULT_CACHE_MAX_BYTES, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_READERS, DEFAULT_MAX_STREAMS,
    DEFAULT_METADATA_TIMEOUT, DEFAULT_NO_SEEDS_TIMEOUT, DEFAULT_PEER_LISTEN,
};
use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser, ValueEnum};
use ipnet::IpNet;

use crate::base_url::{BaseUrlPolicy, DEFAULT_TRUSTED_PROXIES, parse_public_url};
use crate::media::{DEFAULT_MAX_TRANSCODES, DEFAULT_TRANSCODE_IDLE_TIMEOUT, MediaSettings};
use crate::search::SearchSetup;
use crate::security::SecuritySettings;
use crate::start::{Port, Settings};

/// The HTTP API's port, as the original spec has it.
pub const DEFAULT_PORT: u16 = 3001;
/// The HTTP API listens on loopback only, unless told otherwise.
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[derive(Debug, Clone, Parser)]
#[command(
    name = "cinemahalal-server",
    version,
    about = "Streams torrents over HTTP with Range support, for browsers and media players."
)]
pub struct Config {
    /// TCP port of the HTTP API.
    #[arg(long, env = "PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,
    /// Address to bind the HTTP API to.
    #[arg(long, env = "CINEMAHALAL_BIND", default_value_t = DEFAULT_BIND)]
    pub bind: IpAddr,
    /// Where downloads and the DHT routing table live [default: the platform cache dir].
    #[arg(long, env = "CINEMAHALAL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Seconds a magnet link may take to yield metadata (then METADATA_TIMEOUT).
    #[arg(long, env = "CINEMAHALAL_METADATA_TIMEOUT", default_value_t = DEFAULT_METADATA_TIMEOUT.as_secs())]
    pub metadata_timeout: u64,
    /// Seconds a new stream may wait for its first peer (then NO_SEEDS).
    #[arg(long, env = "CINEMAHALAL_NO_SEEDS_TIMEOUT", default_value_t = DEFAULT_NO_SEEDS_TIMEOUT.as_secs())]
    pub no_seeds_timeout: u64,
    /// Seconds without any request after which a stream is stopped (its data stays in the cache).
    #[arg(long, env = "CINEMAHALAL_IDLE_TIMEOUT", default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs())]
    pub idle_timeout: u64,
    /// Media responses open at once, across all streams.
    #[arg(long, env = "CINEMAHALAL_MAX_READERS", default_value_t = DEFAULT_MAX_READERS)]
    pub max_readers: usize,
    /// Streams at once, counting those being prepared (one more is TOO_MANY_STREAMS).
    #[arg(long, env = "CINEMAHALAL_MAX_STREAMS", default_value_t = DEFAULT_MAX_STREAMS)]
    pub max_streams: usize,
    /// Bytes the cache of played torrents may hold; it also always leaves 1 GiB free on its disk.
    #[arg(long, env = "CINEMAHALAL_CACHE_MAX_BYTES", default_value_t = DEFAULT_CACHE_MAX_BYTES)]
    pub cache_max_bytes: u64,
    /// Do not use the DHT (peers then come from trackers and links only).
    #[arg(long, env = "CINEMAHALAL_NO_DHT", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub no_dht: bool,
    /// Do not announce or look for peers on the LAN by multicast.
    #[arg(long, env = "CINEMAHALAL_NO_LOCAL_DISCOVERY", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub no_local_discovery: bool,
    /// Do not talk to WebSocket trackers nor exchange pieces with WebRTC (browser) peers.
    #[arg(long, env = "CINEMAHALAL_NO_WEBRTC", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub no_webrtc: bool,
    /// STUN servers (`host:port`, comma-separated) for a server-reflexive WebRTC candidate.
    #[arg(
        long = "stun-server",
        env = "CINEMAHALAL_STUN_SERVERS",
        value_delimiter = ','
    )]
    pub stun_servers: Vec<String>,
    /// Where to accept incoming peers (TCP and uTP).
    #[arg(long, env = "CINEMAHALAL_PEER_LISTEN", default_value_t = DEFAULT_PEER_LISTEN)]
    pub peer_listen: SocketAddr,
    /// A built web UI to serve at `/` [default: `ui/dist` of the source tree, if present].
    #[arg(long, env = "CINEMAHALAL_UI_DIR")]
    pub ui_dir: Option<PathBuf>,
    /// The URL clients reach this server at, behind a reverse proxy
    /// (e.g. `https://tv.example.org`); `streamUrl`s start with it.
    #[arg(long, env = "PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// Proxies whose Forwarded / X-Forwarded-Host / X-Forwarded-Proto headers are
    /// believed: IP addresses or CIDR ranges, comma-separated. Empty trusts none.
    #[arg(long, env = "CINEMAHALAL_TRUSTED_PROXIES", value_delimiter = ',', default_value = DEFAULT_TRUSTED_PROXIES, value_parser = parse_net)]
    pub trusted_proxies: Vec<IpNet>,
    /// The search providers file [default: the platform config dir's cinemahalal/search.toml].
    /// Providers can also come from CINEMAHALAL_TORZNAB_URL, CINEMAHALAL_TORZNAB_APIKEY,
    /// CINEMAHALAL_STREMIO_ADDONS and CINEMAHALAL_ARCHIVE=off.
    #[arg(long, env = "CINEMAHALAL_SEARCH_CONFIG")]
    pub search_config: Option<PathBuf>,
    /// A secret every request must carry, as `Authorization: Bearer <token>` or as the
    /// password of HTTP Basic authentication (`http://user:<token>@host/…`). Required to
    /// bind an address other than loopback; at least 16 characters.
    #[arg(long, env = "CINEMAHALAL_ACCESS_TOKEN", hide_env_values = true)]
    pub access_token: Option<String>,
    /// Host names requests may use besides 127.0.0.1, localhost, [::1] and PUBLIC_URL's
    /// host, comma-separated (`name` for any port, or `name:port`).
    #[arg(
        long = "allowed-host",
        env = "CINEMAHALAL_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
    /// The ffmpeg program that remuxes and transcodes what a browser cannot play.
    #[arg(long, env = "CINEMAHALAL_FFMPEG", default_value = "ffmpeg")]
    pub ffmpeg: PathBuf,
    /// The ffprobe program that reads what a file holds.
    #[arg(long, env = "CINEMAHALAL_FFPROBE", default_value = "ffprobe")]
    pub ffprobe: PathBuf,
    /// Seconds an ffmpeg job may produce nothing before it is stopped (TRANSCODE_FAILED).
    #[arg(long, env = "CINEMAHALAL_TRANSCODE_IDLE_TIMEOUT", default_value_t = DEFAULT_TRANSCODE_IDLE_TIMEOUT.as_secs())]
    pub transcode_idle_timeout: u64,
    /// ffmpeg and ffprobe processes at once (one more waits, then TOO_MANY_TRANSCODES).
    #[arg(long, env = "CINEMAHALAL_MAX_TRANSCODES", default_value_t = DEFAULT_MAX_TRANSCODES)]
    pub max_transcodes: usize,
    /// Log lines for people (`human`) or for log collectors (`json`). Filter with RUST_LOG.
    #[arg(long, env = "CINEMAHALAL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

impl Config {
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            dht: !self.no_dht,
            local_peer_discovery: !self.no_local_discovery,
            webrtc: !self.no_webrtc,
            stun_servers: self.stun_servers.clone(),
            peer_listen: Some(self.peer_listen),
            metadata_timeout: Duration::from_secs(self.metadata_timeout),
            no_seeds_timeout: Duration::from_secs(self.no_seeds_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_readers: self.max_readers.max(1),
            max_streams: self.max_streams.max(1),
            cache_max_bytes: self.cache_max_bytes,
            ..EngineConfig::new(self.data_dir())
        }
    }

    pub fn search_setup(&self) -> SearchSetup {
        SearchSetup {
            file: self
                .search_config
                .clone()
                .or_else(cinemahalal_search::SearchConfig::default_path),
            env_overrides: true,
        }
    }

    /// What [`crate::start`] runs: the headless server binds exactly `--bind`:`--port`.
    pub fn settings(&self) -> Settings {
        Settings {
            engine: self.engine_config(),
            bind: self.bind,
            port: Port::Exactly(self.port),
            search: self.search_setup(),
            base_url: self.base_url_policy(),
            ui_dir: self.ui_dir(),
            security: SecuritySettings {
                access_token: self.access_token.clone().filter(|t| !t.is_empty()),
                allowed_hosts: self.allowed_hosts.clone(),
            },
            media: MediaSettings {
                tools: cinemahalal_media::Tools {
                    ffmpeg: self.ffmpeg.clone(),
                    ffprobe: self.ffprobe.clone(),
                },
                idle_timeout: Duration::from_secs(self.transcode_idle_timeout.max(1)),
                max_transcodes: self.max_transcodes.max(1),
            },
        }
    }

    pub fn base_url_policy(&self) -> BaseUrlPolicy {
        BaseUrlPolicy::new(self.public_url.clone(), self.trusted_proxies.clone())
    }

    pub fn ui_dir(&self) -> Option<PathBuf> {
        self.ui_dir.clone().or_else(|| {
            let built = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist");
            built.join("index.html").is_file().then_some(built)
        })
    }
}

/// An IP range, or a single address (a /32 or /128).
fn parse_net(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a CIDR range"))
}

/// `$XDG_CACHE_HOME/cinemahalal` or the platform's equivalent.
pub fn default_data_dir() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("cinemahalal")
}

/// Sets up tracing for every program of ours: lines to standard error (a desktop app's
/// stdout is often no terminal; service managers collect both), filtered by RUST_LOG or
/// else `default_filter`, in the chosen format. A second call changes nothing.
pub fn init_logging(format: LogFormat, default_filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The README's table of flags is the user's manual: every flag is in it, with its
    /// variable and the default clap really applies (from the constants above).
    #[test]
    fn the_readme_table_lists_every_flag_with_its_variable_and_default() {
        let readme = include_str!("../../../README.md");
        let rows: Vec<&str> = readme
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with("| `--"))
            .collect();
        for arg in Config::command().get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let flag = format!("`--{long}");
            let row = rows
                .iter()
                .find(|r| r.contains(&format!("{flag}`")) || r.contains(&format!("{flag} ")))
                .unwrap_or_else(|| panic!("README's table has no row for {flag}`"));
            let cells: Vec<&str> = row.split(" | ").map(str::trim).collect();
            if let Some(env) = arg.get_env() {
                let env = format!("`{}`", env.to_str().unwrap());
                assert!(cells[1].contains(&env), "{flag}`: no {env} in {row}");
            }
            if let Some(default) = arg.get_default_values().first() {
                let default = match default.to_str().unwrap() {
                    "false" => "off",
                    other => other,
                };
                assert!(
                    cells[2].contains(default),
                    "{flag}`: README shows {:?}, clap applies {default:?}",
                    cells[2]
                );
            }
        }
    }

    #[test]
    fn flags_and_their_defaults() {
        let c = Config::try_parse_from([
            "cinemahalal-server",
            "--no-dht",
            "--trusted-proxies",
            "10.0.0.0/8,192.168.1.7",
        ])
        .unwrap();
        assert!(c.no_dht && !c.no_local_discovery);
        assert_eq!(c.port, 3001);
        assert_eq!(c.trusted_proxies.len(), 2);
        assert_eq!(c.engine_config().max_streams, DEFAULT_MAX_STREAMS);
        assert_eq!(c.engine_config().cache_max_bytes, 10 << 30);
        let c = Config::try_parse_from(["x", "--max-streams", "3", "--cache-max-bytes", "1048576"])
            .unwrap();
        assert_eq!(c.engine_config().max_streams, 3);
        assert_eq!(c.engine_config().cache_max_bytes, 1 << 20);
        assert!(Config::try_parse_from(["x", "--trusted-proxies", "nope"]).is_err());
        assert!(Config::try_parse_from(["x", "--public-url", "ftp://a"]).is_err());
        let c = Config::try_parse_from(["x", "--public-url", "https://tv.example.org/"]).unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://tv.example.org"));
    }
}
