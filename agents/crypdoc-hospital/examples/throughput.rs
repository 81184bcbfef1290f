//! Throughput of the hospital node: scans per minute through `POST /v1/scans` until each task is
//! posted, against the bound that the encrypted evaluation alone sets; per-scan gas; the node's
//! idle CPU and memory.
//!
//! ```text
//! cargo run -p crypdoc-hospital --example throughput -- [--scans N] [--concurrency C]
//!     [--idle-secs S] [--poll-ms MS] [--client-poll-ms MS] [--isolated K] [--block-time SECS]
//! ```
//!
//! It starts a fresh anvil, deploys the contracts, funds and accredits a hospital wallet, writes a
//! node configuration (in-process evaluator, embedded store, `poll_ms = 50`) in a temporary
//! folder, and starts the node in this process. Once the node is idle it measures this process's
//! CPU time over `--idle-secs` (as % of one core) and its resident memory with the FHE session
//! loaded. Then `C` clients submit `N` distinct scans (the Br35H samples, then one-pixel PNG
//! variants of them) one at a time each and poll `GET /v1/scans/{id}` until the scan is posted.
//!
//! The node's own log events (evaluated, sealed, posted) are captured with their instants, so
//! the report also says where the node's time went: in the encrypted evaluation, sealing and
//! storing, posting (RPC reads, the approve and the postTask transactions), or between jobs.
//! Gas comes from the receipts of every transaction the hospital wallet sent during the run
//! (read block by block), split into `postTask` and `approve`.
//!
//! Afterwards (node stopped) `--isolated` encrypted evaluations run alone for comparison, and
//! `--block-time` replaces anvil's one-block-per-transaction with interval mining, to see what
//! block times do to posting.
//!
//! Prints a table, then one JSON line. `RUST_LOG=crypdoc=info` also prints the node's log.

use alloy::{
    primitives::{keccak256, Address, U256},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use clap::Parser;
use crypdoc_contracts::{
    deploy::deploy_as,
    devnet::{Anvil, ANVIL_DEPLOYER_KEY},
    wallet_provider, MarketClient,
};
use crypdoc_hospital::{
    config::NodeConfig,
    node::{open_hospital, start},
};
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};
use tracing_subscriber::{filter::Targets, layer::SubscriberExt, util::SubscriberInitExt, Layer};

/// Throughput benchmark of the hospital node (see the file's documentation).
#[derive(Debug, Parser)]
struct Args {
    /// Distinct scans to submit.
    #[arg(long, default_value_t = 24)]
    scans: usize,
    /// Concurrent clients; each submits one scan and polls it until posted, then the next.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Seconds over which the idle node's CPU time is measured.
    #[arg(long, default_value_t = 10)]
    idle_secs: u64,
    /// The node's `poll_ms`.
    #[arg(long, default_value_t = 50)]
    poll_ms: u64,
    /// How often a client polls its scan's state, in milliseconds.
    #[arg(long, default_value_t = 25)]
    client_poll_ms: u64,
    /// Encrypted evaluations run afterwards on their own (node stopped), for comparison; 0: none.
    #[arg(long, default_value_t = 3)]
    isolated: usize,
    /// Mine a block every this many seconds instead of one per transaction (anvil's interval
    /// mining, set after the deployment), to see the node's posting on a chain with block times.
    #[arg(long, default_value_t = 0)]
    block_time: u64,
    /// Give up after this many seconds of the throughput run.
    #[arg(long, default_value_t = 900)]
    timeout_secs: u64,
}

const PASSWORD_ENV: &str = "CRYPDOC_BENCH_HOSPITAL_PASSWORD";
const PASSWORD: &str = "bench-password";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// ---------------------------------------------------------------------------------------------
// Set-up (after tests/common): anvil, the contracts, an accredited and funded hospital, config.

struct Chain {
    dir: tempfile::TempDir,
    anvil: Anvil,
    url: String,
    admin: MarketClient,
    hospital: PrivateKeySigner,
}

