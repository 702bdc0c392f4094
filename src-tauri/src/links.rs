//! The app as the system's handler of `magnet:` links and `.torrent` files.
//!
//! The desktop entry (`tauri.conf.json`: the deep-link plugin's `magnet` scheme and the
//! bundle's `.torrent` file association, which the bundler writes into the `.desktop`
//! file's `MimeType`) makes the system start `cinemahalal-desktop <link or path>`. The
//! first instance opens it itself; a later one finds the first over D-Bus
//! (tauri-plugin-single-instance), hands it its arguments and exits, and the first opens
//! them. Either way the link becomes the web UI's deep link (`#/play?magnet=…`,
//! `#/play?torrent=<base64>`), which the page opens like any other: nothing here prepares
//! a stream or judges a link beyond recognising it; the backend does, through the page.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tauri::{AppHandle, Manager, Runtime, Webview};

/// The window's label in `tauri.conf.json`.
pub const MAIN_WINDOW: &str = "main";
/// `identifier` in `tauri.conf.json` (a test holds them equal): the base of the D-Bus name.
pub const IDENTIFIER: &str = "app.cinemahalal.desktop";
/// Longest magnet link taken from the command line.
pub const MAX_MAGNET_CHARS: usize = 64 << 10;

/// What a launch asks to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Magnet(String),
    /// A .torrent file's bytes, base64-encoded as `POST /api/stream` takes them, and its name.
    Torrent {
        name: String,
        base64: String,
    },
}

impl Link {
    /// The first magnet link or .torrent file among a launch's arguments (`args[0]`, the
    /// program, is skipped); relative paths are taken from `cwd`.
    pub fn from_args(args: &[String], cwd: &Path) -> Option<Link> {
        args.iter().skip(1).find_map(|arg| Link::from_arg(arg, cwd))
    }

    fn from_arg(arg: &str, cwd: &Path) -> Option<Link> {
        let arg = arg.trim();
        if arg
            .get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("magnet:"))
        {
            return (arg.len() <= MAX_MAGNET_CHARS).then(|| Link::Magnet(arg.to_owned()));
        }
        let path = match url::Url::parse(arg) {
            Ok(url) if url.scheme() == "file" => url.to_file_path().ok()?,
            Ok(url) if url.scheme().len() > 1 => return None, // another scheme (C: is a path)
            _ => PathBuf::from(arg),
        };
        let path = cwd.join(path);
        let is_torrent = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("torrent"));
        if !is_torrent {
            return None;
        }
        let meta = std::fs::metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > cinemahalal_server::wire::MAX_TORRENT_FILE as u64 {
            tracing::warn!("{} is not a .torrent file the app can open", path.display());
            return None;
        }
        let bytes = std::fs::read(&path)
            .map_err(|e| tracing::warn!("reading {}: {e}", path.display()))
            .ok()?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Some(Link::Torrent {
            name,
            base64: data_encoding::BASE64.encode(&bytes),
        })
    }

    /// The web UI's deep link for it (see `ui/src/lib/deeplink.ts`).
    pub fn deep_link(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        match self {
            Link::Magnet(magnet) => query.append_pair("magnet", magnet),
            Link::Torrent { name, base64 } => query
                .append_pair("torrent", base64)
                .append_pair("name", name),
        };
        format!("#/play?{}", query.finish())
    }
}

/// The D-Bus name's base for one data dir: two apps on different data dirs (a test's and
/// the user's) are two instances, the same data dir always one.
pub fn instance_id(data_dir: &Path) -> String {
    // FNV-1a: stable across builds and Rust versions, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in data_dir.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{IDENTIFIER}.i{hash:016x}")
}

/// The deep link waiting for the page to load, and whether it has loaded.
#[derive(Default)]
pub struct Pending {
    state: Mutex<(Option<String>, bool)>,
}

impl Pending {
    pub fn new(first: Option<Link>) -> Pending {
        Pending {
            state: Mutex::new((first.map(|l| l.deep_link()), false)),
        }
    }
}

