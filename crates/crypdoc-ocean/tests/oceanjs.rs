//! The real client: ocean.js (npm `@oceanprotocol/lib`, pinned in `tests/oceanjs/package.json`)
//! buys, orders and downloads the dataset from the Provider routes with only the Ocean address
//! file, the node's URL, a chain endpoint and the researcher's key. Installs its node modules on
//! first use (`npm ci`, again whenever the lock file changes).

mod common;

use alloy::primitives::U256;
use common::world;
use sha2::{Digest, Sha256};
use std::{path::Path, process::Command};

fn install(dir: &Path) {
    let lock = std::fs::read(dir.join("package-lock.json")).expect("tests/oceanjs/package-lock.json");
    let want = hex::encode(Sha256::digest(&lock));
    let stamp = dir.join("node_modules/.crypdoc-lock.sha256");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .expect("npm (Node.js 20) is needed for the ocean.js test");
    assert!(status.success(), "npm ci in {} failed", dir.display());
    std::fs::write(stamp, want).unwrap();
}

#[tokio::test]
async fn oceanjs_buys_orders_and_downloads_from_the_node() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oceanjs");
    tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || install(&dir)
    })
    .await
    .unwrap();

    let w = world(86_400).await;
    let tmp = tempfile::tempdir().unwrap();
    let address_file = tmp.path().join("address.json");
    w.addresses.write(&address_file, crypdoc_ocean::deploy::DEV_NETWORK).unwrap();
    let base_before = w.base_balance(w.researcher.address()).await;

    let output = tokio::process::Command::new("node")
        .arg(dir.join("client.mjs"))
        .env("ADDRESS_FILE", &address_file)
        .env("NODE_URL", &w.node_url)
        .env("RPC_URL", &w.rpc)
        .env("RESEARCHER_KEY", common::KEYS[2])
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "ocean.js client failed:\n{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON:\n{stdout}\n{stderr}"));
    let got: serde_json::Value = serde_json::from_str(line).unwrap();

    assert_eq!(got["oceanjs"], "8.0.0");
    assert_eq!(got["did"], w.did());
    assert_eq!(got["ddoValid"], true, "ddo-js SHACL validation: {}", got["validation"]);
    assert_eq!(got["sha256"], w.release.info.csv_sha256.as_str());
    assert_eq!(got["text"].as_str().unwrap().as_bytes(), w.release.csv.as_slice());
    let records: Vec<&str> = got["text"].as_str().unwrap().lines().skip(1).collect();
    assert_eq!(records.len(), w.release.records.len());
    assert!(records.iter().all(|r| r.starts_with("2026-01,binary,")), "{records:?}");
    assert_eq!(got["filename"], "crypdoc-diagnoses-v1.csv");
    // One datatoken bought and spent; 10 tUSD + 0.2% paid.
    assert_eq!(got["before"]["datatoken"], "0");
    assert_eq!(got["after"]["datatoken"], "0");
    let paid = base_before - w.base_balance(w.researcher.address()).await;
    assert_eq!(paid, U256::from(10_020_000u64));
    println!(
        "ocean.js {}: order (approve + buyDT + initialize + startOrder) {} ms, startOrder {} gas, download {} ms",
        got["oceanjs"], got["orderMs"], got["orderGas"], got["downloadMs"]
    );
}