impl Chain {
    async fn start(stablecoin_units: u128) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let anvil = Anvil::spawn(&dir.path().join("anvil.log"), true).await?;
        let url = anvil.endpoint();
        let deployer: PrivateKeySigner = ANVIL_DEPLOYER_KEY.parse()?;
        let provider = wallet_provider(&url, deployer.clone())?;
        let deployment = deploy_as(&provider, deployer.address(), true).await?;
        deployment.save(&dir.path().join("deployment.json"))?;
        let admin = MarketClient::connect(&url, deployer, deployment).await?;
        let now = admin.chain_time().await?;
        let hospital = PrivateKeySigner::random();
        let hospital_provider = wallet_provider(&url, hospital.clone())?;
        hospital_provider
            .raw_request::<_, ()>("anvil_setBalance".into(), (hospital.address(), U256::from(10u128.pow(20))))
            .await?;
        admin.mint_stablecoin(hospital.address(), U256::from(stablecoin_units)).await?;
        admin.accredit_hospital(hospital.address(), keccak256(b"hospital"), now + 86_400 * 30).await?;
        Ok(Self { dir, anvil, url, admin, hospital })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the hospital's keystore and the node's configuration; returns the config's path.
    fn write_config(&self, poll_ms: u64) -> anyhow::Result<PathBuf> {
        let keystore_dir = self.path("keystores");
        std::fs::create_dir_all(&keystore_dir)?;
        let keystore = keystore_dir.join("hospital.json");
        PrivateKeySigner::encrypt_keystore(
            &keystore_dir,
            &mut rand::thread_rng(),
            self.hospital.to_bytes(),
            PASSWORD,
            Some("hospital.json"),
        )?;
        let config = format!(
            r#"state_dir = "{state}"
listen = "127.0.0.1:0"
poll_ms = {poll_ms}
max_scan_bytes = 4194304

[chain]
rpc_url = "{url}"
chain_id = {chain_id}
deployment = "{deployment}"

[wallet]
keystore = "{keystore}"
password_env = "{PASSWORD_ENV}"

[store]
embedded_dir = "{store}"

[inference]
model = "{model}"
key_dir = "{keys}"

[policy]
seats = 5
stake = "5"
min_bounty = "20"
max_bounty = "200"
reputation_tiers = [["0", 0], ["120", 2], ["170", 5]]
commit_window_secs = 86400
reveal_window_secs = 86400
token_decimals = 6
"#,
            state = self.path("node-state").display(),
            url = self.url,
            chain_id = self.admin.deployment().chain_id,
            deployment = self.path("deployment.json").display(),
            keystore = keystore.display(),
            store = self.path("store").display(),
            model = repo_root().join("models/br35h-mlp.json").display(),
            keys = self.path("fhe-keys").display(),
        );
        let path = self.path("hospital.toml");
        std::fs::write(&path, config)?;
        Ok(path)
    }
}

// ---------------------------------------------------------------------------------------------
// The scans.

/// `n` distinct images: the samples (tumor and no-tumor alternating), then PNG re-encodings of
/// them with one pixel changed (a different pixel for each variant).
fn scans(n: usize) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let root = repo_root().join("samples/br35h");
    let list = |folder: &str| -> anyhow::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(folder))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("jpg")))
            .collect();
        files.sort();
        Ok(files)
    };
    let (yes, no) = (list("yes")?, list("no")?);
    let mut samples = Vec::new();
    for i in 0..yes.len().max(no.len()) {
        samples.extend(yes.get(i).cloned());
        samples.extend(no.get(i).cloned());
    }
    anyhow::ensure!(!samples.is_empty(), "no samples under {}", root.display());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let path = &samples[i % samples.len()];
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let bytes = std::fs::read(path)?;
        let round = i / samples.len();
        if round == 0 {
            out.push((name, bytes));
            continue;
        }
        let mut image = image::load_from_memory(&bytes)?.to_rgb8();
        let (w, h) = image.dimensions();
        let at = (round - 1) as u32;
        let pixel = image.get_pixel_mut((at * 7 + w / 3) % w, (at / w + h / 3) % h);
        pixel.0[0] ^= 1;
        let mut png = Vec::new();
        image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
        out.push((format!("{name}+{round}.png"), png));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// /proc readings.

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of `pid` (`self` for this process), in clock ticks.
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// A `kB` line of `/proc/self/status` in MiB.
fn status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

