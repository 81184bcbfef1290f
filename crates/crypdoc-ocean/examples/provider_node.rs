//! What the hospital node does with this crate, in one file: keep a ledger, publish its release,
//! serve the Provider routes. For trying the researcher's side (`crypdoc dataset ...`, ocean.js)
//! by hand against a dev chain where Ocean is deployed:
//!
//! ```text
//! RPC_URL=http://127.0.0.1:8545 OCEAN=.crypdoc/ocean-addresses.json \
//! HOSPITAL_KEY=0x59c6... [BASE_TOKEN=0x...] [LISTEN=127.0.0.1:8030] [K=2] \
//! cargo run -p crypdoc-ocean --example provider_node
//! ```
//!
//! The hospital key also serves as the Provider key here (a node may use two). The base token
//! defaults to the deployment's OCEAN.

use alloy::{
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use crypdoc_ocean::{
    deploy::DEV_NETWORK,
    ledger::{Month, Record},
    provider_router, Catalog, DatasetConfig, DatasetFile, DatasetLedger, LedgerSource, OceanAddresses,
    ProviderState, Publisher,
};
use std::sync::{Arc, Mutex};

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("set {name}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("crypdoc=info").init();
    let rpc = env("RPC_URL")?;
    let addresses = OceanAddresses::read(env("OCEAN")?, DEV_NETWORK)?;
    let hospital: PrivateKeySigner = env("HOSPITAL_KEY")?.parse()?;
    let base_token = match std::env::var("BASE_TOKEN") {
        Ok(t) => t.parse()?,
        Err(_) => addresses.ocean,
    };
    let k: u32 = std::env::var("K").ok().and_then(|k| k.parse().ok()).unwrap_or(2);

    // Records as the node adds them when tasks are finalized (here: a sample month).
    let mut ledger = DatasetLedger::in_memory(k)?;
    let month: Month = "2026-01".parse()?;
    for i in 0..2 * k as usize {
        let (code, name) = if i % 2 == 0 { (1, "tumor") } else { (0, "no-tumor") };
        ledger.add(&format!("sample-{i}"), Record::new(month, "binary", code, name)?)?;
    }
    let release = ledger.pending_release().ok_or_else(|| anyhow::anyhow!("no release"))?;
    let ledger = Arc::new(Mutex::new(ledger));

    let listener =
        tokio::net::TcpListener::bind(std::env::var("LISTEN").unwrap_or("127.0.0.1:0".into())).await?;
    let node_url = format!("http://{}", listener.local_addr()?);
    let wallet = ProviderBuilder::new()
        .with_simple_nonce_management()
        .wallet(hospital.clone())
        .connect_http(rpc.parse()?)
        .erased();
    let publisher = Publisher::new(wallet.clone(), hospital.address(), addresses.clone(), &hospital).await?;
    let config = DatasetConfig::new("Example Hospital", &node_url, base_token);
    let published =
        publisher.publish_release(&config, None, &release, &DatasetFile::for_release(&release)).await?;
    ledger.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.commit(&release)?;

    let catalog = Catalog::new();
    catalog.insert(published.asset.clone());
    let state = ProviderState::new(
        ProviderBuilder::new().connect_http(rpc.parse()?).erased(),
        addresses.chain_id,
        hospital,
        catalog,
        Arc::new(LedgerSource(ledger)),
    );
    println!("dataset {} (release {}) served at {node_url}", published.handle.did, release.version());
    axum::serve(listener, provider_router(state)).await?;
    Ok(())
}