/// Opens `link` in the main window now if its page has loaded, else once it has.
pub fn open<R: Runtime>(app: &AppHandle<R>, link: Link) {
    let hash = link.deep_link();
    tracing::info!("opening a {} handed over by the system", kind(&link));
    let pending = app.state::<Pending>();
    let mut state = pending.state.lock().unwrap_or_else(|p| p.into_inner());
    if !state.1 {
        state.0 = Some(hash);
        return;
    }
    drop(state);
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.eval(script(&hash));
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Called when the page has loaded: opens the link that waited for it.
pub fn page_loaded<R: Runtime>(webview: &Webview<R>) {
    let pending = webview.state::<Pending>();
    let mut state = pending.state.lock().unwrap_or_else(|p| p.into_inner());
    state.1 = true;
    if let Some(hash) = state.0.take() {
        drop(state);
        let _ = webview.eval(script(&hash));
    }
}

/// Another launch while this one runs: open what it was given, or at least show the window.
pub fn second_launch<R: Runtime>(app: &AppHandle<R>, args: Vec<String>, cwd: String) {
    match Link::from_args(&args, Path::new(&cwd)) {
        Some(link) => open(app, link),
        None => {
            if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }
    }
}

/// Sets the page's hash; the same link again (the page may still show it) is reopened.
fn script(hash: &str) -> String {
    let hash = serde_json::to_string(hash).unwrap_or_default();
    format!(
        "if (window.location.hash === {hash}) {{ window.location.hash = '#/'; }} window.location.hash = {hash};"
    )
}

fn kind(link: &Link) -> &'static str {
    match link {
        Link::Magnet(_) => "magnet link",
        Link::Torrent { .. } => ".torrent file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        std::iter::once("cinemahalal-desktop")
            .chain(list.iter().copied())
            .map(String::from)
            .collect()
    }

    #[test]
    fn magnet_links_and_torrent_files_are_recognised_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let magnet = "magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&dn=A%20B";
        assert_eq!(
            Link::from_args(&args(&[magnet]), dir.path()),
            Some(Link::Magnet(magnet.into()))
        );
        assert_eq!(
            Link::from_args(&args(&["--flag", &magnet.to_uppercase()]), dir.path()),
            Some(Link::Magnet(magnet.to_uppercase()))
        );
        std::fs::write(dir.path().join("Film.torrent"), b"d4:infode").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let torrent = Some(Link::Torrent {
            name: "Film".into(),
            base64: "ZDQ6aW5mb2Rl".into(),
        });
        assert_eq!(
            Link::from_args(&args(&["Film.torrent"]), dir.path()),
            torrent
        );
        let absolute = dir.path().join("Film.torrent");
        let file_url = url::Url::from_file_path(&absolute).unwrap().to_string();
        assert_eq!(Link::from_args(&args(&[&file_url]), dir.path()), torrent);
        for nothing in [
            &[][..],
            &["notes.txt"],
            &["missing.torrent"],
            &["https://example.org/x.torrent"],
        ] {
            assert_eq!(
                Link::from_args(&args(nothing), dir.path()),
                None,
                "{nothing:?}"
            );
        }
        let long = format!("magnet:?xt=urn:btih:{}", "a".repeat(MAX_MAGNET_CHARS));
        assert_eq!(Link::from_args(&args(&[&long]), dir.path()), None);
    }

    #[test]
    fn links_become_the_pages_deep_links() {
        let magnet =
            "magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&dn=A B&x.pe=127.0.0.1:1";
        assert_eq!(
            Link::Magnet(magnet.into()).deep_link(),
            "#/play?magnet=magnet%3A%3Fxt%3Durn%3Abtih%3Ac9e15763f722f23e98a29decdfae341b98d53056%26dn%3DA+B%26x.pe%3D127.0.0.1%3A1"
        );
        let torrent = Link::Torrent {
            name: "Film".into(),
            base64: "ab+/=".into(),
        };
        assert_eq!(torrent.deep_link(), "#/play?torrent=ab%2B%2F%3D&name=Film");
        assert_eq!(
            script("#/x\"y"),
            r##"if (window.location.hash === "#/x\"y") { window.location.hash = '#/'; } window.location.hash = "#/x\"y";"##
        );
    }

    #[test]
    fn one_instance_per_data_dir() {
        let a = instance_id(Path::new("/home/u/.cache/cinemahalal"));
        assert_eq!(a, instance_id(Path::new("/home/u/.cache/cinemahalal")));
        assert_ne!(a, instance_id(Path::new("/tmp/test/data")));
        assert!(a.starts_with("app.cinemahalal.desktop.i") && a.len() == IDENTIFIER.len() + 18);
    }
}
