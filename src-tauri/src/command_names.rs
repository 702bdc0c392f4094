// The app's own Tauri commands, listed once. `build.rs` includes this file to generate an
// `allow-<name>` permission for each (so the ACL covers exactly these), `lib.rs` registers
// the handlers from the same list, and `ui/src/lib/commands.ts` is generated from
// `COMMANDS` (a test keeps it current), so the page's transport is checked against it.

/// Calls `$then!` with every command's name.
macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            health,
            prepare_stream,
            stream_status,
            probe_media,
            subtitle_vtt,
            list_streams,
            stop_stream,
            open_in_player,
            copy_stream_url,
            search,
            list_providers,
            save_providers,
            test_provider,
            cache_info,
            clear_cache,
            history,
            save_position,
            forget_position,
            clear_history
        }
    };
}

macro_rules! command_names {
    ($($name:ident),*) => {
        /// Every command's name, as the page invokes it.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];
    };
}

with_commands!(command_names);