// ---------------------------------------------------------------------------------------------
// The node's log events, with their instants.

#[derive(Debug, Clone)]
struct Event {
    at: Instant,
    message: String,
    scan_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Capture(Arc<Mutex<Vec<Event>>>);

#[derive(Default)]
struct Fields {
    message: String,
    scan_id: Option<String>,
}

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "scan_id" => self.scan_id = Some(format!("{value:?}")),
            _ => {}
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "message" => value.clone_into(&mut self.message),
            "scan_id" => self.scan_id = Some(value.to_owned()),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let entry = Event { at: Instant::now(), message: fields.message, scan_id: fields.scan_id };
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(entry);
    }
}

// ---------------------------------------------------------------------------------------------
// Results.

#[derive(Debug, Clone)]
struct Done {
    scan_id: String,
    submitted: Instant,
    posted: Instant,
    job: Value,
}

/// One job's steps as the node logged them (milliseconds).
#[derive(Debug)]
struct Stage {
    eval_start: Instant,
    eval: f64,
    seal: f64,
    post: f64,
    posted: Instant,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

async fn client(
    http: reqwest::Client,
    base: String,
    scans: Arc<Vec<(String, Vec<u8>)>>,
    next: Arc<AtomicUsize>,
    poll: Duration,
    deadline: Instant,
) -> anyhow::Result<Vec<Done>> {
    let mut done = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        let Some((name, bytes)) = scans.get(i) else { return Ok(done) };
        let submitted = Instant::now();
        let response = http.post(format!("{base}/v1/scans")).body(bytes.clone()).send().await?;
        let status = response.status().as_u16();
        let body: Value = response.json().await?;
        anyhow::ensure!(status == 202, "{name}: POST /v1/scans answered {status}: {body}");
        let scan_id = body["scan_id"].as_str().unwrap_or_default().to_owned();
        loop {
            let job: Value = http
                .get(format!("{base}/v1/scans/{scan_id}"))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            match job["state"].as_str() {
                Some("posted" | "finalized") => {
                    done.push(Done { scan_id, submitted, posted: Instant::now(), job });
                    break;
                }
                Some("failed") => anyhow::bail!("{name}: the job failed: {}", job["error"]),
                _ => {}
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "timed out waiting for {name} ({scan_id}) to be posted"
            );
            tokio::time::sleep(poll).await;
        }
    }
}

