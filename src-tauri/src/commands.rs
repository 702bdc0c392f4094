//! The Tauri commands the page calls: each delegates to [`Api`], the facade the HTTP
//! handlers call too. Errors reach the page as `{"status":"ERROR","code","message"}`.
//!
//! JavaScript passes camelCase arguments (`infoHash`, `fileIndex`); Tauri maps them to
//! these snake_case parameters.

use std::sync::Arc;

use cinemahalal_engine::{CacheInfo, StreamStatus};
use cinemahalal_media::MediaProbe;
use cinemahalal_search::{Provider, SearchResponse};
use cinemahalal_server::wire::{
    CacheCleared, Health, HistoryEntry, HistoryForgotten, HistoryList, ProviderList, ProviderTest,
    ProviderTestResult, SavePosition, SearchRequest, Stopped, StreamList, StreamReady,
    StreamRequest,
};
use cinemahalal_server::{Api, ApiError, ErrorCode};
use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

/// What every command shares.
pub struct Desktop {
    pub api: Arc<Api>,
    /// `http://127.0.0.1:<port>`: stream URLs are built on it, in Rust, never from the page.
    pub base_url: String,
}

type Result<T> = std::result::Result<T, ApiError>;

#[tauri::command]
pub fn health(state: State<'_, Desktop>) -> Result<Health> {
    Ok(state.api.health())
}

#[tauri::command]
pub async fn prepare_stream(
    state: State<'_, Desktop>,
    request: StreamRequest,
) -> Result<StreamReady> {
    state.api.prepare_stream(request, &state.base_url).await
}

#[tauri::command]
pub fn stream_status(
    state: State<'_, Desktop>,
    info_hash: String,
    file_index: Option<usize>,
) -> Result<StreamStatus> {
    state.api.stream_status(&info_hash, file_index)
}

/// What one file of a stream holds (codecs, tracks, duration).
#[tauri::command]
pub async fn probe_media(
    state: State<'_, Desktop>,
    info_hash: String,
    file_index: usize,
) -> Result<MediaProbe> {
    state.api.probe_media(&info_hash, file_index).await
}

/// A subtitle track as WebVTT text: the page makes a `blob:` track of it (the loopback
/// server's .vtt is of another origin than the window, which a `<track>` refuses).
#[tauri::command]
pub async fn subtitle_vtt(
    state: State<'_, Desktop>,
    info_hash: String,
    file_index: usize,
    track: String,
) -> Result<String> {
    Ok(state
        .api
        .subtitle_vtt(&info_hash, file_index, &track)
        .await?
        .to_string())
}

#[tauri::command]
pub fn list_streams(state: State<'_, Desktop>) -> Result<StreamList> {
    Ok(state.api.list_streams(&state.base_url))
}

#[tauri::command]
pub async fn stop_stream(state: State<'_, Desktop>, info_hash: String) -> Result<Stopped> {
    state.api.stop_stream(&info_hash).await
}

/// What the cache of played torrents holds, and its cap.
#[tauri::command]
pub async fn cache_info(state: State<'_, Desktop>) -> Result<CacheInfo> {
    Ok(state.api.cache_info().await)
}

/// Deletes every cached torrent that is not streaming now.
#[tauri::command]
pub async fn clear_cache(state: State<'_, Desktop>) -> Result<CacheCleared> {
    Ok(state.api.clear_cache().await)
}

/// Where every file was left, most recently watched first.
#[tauri::command]
pub fn history(state: State<'_, Desktop>) -> Result<HistoryList> {
    Ok(state.api.history())
}

/// Records where the player is in one file.
#[tauri::command]
pub fn save_position(
    state: State<'_, Desktop>,
    info_hash: String,
    file_index: usize,
    position: SavePosition,
) -> Result<HistoryEntry> {
    state.api.save_position(&info_hash, file_index, position)
}

/// Forgets where one file was left.
#[tauri::command]
pub fn forget_position(
    state: State<'_, Desktop>,
    info_hash: String,
    file_index: usize,
) -> Result<HistoryForgotten> {
    state.api.forget_position(&info_hash, file_index)
}

/// Forgets the whole watch history.
#[tauri::command]
pub fn clear_history(state: State<'_, Desktop>) -> Result<HistoryForgotten> {
    state.api.clear_history()
}

/// Searches the enabled providers for a title (`query`) or an IMDb id (`imdbId`).
#[tauri::command]
pub async fn search(
    state: State<'_, Desktop>,
    query: Option<String>,
    imdb_id: Option<String>,
) -> Result<SearchResponse> {
    state.api.search(SearchRequest { query, imdb_id }).await
}

#[tauri::command]
pub fn list_providers(state: State<'_, Desktop>) -> Result<ProviderList> {
    Ok(state.api.list_providers())
}

