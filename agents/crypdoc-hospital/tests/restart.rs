//! Fault injection: the node process is killed (SIGKILL) right after each step of a scan's job,
//! including between a mined post transaction and its record, then restarted. Each scan ends in
//! exactly one posted task, and the hospital paid exactly one bounty per scan.

mod common;

use alloy::primitives::U256;
use common::{sample, Chain, PASSWORD};
use serde_json::Value;
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

/// Starts the node binary; returns it, its HTTP base URL and a channel of its stderr lines.
fn spawn(config: &std::path::Path, pause: Option<&str>) -> (Child, String, mpsc::Receiver<String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crypdoc-hospital"));
    command
        .args(["--config", &config.display().to_string()])
        .env("CRYPDOC_TEST_HOSPITAL_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.env_remove("CRYPDOC_HOSPITAL_PAUSE_AFTER");
    if let Some(point) = pause {
        command.env("CRYPDOC_HOSPITAL_PAUSE_AFTER", point);
    }
    let mut child = command.spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut base = String::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("crypdoc-hospital listening on ") {
            base = url.to_owned();
            break;
        }
    }
    assert!(!base.is_empty(), "the node did not start");
    let (tx, rx) = mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, base, rx)
}

fn wait_line(rx: &mpsc::Receiver<String>, wanted: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(wanted) => return,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("the node never printed {wanted:?}");
}

async fn job(base: &str, id: &str) -> Value {
    reqwest::get(format!("{base}/v1/scans/{id}")).await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_resumes_every_job_and_posts_each_scan_once() {
    let chain = Chain::start(0).await;
    let config = chain.write_config("restart", "", "");
    let token = chain.deployment.stablecoin.unwrap();
    let before = chain.admin.token_balance(token, chain.hospital_address()).await.unwrap();
    let points = [
        ("received", "no/no6.jpg"),
        ("evaluated", "no/no7.jpg"),
        ("sealed", "yes/y2.jpg"),
        ("posting", "yes/y35.jpg"),
        ("sent", "no/no31.jpg"),
        ("posted", "yes/y36.jpg"),
    ];
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for (point, image) in points {
        let (mut node, base, stderr) = spawn(&config, Some(point));
        let response: Value = http
            .post(format!("{base}/v1/scans"))
            .body(sample(image))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = response["scan_id"].as_str().unwrap().to_owned();
        wait_line(&stderr, &format!("paused after {point}"), Duration::from_secs(120));
        if point == "received" {
            // Killed right after intake answered: the job exists and nothing else happened.
            assert_eq!(job(&base, &id).await["state"], "received");
        }
        node.kill().unwrap();
        node.wait().unwrap();

        let (mut node, base, _stderr) = spawn(&config, None);
        let start = Instant::now();
        while job(&base, &id).await["state"] != "posted" {
            assert!(start.elapsed() < Duration::from_secs(120), "scan {id} ({point}) never got posted");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        node.kill().unwrap();
        node.wait().unwrap();
        ids.push(id);
    }

    // One task per scan, each with its own CID; exactly the recorded bounties left the wallet.
    let (mut node, base, _stderr) = spawn(&config, None);
    let count = chain.admin.task_count().await.unwrap();
    assert_eq!(count, U256::from(points.len()), "a scan was posted twice (or not at all)");
    let mut paid = U256::ZERO;
    let mut cids = Vec::new();
    for id in &ids {
        let job = job(&base, id).await;
        let task: U256 = job["task_id"].as_str().unwrap().parse().unwrap();
        assert_eq!(chain.admin.scan_cid(task).await.unwrap(), job["scan_cid"].as_str().unwrap());
        cids.push(job["scan_cid"].as_str().unwrap().to_owned());
        paid += U256::from(job["bounty"].as_str().unwrap().parse::<u128>().unwrap());
    }
    cids.sort();
    cids.dedup();
    assert_eq!(cids.len(), points.len());
    let after = chain.admin.token_balance(token, chain.hospital_address()).await.unwrap();
    assert_eq!(before - after, paid, "escrow does not match the recorded bounties");
    node.kill().unwrap();
    node.wait().unwrap();
}
