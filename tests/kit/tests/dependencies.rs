//! ARCHITECTURE.md's dependency invariants, read from the workspace's manifests through
//! `cargo metadata`: a crate that gains a forbidden dependency fails this test.
//!
//! - the engine never depends on an HTTP crate (axum, hyper, tower, reqwest, …) or tauri;
//! - search never on librqbit, axum or tauri;
//! - no crate but the engine and the test kit depends on librqbit (tests included);
//! - `cinemahalal-magnet`, when present, on neither librqbit nor an HTTP crate;
//! - `cinemahalal-media` (ffprobe, ffmpeg) on neither librqbit, an HTTP crate nor tauri;
//! - no crate but the engine depends on `cinemahalal-webtorrent` (tests included), and
//!   it depends on neither librqbit, an HTTP crate nor tauri.
//!
//! The rules look at each crate's own (direct) dependencies: librqbit itself speaks HTTP
//! to trackers, and that is its business.

use std::process::Command;

use serde_json::{Value, json};

const ENGINE: &str = "cinemahalal-engine";
const SEARCH: &str = "cinemahalal-search";
const TESTKIT: &str = "cinemahalal-testkit";
const MAGNET: &str = "cinemahalal-magnet";
const MEDIA: &str = "cinemahalal-media";
const WEBTORRENT: &str = "cinemahalal-webtorrent";

fn is_http(dep: &str) -> bool {
    [
        "axum",
        "axum-core",
        "hyper",
        "hyper-util",
        "http",
        "http-body",
        "tower",
        "tower-http",
        "tower-service",
        "reqwest",
        "ureq",
        "warp",
        "actix-web",
    ]
    .contains(&dep)
}

fn is_tauri(dep: &str) -> bool {
    dep == "tauri" || dep.starts_with("tauri-")
}

fn is_axum(dep: &str) -> bool {
    dep == "axum" || dep == "axum-core"
}

/// One dependency of a workspace crate, by package name (a renamed dependency counts
/// under its real name).
struct Dependency<'a> {
    krate: &'a str,
    name: &'a str,
    /// `None` for a normal dependency, `Some("dev")` or `Some("build")`.
    kind: Option<&'a str>,
}

fn dependencies(metadata: &Value) -> Vec<Dependency<'_>> {
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| members.contains(&id)))
        .flat_map(|p| {
            let krate = p["name"].as_str().expect("package name");
            p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .map(move |d| Dependency {
                    krate,
                    name: d["name"].as_str().expect("dependency name"),
                    kind: d["kind"].as_str(),
                })
        })
        .collect()
}

/// Every broken invariant, one sentence each.
fn violations(metadata: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for dep in dependencies(metadata) {
        let Dependency { krate, name, kind } = dep;
        // What the crate's code is built with; its tests may use the test kit.
        let shipped = kind != Some("dev");
        let broken = match krate {
            ENGINE => shipped && (is_http(name) || is_tauri(name)),
            SEARCH => shipped && (name == "librqbit" || is_axum(name) || is_tauri(name)),
            MAGNET => shipped && (name == "librqbit" || is_http(name)),
            MEDIA => shipped && (name == "librqbit" || is_http(name) || is_tauri(name)),
            WEBTORRENT => name == "librqbit" || (shipped && (is_http(name) || is_tauri(name))),
            _ => false,
        } || (name == "librqbit" && krate != ENGINE && krate != TESTKIT)
            || (name == WEBTORRENT && krate != ENGINE);
        if broken {
            found.push(format!(
                "{krate} depends on {name} ({} dependency)",
                kind.unwrap_or("normal")
            ));
        }
    }
    found
}

fn workspace_metadata() -> Value {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"))
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata's JSON")
}

#[test]
fn the_workspace_keeps_its_dependency_invariants() {
    let metadata = workspace_metadata();
    // The rules name crates: a rename must not turn them into rules about nothing.
    let names: Vec<&str> = dependencies(&metadata).iter().map(|d| d.krate).collect();
    for krate in [ENGINE, SEARCH, TESTKIT, MEDIA, WEBTORRENT] {
        assert!(names.contains(&krate), "no workspace crate {krate}");
    }
    assert_eq!(violations(&metadata), Vec::<String>::new());
}

