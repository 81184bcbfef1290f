//! A dev chain with Ocean deployed, a published dataset and the Provider routes on a loopback
//! port: what every integration test starts from.
#![allow(dead_code, unreachable_pub)]

use alloy::{
    primitives::{utils::parse_units, Address, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use crypdoc_contracts::devnet::Anvil;
use crypdoc_ocean::{
    artifacts::{MockERC20Decimals, IERC20},
    deploy_ocean,
    files::LedgerSource,
    ledger::{Month, Record},
    provider_router, Catalog, DatasetConfig, DatasetFile, DatasetLedger, OceanAddresses, ProviderState,
    Published, Publisher, Release,
};
use std::sync::{Arc, Mutex};

/// Anvil's default dev keys (public knowledge; dev-chain funds only).
pub const KEYS: [&str; 6] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
];

pub fn signer(i: usize) -> PrivateKeySigner {
    KEYS[i].parse().unwrap()
}

pub fn wallet(url: &str, signer: PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new()
        .with_simple_nonce_management()
        .wallet(signer)
        .connect_http(url.parse().unwrap())
        .erased()
}

/// 6-decimal base token units.
pub fn tusd(amount: &str) -> U256 {
    parse_units(amount, 6).unwrap().into()
}

pub struct World {
    pub anvil: Anvil,
    pub _log_dir: tempfile::TempDir,
    pub rpc: String,
    pub addresses: OceanAddresses,
    pub base_token: Address,
    pub hospital: PrivateKeySigner,
    pub provider_key: PrivateKeySigner,
    pub researcher: PrivateKeySigner,
    pub other: PrivateKeySigner,
    pub publisher: Publisher,
    pub config: DatasetConfig,
    pub ledger: Arc<Mutex<DatasetLedger>>,
    pub catalog: Catalog,
    pub node_url: String,
    pub published: Published,
    pub release: Release,
    pub server: tokio::task::JoinHandle<()>,
}

impl World {
    pub fn reader(&self) -> DynProvider {
        ProviderBuilder::new().connect_http(self.rpc.parse().unwrap()).erased()
    }

    pub fn did(&self) -> &str {
        &self.published.handle.did
    }

    pub async fn base_balance(&self, who: Address) -> U256 {
        IERC20::new(self.base_token, self.reader()).balanceOf(who).call().await.unwrap()
    }

    /// Moves the chain's clock forward and mines a block.
    pub async fn warp(&self, seconds: u64) {
        let p = self.reader();
        let _: serde_json::Value = p.raw_request("evm_increaseTime".into(), (seconds,)).await.unwrap();
        let _: serde_json::Value = p.raw_request("evm_mine".into(), ()).await.unwrap();
    }

    /// Publishes the ledger's pending release (commits it) and updates the Provider's catalog.
    pub async fn publish_next(&mut self) -> Published {
        let release = self.ledger.lock().unwrap().pending_release().expect("a release is pending");
        let files = DatasetFile::for_release(&release);
        let published = self
            .publisher
            .publish_release(&self.config, Some(&self.published.handle), &release, &files)
            .await
            .unwrap();
        self.ledger.lock().unwrap().commit(&release).unwrap();
        self.catalog.insert(published.asset.clone());
        self.release = release;
        self.published = published.clone();
        published
    }
}

pub fn record(month: &str, code: u8) -> Record {
    let name = if code == 1 { "tumor" } else { "no-tumor" };
    Record::new(month.parse::<Month>().unwrap(), "binary", code, name).unwrap()
}

/// Anvil, Ocean, a 6-decimal base token, a ledger with k = 2 and one release (2026-01: two
/// tumor, two no-tumor; 2026-02 waiting), published by the hospital and served by the Provider
/// (its own key) on a loopback port. The researcher holds 1000 tUSD.
pub async fn world(timeout: u64) -> World {
    let log_dir = tempfile::tempdir().unwrap();
    let anvil = Anvil::spawn(&log_dir.path().join("anvil.log"), true).await.unwrap();
    let rpc = anvil.endpoint();
    let deployer = wallet(&rpc, signer(0));
    let addresses = deploy_ocean(&deployer, signer(0).address(), &[]).await.unwrap();
    let token =
        MockERC20Decimals::deploy(&deployer, "Test USD".to_owned(), "tUSD".to_owned(), 6).await.unwrap();
    let base_token = *token.address();
    let (hospital, provider_key, researcher, other) = (signer(1), signer(4), signer(2), signer(3));
    for who in [researcher.address(), other.address()] {
        let tx = token.transfer(who, tusd("1000")).send().await.unwrap();
        tx.get_receipt().await.unwrap();
    }

    let mut ledger = DatasetLedger::in_memory(2).unwrap();
    for (i, (m, code)) in
        [("2026-01", 1), ("2026-01", 0), ("2026-01", 1), ("2026-01", 0), ("2026-02", 1)].iter().enumerate()
    {
        ledger.add(&format!("task-{i}"), record(m, *code)).unwrap();
    }
    let release = ledger.pending_release().unwrap();
    let ledger = Arc::new(Mutex::new(ledger));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let node_url = format!("http://{}", listener.local_addr().unwrap());
    let catalog = Catalog::new();
    let state = ProviderState::new(
        ProviderBuilder::new().connect_http(rpc.parse().unwrap()).erased(),
        addresses.chain_id,
        provider_key.clone(),
        catalog.clone(),
        Arc::new(LedgerSource(ledger.clone())),
    );
    let router = provider_router(state);
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });

    let mut config = DatasetConfig::new("Test Hospital", &node_url, base_token);
    config.timeout = timeout;
    let publisher =
        Publisher::new(wallet(&rpc, hospital.clone()), hospital.address(), addresses.clone(), &provider_key)
            .await
            .unwrap();
    let files = DatasetFile::for_release(&release);
    let published = publisher.publish_release(&config, None, &release, &files).await.unwrap();
    ledger.lock().unwrap().commit(&release).unwrap();
    catalog.insert(published.asset.clone());
    World {
        anvil,
        _log_dir: log_dir,
        rpc,
        addresses,
        base_token,
        hospital,
        provider_key,
        researcher,
        other,
        publisher,
        config,
        ledger,
        catalog,
        node_url,
        published,
        release,
        server,
    }
}