#[tauri::command]
pub fn save_providers(state: State<'_, Desktop>, providers: Vec<Provider>) -> Result<ProviderList> {
    state.api.save_providers(ProviderList { providers })
}

#[tauri::command]
pub async fn test_provider(
    state: State<'_, Desktop>,
    provider: Provider,
) -> Result<ProviderTestResult> {
    state.api.test_provider(ProviderTest { provider }).await
}

/// Opens a prepared stream in the system's default player, VLC or mpv.
#[tauri::command]
pub async fn open_in_player<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Desktop>,
    info_hash: String,
    file_index: Option<usize>,
    player: String,
) -> Result<()> {
    let player = Player::parse(&player)?;
    let url = state
        .api
        .stream_url(&info_hash, file_index, &state.base_url)?;
    player.launch(&app, &url)
}

/// Puts a prepared stream's URL on the clipboard, from Rust (the page has no clipboard
/// permission), and returns it.
#[tauri::command]
pub fn copy_stream_url<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Desktop>,
    info_hash: String,
    file_index: Option<usize>,
) -> Result<String> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    let url = state
        .api
        .stream_url(&info_hash, file_index, &state.base_url)?;
    app.clipboard().write_text(url.clone()).map_err(|e| {
        ApiError::new(
            ErrorCode::ClipboardFailed,
            format!("could not write to the clipboard: {e}"),
        )
    })?;
    Ok(url)
}

/// The external players `open_in_player` knows, by the names the page sends; any other
/// name is refused with `INVALID_REQUEST` before anything runs. (The command takes the
/// name as a string so that a bad one gets the API's error shape, not Tauri's.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Player {
    /// Whatever the system opens http URLs with.
    Default,
    Vlc,
    Mpv,
}

impl Player {
    pub fn parse(name: &str) -> Result<Player> {
        serde_json::from_value(serde_json::Value::from(name)).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("unknown player {name:?}: use \"default\", \"vlc\" or \"mpv\""),
            )
        })
    }

    /// The program and its arguments; the URL is one argument, never parsed by a shell.
    pub fn program(self, url: &str) -> Option<(&'static str, Vec<String>)> {
        match self {
            Player::Default => None,
            Player::Vlc => Some(("vlc", vec!["--".into(), url.into()])),
            Player::Mpv => Some((
                "mpv",
                vec!["--force-window=immediate".into(), "--".into(), url.into()],
            )),
        }
    }

    fn launch<R: Runtime>(self, app: &AppHandle<R>, url: &str) -> Result<()> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            ApiError::new(ErrorCode::PlayerFailed, format!("{what}: {e}"))
        };
        let Some((program, args)) = self.program(url) else {
            return open::that_detached(url)
                .map_err(|e| failed("could not open the default player", &e));
        };
        use tauri_plugin_shell::ShellExt;
        use tauri_plugin_shell::process::CommandEvent;
        let (mut events, _child) = app
            .shell()
            .command(program)
            .args(args)
            .spawn()
            .map_err(|e| failed(&format!("could not start {program} (is it installed?)"), &e))?;
        // Drain the player's output (a full pipe would stall it) until it exits.
        tauri::async_runtime::spawn(async move {
            while let Some(event) = events.recv().await {
                match event {
                    CommandEvent::Stderr(line) => {
                        tracing::debug!("{program}: {}", String::from_utf8_lossy(&line).trim_end())
                    }
                    CommandEvent::Terminated(t) => {
                        tracing::info!("{program} exited ({:?})", t.code)
                    }
                    CommandEvent::Error(e) => tracing::warn!("{program}: {e}"),
                    _ => {}
                }
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn players_parse_and_pass_the_url_as_one_argument() {
        assert_eq!(Player::parse("default").unwrap(), Player::Default);
        assert_eq!(Player::parse("vlc").unwrap(), Player::Vlc);
        assert_eq!(Player::parse("mpv").unwrap(), Player::Mpv);
        assert!(Player::parse("VLC").is_err());
        let err = Player::parse("sh -c reboot").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["status"], "ERROR");
        assert_eq!(json["code"], "INVALID_REQUEST");
        assert!(json["message"].as_str().unwrap().contains("unknown player"));

        let url = "http://127.0.0.1:3001/api/stream/abc";
        assert_eq!(Player::Default.program(url), None);
        let (program, args) = Player::Vlc.program(url).unwrap();
        assert_eq!(program, "vlc");
        assert_eq!(args.last().unwrap(), url);
        assert_eq!(args[args.len() - 2], "--", "options end before the URL");
        let (program, args) = Player::Mpv.program(url).unwrap();
        assert_eq!(program, "mpv");
        assert_eq!(args.last().unwrap(), url);
    }
}
