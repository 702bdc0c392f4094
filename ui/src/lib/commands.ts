// The desktop app's Tauri commands, generated from src-tauri/src/command_names.rs by
// src-tauri/src/lib.rs's tests. Do not edit: `cargo test -p cinemahalal-desktop` rewrites it.

export const COMMANDS = ["health", "prepare_stream", "stream_status", "probe_media", "subtitle_vtt", "list_streams", "stop_stream", "open_in_player", "copy_stream_url", "search", "list_providers", "save_providers", "test_provider", "cache_info", "clear_cache", "history", "save_position", "forget_position", "clear_history"] as const;

export type Command = (typeof COMMANDS)[number];

/**
 * The external players `open_in_player` knows, by the names the page sends; any other
 * name is refused with `INVALID_REQUEST` before anything runs. (The command takes the
 * name as a string so that a bad one gets the API's error shape, not Tauri's.)
 */
export type Player = "default" | "vlc" | "mpv";
