//! CinemaHalal's desktop app: a Tauri window over the same engine and loopback HTTP server
//! the headless `cinemahalal-server` runs, started in-process.
//!
//! - [`backend`]: starts the engine and the server on 127.0.0.1 (port 3001, or a free one),
//!   stops them on exit.
//! - [`commands`]: the Tauri commands the page calls, each a delegation to `Api`.
//! - [`links`]: the app as the handler of `magnet:` links and `.torrent` files, one
//!   instance per data dir.
//! - The page's reach is set by `../tauri.conf.json` (CSP) and `capabilities/` (the app's
//!   own commands only).

pub mod backend;
#[macro_use]
mod command_names;
pub mod commands;
pub mod links;

pub use command_names::COMMANDS;

use cinemahalal_server::config::init_logging;
use cinemahalal_server::start::{runtime, shutdown_signal};
use commands::Desktop;
use tauri::Manager;

/// Registers the handler of every command in `command_names.rs`.
macro_rules! handlers {
    ($($name:ident),*) => {
        tauri::generate_handler![$(commands::$name),*]
    };
}

/// Starts the backend, opens the window, and stops streams when the app quits. A
/// launch while another instance runs on the same data dir hands that instance its
/// arguments (a magnet link, a .torrent file) and exits before starting anything.
pub fn run() -> anyhow::Result<()> {
    let config = backend::config_from_env().unwrap_or_else(|e| e.exit());
    init_logging(config.log_format, "info");
    // The backend's runtime, which Tauri's commands share; kept until the app ends.
    let runtime = runtime()?;
    tauri::async_runtime::set(runtime.handle().clone());

    let args: Vec<String> = std::env::args().collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let first_link = links::Link::from_args(&args, &cwd);
    // Listening from now on: a signal that comes while the window is still being made
    // is kept, not fatal.
    let quit = {
        let runtime = tauri::async_runtime::handle();
        let _inside = runtime.inner().enter();
        shutdown_signal()
    };

    // Plugins start in `build`: there a second instance hands its arguments to the first
    // and exits, so the backend starts only after it.
    let app = tauri::Builder::default()
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(links::instance_id(&config.data_dir()))
                .callback(links::second_launch)
                .build(),
        )
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_shell::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .manage(links::Pending::new(first_link))
        .invoke_handler(with_commands!(handlers))
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                links::page_loaded(webview);
            }
        })
        .setup(move |app| {
            // An AppImage is not installed: it registers the scheme itself.
            if std::env::var_os("APPIMAGE").is_some() {
                use tauri_plugin_deep_link::DeepLinkExt;
                if let Err(e) = app.deep_link().register_all() {
                    tracing::warn!("could not register as the magnet link handler: {e}");
                }
            }
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                quit.await;
                tracing::info!("signal received: quitting");
                handle.exit(0);
            });
            Ok(())
        })
        .build(tauri::generate_context!("../tauri.conf.json"))?;

    let backend =
        tauri::async_runtime::block_on(cinemahalal_server::start(backend::settings(&config)))?;
    app.manage(Desktop {
        api: backend.api().clone(),
        base_url: backend.base_url(),
    });

    let mut backend = Some(backend);
    app.run(move |_, event| {
        if let tauri::RunEvent::Exit = event
            && let Some(backend) = backend.take()
        {
            tauri::async_runtime::block_on(backend.shutdown());
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::COMMANDS;
    use serde_json::Value;

    fn capabilities() -> Vec<Value> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/capabilities");
        let mut all = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            all.push(
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
            );
        }
        all
    }

    fn config() -> Value {
        serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap()
    }

    #[test]
    fn the_window_gets_exactly_the_apps_own_commands() {
        let mut granted: Vec<String> = Vec::new();
        for cap in capabilities() {
            for p in cap["permissions"].as_array().unwrap() {
                let id = p.as_str().or_else(|| p["identifier"].as_str()).unwrap();
                // No plugin permission (shell, opener, clipboard, fs...) and no remote URLs.
                assert!(
                    !id.contains(':') || id == "core:default",
                    "capability grants {id}"
                );
                granted.push(id.to_owned());
            }
            assert!(
                cap.get("remote").is_none(),
                "a capability reaches remote pages"
            );
        }
        let mut wanted: Vec<String> = COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        granted.retain(|g| g != "core:default");
        granted.sort();
        wanted.sort();
        assert_eq!(granted, wanted);
    }

    #[test]
    fn the_csp_allows_media_and_connections_only_from_loopback() {
        let config = config();
        let csp = &config["app"]["security"]["csp"];
        assert_eq!(csp["default-src"], "'self'");
        assert_eq!(csp["script-src"], "'self'");
        // blob: is the MediaSource hls.js plays converted video through (and subtitle
        // tracks the page fetched), never a remote origin.
        assert_eq!(csp["media-src"], "http://127.0.0.1:* blob:");
        assert_eq!(
            csp["connect-src"],
            "ipc: http://ipc.localhost http://127.0.0.1:*"
        );
        assert_eq!(config["build"]["frontendDist"], "ui/dist");
        assert_eq!(config["app"]["withGlobalTauri"], false);
    }

    /// The page's transport imports `COMMANDS` and `Player` from this generated file,
    /// so a command it invokes that the list lacks fails the UI's type check.
    #[test]
    fn the_checked_in_typescript_commands_are_current() {
        use cinemahalal_server::contract::{assert_generated_file, config, declaration};
        let names: Vec<String> = COMMANDS.iter().map(|c| format!("\"{c}\"")).collect();
        let generated = format!(
            "// The desktop app's Tauri commands, generated from src-tauri/src/command_names.rs by\n\
             // src-tauri/src/lib.rs's tests. Do not edit: `cargo test -p cinemahalal-desktop` rewrites it.\n\n\
             export const COMMANDS = [{}] as const;\n\n\
             export type Command = (typeof COMMANDS)[number];\n\n\
             {}\n",
            names.join(", "),
            declaration::<crate::commands::Player>(&config()),
        );
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/commands.ts");
        assert_generated_file(&path, &generated);
    }

    #[test]
    fn the_app_handles_magnet_links_and_torrent_files() {
        let config = config();
        assert_eq!(config["identifier"], crate::links::IDENTIFIER);
        assert_eq!(
            config["plugins"]["deep-link"]["desktop"]["schemes"],
            serde_json::json!(["magnet"])
        );
        let torrent = &config["bundle"]["fileAssociations"][0];
        assert_eq!(torrent["ext"], serde_json::json!(["torrent"]));
        assert_eq!(torrent["mimeType"], "application/x-bittorrent");
        // The installed desktop entry says so to the system, and takes the link.
        let template = &config["bundle"]["linux"]["deb"]["desktopTemplate"];
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let entry =
            std::fs::read_to_string(std::path::Path::new(root).join(template.as_str().unwrap()))
                .unwrap();
        assert!(
            entry
                .lines()
                .any(|l| l == "MimeType=x-scheme-handler/magnet;application/x-bittorrent;"),
            "{entry}"
        );
        assert!(entry.lines().any(|l| l == "Exec={{exec}} %u"), "{entry}");
    }

    #[test]
    fn every_bundled_icon_exists() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        for icon in config()["bundle"]["icon"].as_array().unwrap() {
            let path = std::path::Path::new(root).join(icon.as_str().unwrap());
            assert!(path.is_file(), "{} is missing", path.display());
        }
    }
}
