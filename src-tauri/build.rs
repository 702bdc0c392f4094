// tauri-build reads `tauri.conf.json` from this crate's directory: that file is a symlink
// to the top-level `../tauri.conf.json`, the one `generate_context!` embeds (whose
// relative paths, `ui/dist` and `icons/`, are from the top level).
include!("src/command_names.rs");

fn main() {
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=src/command_names.rs");
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS))
        .windows_attributes(
            tauri_build::WindowsAttributes::new().window_icon_path("../icons/icon.ico"),
        );
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri-build: {e:#}");
    }
}
