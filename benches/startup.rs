//! Start-up and memory of the release `bootstrap`, run as Lambda runs it: for each of N runs
//! (`DELIBIRD_BENCH_RUNS`, default 30) it starts a local Lambda Runtime API and execs the binary
//! with an SNS event already queued, and measures
//! - the time from exec to the first `/response` POST (the small issue, its card delivered to the
//!   local Chat emulator first), a cold start as Lambda's `Init` + first `Invoke` would see it;
//! - peak RSS (`VmHWM` of `/proc/PID/status`) after that first event, and again after a second
//!   invocation with the largest event (the synthetic page of 1,000 entities).
//!
//! Prints the medians and spreads, and writes every sample as JSON to
//! `target/delibird-bench/startup.json` for `scripts/bench`. Measured, never asserted.
//!
//! ```sh
//! cargo bench --bench startup                  # the release bootstrap of this build
//! DELIBIRD_BOOTSTRAP_BIN=path cargo bench --bench startup   # another binary
//! ```

mod support;

#[allow(dead_code)]
#[path = "../tests/integration/support/runtime_api.rs"]
mod runtime_api;

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use delibird_tools::chat_emulator::ChatEmulator;
use runtime_api::{Reply, RuntimeApi};
use serde_json::{Value, json};

/// Runs before the measured ones: the first exec pays for the page cache.
const WARM_UP_RUNS: usize = 2;

/// What one run measured.
struct Run {
    /// Exec to the first `/response` POST.
    first_response: Duration,
    /// `VmHWM` after the first invocation, in KiB.
    peak_small_kib: u64,
    /// `VmHWM` after the second invocation (the largest event), in KiB.
    peak_largest_kib: u64,
}

fn bootstrap_binary() -> PathBuf {
    std::env::var_os("DELIBIRD_BOOTSTRAP_BIN").map_or_else(|| env!("CARGO_BIN_EXE_bootstrap").into(), PathBuf::from)
}

fn results_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    target.join("delibird-bench")
}

/// The process's `VmHWM` (peak resident set) in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status is readable");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

fn spawn(api: &RuntimeApi, webhook: &str, log: &File) -> Child {
    Command::new(bootstrap_binary())
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "delibird")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("DELIBIRD_WEBHOOK_URL", webhook)
        .env("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1")
        .env("DELIBIRD_WEBHOOK_INTERVAL_MS", "0")
        .env("DELIBIRD_ACCOUNT_ALIASES", support::ALIASES)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log.try_clone().expect("log file"))
        .spawn()
        .expect("the bootstrap starts")
}

/// Waits for a successful reply to `id`; panics with the bootstrap's output otherwise.
async fn expect_posted(api: &RuntimeApi, id: &str, log: &std::path::Path) {
    let reply = api.reply(id, Duration::from_secs(30)).await;
    if !matches!(&reply, Some(Reply::Response(summary)) if summary["posted"] == 1) {
        let printed = std::fs::read_to_string(log).unwrap_or_default();
        panic!("{id}: expected one posted card, got {reply:?}\n{printed}");
    }
}

async fn run(index: usize, small: &Value, largest: &Value, emulator: &ChatEmulator, log: &std::path::Path) -> Run {
    let api = RuntimeApi::start().await;
    let first = format!("run-{index}-small");
    let second = format!("run-{index}-largest");
    api.invoke(&first, small.clone());
    let file = File::create(log).expect("log file");

    let started = Instant::now();
    let mut child = spawn(&api, &emulator.webhook_url("BENCH"), &file);
    expect_posted(&api, &first, log).await;
    let first_response = started.elapsed();
    let peak_small_kib = peak_rss_kib(child.id());

    api.invoke(&second, largest.clone());
    expect_posted(&api, &second, log).await;
    let peak_largest_kib = peak_rss_kib(child.id());

    let _ = child.kill();
    let _ = child.wait();
    Run { first_response, peak_small_kib, peak_largest_kib }
}

/// Median, quartiles and extremes of a sample.
fn summary(mut values: Vec<f64>) -> Value {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let position = q * (values.len() - 1) as f64;
        let (low, high) = (position.floor() as usize, position.ceil() as usize);
        values[low] + (values[high] - values[low]) * (position - low as f64)
    };
    json!({
        "median": at(0.5), "p25": at(0.25), "p75": at(0.75),
        "min": values[0], "max": values[values.len() - 1], "samples": values,
    })
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that names something else skips this target.
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    if filter.is_some_and(|filter| !"startup".contains(filter.as_str())) {
        return;
    }
    let runs: usize = std::env::var("DELIBIRD_BENCH_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(30).max(1);
    let fixtures = support::fixtures();
    let small = fixtures.iter().find(|f| f.name == "small-issue").expect("small issue").sns_event();
    let largest = fixtures.last().expect("fixtures").sns_event();
    let binary = bootstrap_binary();
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    let dir = results_dir();
    std::fs::create_dir_all(&dir).expect("results directory");
    let log = dir.join("bootstrap.log");

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let measured = runtime.block_on(async {
        let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.expect("the Chat emulator starts");
        for index in 0..WARM_UP_RUNS {
            run(index, &small, &largest, &emulator, &log).await;
        }
        let mut measured = Vec::with_capacity(runs);
        for index in 0..runs {
            measured.push(run(WARM_UP_RUNS + index, &small, &largest, &emulator, &log).await);
        }
        measured
    });

    let ms: Vec<f64> = measured.iter().map(|r| r.first_response.as_secs_f64() * 1e3).collect();
    let mib = |kib: u64| kib as f64 / 1024.0;
    let report = json!({
        "binary": binary.display().to_string(),
        "binary_bytes": size,
        "runs": runs,
        "first_response_ms": summary(ms),
        "peak_rss_small_mib": summary(measured.iter().map(|r| mib(r.peak_small_kib)).collect()),
        "peak_rss_largest_mib": summary(measured.iter().map(|r| mib(r.peak_largest_kib)).collect()),
    });
    let path = dir.join("startup.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&report).unwrap()).expect("results written");

    println!("bootstrap: {} ({size} bytes), {runs} runs", binary.display());
    for (key, unit) in [("first_response_ms", "ms"), ("peak_rss_small_mib", "MiB"), ("peak_rss_largest_mib", "MiB")] {
        let s = &report[key];
        println!(
            "{key:<22} median {:>7.2} {unit}  p25–p75 {:.2}–{:.2}  min–max {:.2}–{:.2}",
            s["median"].as_f64().unwrap(),
            s["p25"].as_f64().unwrap(),
            s["p75"].as_f64().unwrap(),
            s["min"].as_f64().unwrap(),
            s["max"].as_f64().unwrap(),
        );
    }
    println!("written to {}", path.display());
}