/// The workspace's metadata with one more dependency, as if a manifest had gained it.
fn with_dependency(mut metadata: Value, krate: &str, name: &str, kind: Option<&str>) -> Value {
    let package = metadata["packages"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["name"] == krate)
        .unwrap_or_else(|| panic!("no package {krate}"));
    package["dependencies"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": name, "kind": kind, "rename": null }));
    metadata
}

#[test]
fn each_broken_invariant_is_reported() {
    let metadata = workspace_metadata();
    let cases = [
        (
            MEDIA,
            "axum",
            None,
            "cinemahalal-media depends on axum (normal dependency)",
        ),
        (
            MEDIA,
            "librqbit",
            None,
            "cinemahalal-media depends on librqbit (normal dependency)",
        ),
        (
            ENGINE,
            "axum",
            None,
            "cinemahalal-engine depends on axum (normal dependency)",
        ),
        (
            ENGINE,
            "reqwest",
            None,
            "cinemahalal-engine depends on reqwest (normal dependency)",
        ),
        (
            ENGINE,
            "tauri",
            Some("build"),
            "cinemahalal-engine depends on tauri (build dependency)",
        ),
        (
            SEARCH,
            "librqbit",
            None,
            "cinemahalal-search depends on librqbit (normal dependency)",
        ),
        (
            SEARCH,
            "axum",
            None,
            "cinemahalal-search depends on axum (normal dependency)",
        ),
        (
            SEARCH,
            "tauri-build",
            Some("build"),
            "cinemahalal-search depends on tauri-build (build dependency)",
        ),
        (
            "cinemahalal-server",
            "librqbit",
            None,
            "cinemahalal-server depends on librqbit (normal dependency)",
        ),
        (
            "cinemahalal-server",
            "librqbit",
            Some("dev"),
            "cinemahalal-server depends on librqbit (dev dependency)",
        ),
        (
            "cinemahalal-server",
            WEBTORRENT,
            None,
            "cinemahalal-server depends on cinemahalal-webtorrent (normal dependency)",
        ),
        (
            TESTKIT,
            WEBTORRENT,
            Some("dev"),
            "cinemahalal-testkit depends on cinemahalal-webtorrent (dev dependency)",
        ),
        (
            WEBTORRENT,
            "librqbit",
            None,
            "cinemahalal-webtorrent depends on librqbit (normal dependency)",
        ),
        (
            WEBTORRENT,
            "axum",
            None,
            "cinemahalal-webtorrent depends on axum (normal dependency)",
        ),
    ];
    for (krate, dep, kind, expected) in cases {
        let doctored = with_dependency(metadata.clone(), krate, dep, kind);
        assert_eq!(violations(&doctored), [expected], "{krate} + {dep}");
    }
    // Allowed: the engine's tests using the test kit, search's HTTP client, the kit's librqbit.
    for (krate, dep, kind) in [
        (ENGINE, "cinemahalal-testkit", Some("dev")),
        (SEARCH, "reqwest", None),
        (TESTKIT, "librqbit", None),
        (ENGINE, WEBTORRENT, None),
    ] {
        let doctored = with_dependency(metadata.clone(), krate, dep, kind);
        assert_eq!(
            violations(&doctored),
            Vec::<String>::new(),
            "{krate} + {dep}"
        );
    }
}

#[test]
fn the_magnet_crate_is_checked_when_present() {
    let mut metadata = workspace_metadata();
    let id = "path+file:///magnet#cinemahalal-magnet@0.1.0";
    metadata["workspace_members"]
        .as_array_mut()
        .unwrap()
        .push(json!(id));
    metadata["packages"].as_array_mut().unwrap().push(json!({
        "id": id,
        "name": MAGNET,
        "dependencies": [
            { "name": "data-encoding", "kind": null },
            { "name": "librqbit", "kind": null },
            { "name": "hyper", "kind": null },
            { "name": "proptest", "kind": "dev" },
        ],
    }));
    assert_eq!(
        violations(&metadata),
        [
            "cinemahalal-magnet depends on librqbit (normal dependency)",
            "cinemahalal-magnet depends on hyper (normal dependency)",
        ]
    );
}
