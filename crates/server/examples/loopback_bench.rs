//! Figures for the stream API on a loopback swarm: time from POST to STREAM_READY, time
//! to the first byte of the stream, time to the first byte after a seek into parts not
//! downloaded, and sequential read speed. Prints medians over several rounds.
//!
//! `cargo run --release -p cinemahalal-server --example loopback_bench [rounds] [MiB] [upload B/s]`
//!
//! With an upload cap the seeder stands for a narrow link, where the seek figure shows
//! how long a reader waits behind the blocks already requested from that peer.

use std::time::{Duration, Instant};

use cinemahalal_server::{Settings, start};
use cinemahalal_testkit::{Seeder, SeederOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);
    let mib: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(128);
    let upload_bps: Option<u32> = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .filter(|&b| b > 0);
    let (mut ready, mut first, mut seek, mut mbps) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        let seeder = Seeder::random(
            &[("bench.mp4", mib << 20)],
            SeederOptions {
                upload_bps,
                ..Default::default()
            },
        )
        .await?;
        let data = tempfile::tempdir()?;
        let server = start(Settings::loopback(data.path())).await?;
        let base = server.base_url();
        let client = reqwest::Client::builder().no_proxy().build()?;

        let t = Instant::now();
        let body: serde_json::Value = client
            .post(format!("{base}/api/stream"))
            .json(&serde_json::json!({ "magnet": seeder.magnet() }))
            .send()
            .await?
            .json()
            .await?;
        ready.push(t.elapsed());
        let url = body["streamUrl"].as_str().unwrap().to_string();

        // A seek to three quarters in, before anything there is downloaded.
        let t = Instant::now();
        let mut r = client
            .get(&url)
            .header("Range", format!("bytes={}-", (mib << 20) * 3 / 4))
            .send()
            .await?;
        r.chunk().await?;
        seek.push(t.elapsed());
        drop(r);

        let t = Instant::now();
        let mut r = client.get(&url).send().await?;
        let mut total = r.chunk().await?.map_or(0, |c| c.len());
        first.push(t.elapsed());
        while let Some(c) = r.chunk().await? {
            total += c.len();
        }
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(total, mib << 20);
        mbps.push(total as f64 / secs / 1e6);
        println!(
            "round {round}: ready {:?}, first byte {:?}, seek first byte {:?}, sequential {:.0} MB/s",
            ready[round], first[round], seek[round], mbps[round]
        );
        server.shutdown().await;
        seeder.stop().await;
    }
    println!(
        "median of {rounds} rounds, {mib} MiB file: POST→STREAM_READY {:?}, first byte {:?}, seek first byte {:?}, sequential {:.0} MB/s",
        median(&mut ready),
        median(&mut first),
        median(&mut seek),
        median_f(&mut mbps)
    );
    Ok(())
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn median_f(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
