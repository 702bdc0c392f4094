// The desktop app's Tauri commands, generated from src-tauri/src/command_names.rs by
// src-tauri/src/lib.rs's tests. Do not edit: `cargo test -p cinemahalal-desktop` rewrites it.

export const COMMANDS = ["health", "prepare_stream", "stream_status", "list_streams", "stop_stream", "open_in_player", "copy_stream_url", "search", "list_providers", "save_providers", "test_provider"] as const;

export type Command = (typeof COMMANDS)[number];

/**
 * The external players `open_in_player` knows; any other name is refused by the
 * command's argument parsing, before anything runs.
 */
export type Player = "default" | "vlc" | "mpv";