/// Every transaction `from` sent in blocks `first..=last`: (hash, to, gas used).
async fn sent_by(
    provider: &impl Provider,
    from: Address,
    first: u64,
    last: u64,
) -> anyhow::Result<Vec<(String, Option<Address>, u64)>> {
    let mut out = Vec::new();
    for number in first..=last {
        let receipts = provider.get_block_receipts(number.into()).await?.unwrap_or_default();
        for r in receipts.into_iter().filter(|r| r.from == from) {
            out.push((r.transaction_hash.to_string(), r.to, r.gas_used));
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_lines)]
async fn run(args: Args, capture: Capture) -> anyhow::Result<()> {
    anyhow::ensure!(args.scans > 0 && args.concurrency > 0, "--scans and --concurrency must be at least 1");
    let ticks = clock_ticks();
    let scans = Arc::new(scans(args.scans)?);

    // Chain, contracts, hospital (enough tUSD for every scan at the highest bounty), config.
    let t = Instant::now();
    let chain = Chain::start(200_000_000 * (args.scans as u128 + 10)).await?;
    let config_path = chain.write_config(args.poll_ms)?;
    let config = NodeConfig::load(&config_path)?;
    if args.block_time > 0 {
        let provider = chain.admin.provider();
        provider.raw_request::<_, ()>("evm_setAutomine".into(), (false,)).await?;
        provider.raw_request::<_, ()>("evm_setIntervalMining".into(), (args.block_time,)).await?;
    }
    let setup_s = t.elapsed().as_secs_f64();
    eprintln!("anvil at {}, contracts deployed, hospital accredited ({setup_s:.1} s)", chain.url);

    // The node, in this process (first start: the FHE keys are generated).
    let t = Instant::now();
    let signer = crypdoc_hospital::node::open_wallet(&config)?;
    let hospital = open_hospital(&config, signer).await?;
    let node = start(&config, hospital).await?;
    let open_s = t.elapsed().as_secs_f64();
    let base = format!("http://{}", node.addr);
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency * 2).build()?;
    eprintln!("node listening on {base} ({open_s:.1} s: keys, session, database)");

    // Idle: healthy, nothing queued, then let start-up work settle.
    let wait = Instant::now();
    loop {
        let health = http.get(format!("{base}/healthz")).send().await;
        if let Ok(response) = health {
            if response.status().is_success() {
                break;
            }
        }
        anyhow::ensure!(wait.elapsed() < Duration::from_secs(60), "the node never became healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // (1) Idle CPU and memory.
    eprintln!("measuring the idle node for {} s ...", args.idle_secs);
    let anvil_pid = chain.anvil.pid().map(|p| p.to_string());
    let (self0, anvil0) = (cpu_ticks("self"), anvil_pid.as_deref().and_then(cpu_ticks));
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.idle_secs)).await;
    let idle_wall = t.elapsed().as_secs_f64();
    let (self1, anvil1) = (cpu_ticks("self"), anvil_pid.as_deref().and_then(cpu_ticks));
    let pct = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => (b - a) as f64 / ticks / idle_wall * 100.0,
        _ => f64::NAN,
    };
    let idle_cpu = pct(self0, self1);
    let anvil_idle_cpu = pct(anvil0, anvil1);
    let rss_mib = status_mib("VmRSS:");
    let hwm_mib = status_mib("VmHWM:");

    // (2) Throughput.
    let provider = chain.admin.provider().clone();
    let first_block = provider.get_block_number().await? + 1;
    let events_before = capture.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len();
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.timeout_secs);
    let cpu_before = cpu_ticks("self");
    let anvil_before = anvil_pid.as_deref().and_then(cpu_ticks);
    let run_start = Instant::now();
    eprintln!("submitting {} scans with {} clients ...", args.scans, args.concurrency);
    let mut clients = Vec::new();
    for _ in 0..args.concurrency {
        clients.push(tokio::spawn(client(
            http.clone(),
            base.clone(),
            Arc::clone(&scans),
            Arc::clone(&next),
            Duration::from_millis(args.client_poll_ms),
            deadline,
        )));
    }
    let mut done = Vec::new();
    for c in clients {
        done.extend(c.await??);
    }
    let run_wall = run_start.elapsed().as_secs_f64();
    let run_cpu = match (cpu_before, cpu_ticks("self")) {
        (Some(a), Some(b)) => (b - a) as f64 / ticks / run_wall * 100.0,
        _ => f64::NAN,
    };
    let anvil_run_cpu = match (anvil_before, anvil_pid.as_deref().and_then(cpu_ticks)) {
        (Some(a), Some(b)) => (b - a) as f64 / ticks / run_wall * 100.0,
        _ => f64::NAN,
    };
    let first_submit = done.iter().map(|d| d.submitted).min().unwrap_or(run_start);
    let last_posted = done.iter().map(|d| d.posted).max().unwrap_or(run_start);
    let span_s = last_posted.duration_since(first_submit).as_secs_f64();
    let rate = done.len() as f64 / span_s * 60.0;
    let mut latencies: Vec<f64> =
        done.iter().map(|d| d.posted.duration_since(d.submitted).as_secs_f64() * 1e3).collect();
    latencies.sort_by(f64::total_cmp);
    let (p50, p95) = (percentile(&latencies, 50.0), percentile(&latencies, 95.0));
    let encrypted: Vec<f64> =
        done.iter().filter_map(|d| d.job["prediction"]["encrypted_ms"].as_f64()).collect();
    let encrypted_mean = mean(&encrypted);
    let mut sorted_enc = encrypted.clone();
    sorted_enc.sort_by(f64::total_cmp);
    anyhow::ensure!(!sorted_enc.is_empty(), "no job reported its encrypted evaluation time");

    // (3) The bound.
    let bound = 60_000.0 / encrypted_mean;
    let fraction = rate / bound;

    // Where the node's time went, from its own log events.
    let events: Vec<Event> =
        capture.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[events_before..].to_vec();
    let mut marks: HashMap<String, HashMap<&'static str, Instant>> = HashMap::new();
    let mut waits_pending = 0usize;
    let mut step_failures = Vec::new();
    for e in &events {
        let step = match e.message.as_str() {
            "scan received" => "received",
            "evaluated on the encrypted scan" => "evaluated",
            "sealed and stored" => "sealed",
            "task posted" => "posted",
            m if m.starts_with("a transaction of this wallet is pending") => {
                waits_pending += 1;
                continue;
            }
            m if m.starts_with("job step failed") => {
                step_failures.push(m.to_owned());
                continue;
            }
            _ => continue,
        };
        if let Some(id) = &e.scan_id {
            marks.entry(id.clone()).or_default().entry(step).or_insert(e.at);
        }
    }
    // Per job in the order the node evaluated them: evaluation (encrypted_ms, ending at
    // "evaluated"), sealing + storing, posting, and the time from the previous post to this
    // evaluation's start (recording, reading the intake, preprocessing, the loop, idling).
    let mut stages: Vec<Stage> = done
        .iter()
        .filter_map(|d| {
            let m = marks.get(&d.scan_id)?;
            let (evaluated, sealed, posted) = (*m.get("evaluated")?, *m.get("sealed")?, *m.get("posted")?);
            let eval = d.job["prediction"]["encrypted_ms"].as_f64()?;
            Some(Stage {
                eval_start: evaluated.checked_sub(Duration::from_secs_f64(eval / 1e3))?,
                eval,
                seal: sealed.duration_since(evaluated).as_secs_f64() * 1e3,
                post: posted.duration_since(sealed).as_secs_f64() * 1e3,
                posted,
            })
        })
        .collect();
    stages.sort_by_key(|s| s.eval_start);
    let gaps: Vec<f64> = stages
        .windows(2)
        .map(|w| w[1].eval_start.saturating_duration_since(w[0].posted).as_secs_f64() * 1e3)
        .collect();
    let first_gap = stages
        .first()
        .map_or(f64::NAN, |s| s.eval_start.saturating_duration_since(first_submit).as_secs_f64() * 1e3);
    let last_tail = stages
        .last()
        .map_or(f64::NAN, |s| last_posted.saturating_duration_since(s.posted).as_secs_f64() * 1e3);
    let total_eval: f64 = stages.iter().map(|s| s.eval).sum();
    let total_seal: f64 = stages.iter().map(|s| s.seal).sum();
    let total_post: f64 = stages.iter().map(|s| s.post).sum();
    let total_gap: f64 = gaps.iter().sum();
    let span_ms = span_s * 1e3;
    let overlap = stages.windows(2).filter(|w| w[1].eval_start < w[0].posted).count();

    // (4) Gas: every transaction the hospital sent during the run.
    let last_block = provider.get_block_number().await?;
    let token = chain.admin.deployment().stablecoin;
    let sent = sent_by(&provider, chain.hospital.address(), first_block, last_block).await?;
    let post_txs: Vec<String> =
        done.iter().filter_map(|d| d.job["post_tx"].as_str().map(str::to_lowercase)).collect();
    let post_gas: Vec<f64> = sent
        .iter()
        .filter(|(h, _, _)| post_txs.contains(&h.to_lowercase()))
        .map(|(_, _, g)| *g as f64)
        .collect();
    let approve_gas: Vec<f64> = sent
        .iter()
        .filter(|(h, to, _)| *to == token && !post_txs.contains(&h.to_lowercase()))
        .map(|(_, _, g)| *g as f64)
        .collect();
    let other_gas: Vec<f64> = sent
        .iter()
        .filter(|(h, to, _)| *to != token && !post_txs.contains(&h.to_lowercase()))
        .map(|(_, _, g)| *g as f64)
        .collect();
    let all_gas: f64 = sent.iter().map(|(_, _, g)| *g as f64).sum();
    let per_scan_gas = all_gas / done.len() as f64;
    let blocks = last_block + 1 - first_block;

    // RPC round trip from this process, for the posting diagnosis.
    let t = Instant::now();
    for _ in 0..50 {
        provider.get_block_number().await?;
    }
    let rpc_ms = t.elapsed().as_secs_f64() * 1e3 / 50.0;

    node.shutdown().await;

    // Encrypted evaluation on its own (node stopped, same keys), for comparison.
    let mut isolated = Vec::new();
    if args.isolated > 0 {
        let model = crypdoc_model::QuantizedModel::load(&config.inference.model)?;
        let key_dir = config.key_dir();
        let pixels = crypdoc_model::preprocess_bytes(&scans[0].1, crypdoc_model::InputSpec::of(&model))?;
        let n = args.isolated;
        isolated = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<f64>> {
            let mut session =
                crypdoc_fhe::local::Session::open(&key_dir, crypdoc_fhe::local::InProcess::default())?;
            let mut out = Vec::new();
            for _ in 0..n {
                let p = session.predict(&model, &pixels)?;
                out.push(p.timings_ms.encrypt + p.timings_ms.evaluate + p.timings_ms.decrypt);
            }
            Ok(out)
        })
        .await??;
    }
    let isolated_mean = mean(&isolated);

    // Report.
    println!();
    let mining =
        if args.block_time > 0 { format!("a block every {} s", args.block_time) } else { "automine".into() };
    println!(
        "hospital node throughput: {} scans, {} clients, poll_ms {}, {mining}",
        done.len(),
        args.concurrency,
        args.poll_ms
    );
    println!("{:-<78}", "");
    let row = |what: &str, value: String| println!("{what:<46} {value}");
    row("idle CPU, node process (% of one core)", format!("{idle_cpu:.2} % over {idle_wall:.1} s"));
    row("idle CPU, anvil (% of one core)", format!("{anvil_idle_cpu:.2} %"));
    row("resident memory, FHE session loaded (VmRSS)", format!("{rss_mib:.1} MiB (peak {hwm_mib:.1} MiB)"));
    row("throughput, first submission to last posted", format!("{rate:.1} scans/min ({span_s:.1} s)"));
    row("latency submit -> posted, p50 / p95", format!("{p50:.0} / {p95:.0} ms"));
    row(
        "encrypted evaluation in the run: mean (min/p50/max)",
        format!(
            "{encrypted_mean:.0} ms ({:.0} / {:.0} / {:.0})",
            sorted_enc[0],
            percentile(&sorted_enc, 50.0),
            sorted_enc[sorted_enc.len() - 1]
        ),
    );
    if !isolated.is_empty() {
        row("encrypted evaluation, mean (alone, node stopped)", format!("{isolated_mean:.0} ms"));
    }
    row("bound from evaluation alone (60000 / mean)", format!("{bound:.1} scans/min"));
    row("achieved fraction of the bound (target >= 80%)", format!("{:.1} %", fraction * 100.0));
    row("gas, postTask (mean)", format!("{:.0}", mean(&post_gas)));
    row("gas, approve (mean; count)", format!("{:.0}; {}", mean(&approve_gas), approve_gas.len()));
    if !other_gas.is_empty() {
        row("gas, other hospital txs (count)", format!("{}", other_gas.len()));
    }
    row(
        "gas per scan (all hospital txs / scans)",
        format!("{per_scan_gas:.0} ({} txs, {blocks} blocks)", sent.len()),
    );
    row("CPU during the run: node process / anvil", format!("{run_cpu:.0} % / {anvil_run_cpu:.0} %"));
    println!("{:-<78}", "");
    println!("where the node's time went ({} jobs, {} overlapping evaluations):", stages.len(), overlap);
    let share = |ms: f64| format!("{:>8.0} ms  {:>5.1} %", ms, ms / span_ms * 100.0);
    row("  encrypted evaluation (encrypt+eval+decrypt)", share(total_eval));
    row("  seal + store", share(total_seal));
    row("  post (intent, chain search, approve, postTask)", share(total_post));
    row("  between jobs (record, intake, preprocess, idle)", share(total_gap));
    row("  before the first evaluation", share(first_gap));
    row("  after the last post until the client saw it", share(last_tail));
    row(
        "  per job: seal / post / between, mean",
        format!(
            "{:.0} / {:.0} / {:.0} ms",
            mean(&stages.iter().map(|s| s.seal).collect::<Vec<_>>()),
            mean(&stages.iter().map(|s| s.post).collect::<Vec<_>>()),
            mean(&gaps)
        ),
    );
    row("  'transaction pending' waits; failed steps", format!("{waits_pending}; {}", step_failures.len()));
    row("  RPC round trip (eth_blockNumber), mean", format!("{rpc_ms:.2} ms"));
    println!("{:-<78}", "");

    let summary = json!({
        "scans": done.len(),
        "concurrency": args.concurrency,
        "poll_ms": args.poll_ms,
        "block_time_s": args.block_time,
        "idle_cpu_pct": idle_cpu,
        "anvil_idle_cpu_pct": anvil_idle_cpu,
        "rss_mib": rss_mib,
        "rss_peak_mib": hwm_mib,
        "scans_per_min": rate,
        "span_s": span_s,
        "latency_ms": { "p50": p50, "p95": p95 },
        "encrypted_ms_mean": encrypted_mean,
        "encrypted_ms_min": sorted_enc[0],
        "encrypted_ms_p50": percentile(&sorted_enc, 50.0),
        "encrypted_ms_isolated_mean": if isolated.is_empty() { Value::Null } else { json!(isolated_mean) },
        "bound_scans_per_min": bound,
        "fraction_of_bound": fraction,
        "gas": {
            "post_task_mean": mean(&post_gas),
            "approve_mean": mean(&approve_gas),
            "approves": approve_gas.len(),
            "hospital_txs": sent.len(),
            "per_scan": per_scan_gas,
        },
        "time_ms": {
            "evaluation": total_eval,
            "seal_store": total_seal,
            "post": total_post,
            "between_jobs": total_gap,
            "before_first": first_gap,
            "after_last": last_tail,
        },
        "pending_waits": waits_pending,
        "failed_steps": step_failures.len(),
        "run_cpu_pct": { "node": run_cpu, "anvil": anvil_run_cpu },
        "setup_s": setup_s,
        "node_open_s": open_s,
    });
    println!("{summary}");
    if !step_failures.is_empty() {
        eprintln!("failed steps: {step_failures:?}");
    }
    drop(chain);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // Before any thread exists: the node reads the keystore's password from the environment.
    std::env::set_var(PASSWORD_ENV, PASSWORD);
    let capture = Capture::default();
    let log = std::env::var_os("RUST_LOG").map(|_| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(tracing_subscriber::EnvFilter::from_default_env())
    });
    tracing_subscriber::registry()
        .with(capture.clone().with_filter(Targets::new().with_target("crypdoc", tracing::Level::INFO)))
        .with(log)
        .init();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(args, capture))
}
