// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = cinemahalal_desktop::run() {
        eprintln!("cinemahalal-desktop: {e:#}");
        std::process::exit(1);
    }
}
