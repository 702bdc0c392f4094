// The app's own Tauri commands. Shared by build.rs (which generates an `allow-<name>`
// permission for each, so the ACL covers them) and by the tests that check that
// capabilities/ grants exactly these.
pub const COMMANDS: &[&str] = &[
    "health",
    "prepare_stream",
    "stream_status",
    "list_streams",
    "stop_stream",
    "open_in_player",
    "copy_stream_url",
    "search",
    "list_providers",
    "save_providers",
    "test_provider",
];
