//! The hospital's anonymised diagnosis dataset on Ocean Protocol: the node adds one record per
//! resolved task to a [`DatasetLedger`], publishes each k-anonymous release as a new version of
//! its Ocean asset ([`Publisher`]) and serves it to buyers as the asset's Provider
//! ([`provider_router`], mounted under [`OCEAN_PATH`]).
//!
//! A record is the UTC month of the block that finalized the task, the code set and the final
//! diagnosis; nothing about the patient, the scan, the doctors or the task is kept (the task id is
//! only the ledger's key, never published). Unresolved and cancelled tasks have no diagnosis and
//! add nothing.
//!
//! Every step can be repeated: [`NodeDatasets::sync`] adds the records of every finalized job the
//! ledger lacks (so a crash between the report and the ledger loses nothing), then seals and
//! stores the pending release's files on the node's store (ciphertext only, keys kept under the
//! state folder), publishes it (the publisher sends nothing for a release already on chain), and
//! only then commits it in the ledger. Failures are retried with backoff by [`NodeDatasets::run`].

use alloy::{eips::BlockNumberOrTag, primitives::TxHash, providers::Provider};
use axum::Router;
use crypdoc_ocean::{
    deploy::AddressFileError,
    files::{BoxFuture, SourceError},
    ledger::{LedgerError, ReleaseInfo, WaitingGroup},
    provider::{FileNonces, NonceError},
    provider_router, Catalog, ChainError, DatasetConfig, DatasetFile, DatasetHandle, DatasetLedger,
    LedgerSource, Month, OceanAddresses, ProviderState, PublishError, Publisher, Record, Release,
    ReleaseSource,
};
use crypdoc_storage::{compute_cid, open_scan, seal_scan, BlobStore, Cid, Store};
use serde::Serialize;
use std::{
    future::Future,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};
use tracing::{info, warn};

use crate::{
    config::{Confirmations, DatasetsConfig, NodeConfig},
    report::ReportData,
    Hospital, HospitalError, JobState, ScanKeys,
};

const TARGET: &str = "crypdoc::hospital::datasets";

/// Where the node mounts the Provider routes: the DDO's `serviceEndpoint` is the node's URL plus
/// this path.
pub const OCEAN_PATH: &str = "/ocean";

/// Confirmations an order needs before a download when the node follows the `finalized` tag.
const FINALIZED_ORDER_DEPTH: u64 = 64;

/// What the dataset part of the node could not do.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// Ocean's address file is missing or unreadable.
    #[error(transparent)]
    Addresses(#[from] AddressFileError),
    /// The Ocean deployment is on another chain than the market.
    #[error("Ocean's address file is for chain {ocean}, the market is on chain {market}")]
    ChainMismatch {
        /// The address file's chain.
        ocean: u64,
        /// The market's chain.
        market: u64,
    },
    /// No base token is configured and the deployment has no stablecoin.
    #[error("datasets.base_token is not set and the deployment has no stablecoin")]
    NoBaseToken,
    /// A chain read or transaction failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// Publishing failed.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The Provider's nonce store failed.
    #[error(transparent)]
    Nonces(#[from] NonceError),
    /// The hospital's jobs, store or keys failed.
    #[error(transparent)]
    Hospital(#[from] HospitalError),
    /// A finalized task's record cannot be made yet (its report or finalize block is missing).
    #[error("task {task}: {reason}")]
    Record {
        /// The task.
        task: String,
        /// Why.
        reason: String,
    },
    /// A state file could not be written.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
}

/// What one publication did (for logs, the demo and the README's figures).
#[derive(Debug, Clone, Serialize)]
pub struct PublishReport {
    /// The dataset.
    pub did: String,
    /// Release version.
    pub version: u32,
    /// Records in the file.
    pub records: usize,
    /// Gas of `createNftWithErc20WithFixedRate`, when this release created the dataset.
    pub create_gas: Option<u64>,
    /// Gas of `setMetaData` (`None`: the chain already held this release).
    pub metadata_gas: Option<u64>,
    /// Seconds from the start of the sync that published it to the release being served.
    pub seconds: f64,
}

/// Where the dataset stands.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetStatus {
    /// The anonymity threshold.
    pub k: u32,
    /// Records waiting for k-anonymity, by group.
    pub waiting: Vec<WaitingGroup>,
    /// Committed releases, oldest first.
    pub releases: Vec<ReleaseInfo>,
    /// The dataset's DID, once created.
    pub did: Option<String>,
    /// The Provider URL written into the DDO.
    pub service_endpoint: String,
    /// The last publication of this process.
    pub last_publish: Option<PublishReport>,
}

/// The node's dataset: ledger, publisher, Provider routes. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct NodeDatasets(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    ledger: Arc<Mutex<DatasetLedger>>,
    ledger_path: PathBuf,
    handle: Mutex<Option<DatasetHandle>>,
    handle_path: PathBuf,
    publisher: Publisher,
    config: DatasetConfig,
    catalog: Catalog,
    router: Router,
    store: Store,
    keys: ScanKeys,
    code_set: crypdoc_types::DiagnosisSet,
    key_prefix: String,
    // The sealed files of the pending release (its CSV SHA-256), kept across retries so a failed
    // publication does not store a second copy.
    sealed: Mutex<Option<(String, Vec<DatasetFile>)>>,
    last_publish: Mutex<Option<PublishReport>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The Provider's file source: the sealed copies on the node's store (the files object names
/// their CIDs), or, when a copy cannot be read, the bytes rebuilt from the ledger (the Provider
/// checks the SHA-256 of whatever is served against the DDO).
struct NodeSource {
    store: Store,
    keys: ScanKeys,
    ledger: LedgerSource,
}

impl NodeSource {
    async fn open_stored(&self, location: &str) -> Result<Vec<u8>, HospitalError> {
        let cid: Cid = location.parse()?;
        let sealed = self.store.get(&cid).await?;
        let key = self.keys.load(&cid)?;
        Ok(open_scan(&key, &sealed)?.plaintext)
    }
}

impl ReleaseSource for NodeSource {
    fn fetch<'a>(&'a self, file: &'a DatasetFile) -> BoxFuture<'a, Result<Vec<u8>, SourceError>> {
        Box::pin(async move {
            if let Some(location) = &file.location {
                match self.open_stored(location).await {
                    Ok(bytes) => return Ok(bytes),
                    Err(error) => {
                        warn!(target: TARGET, %error, %location, "stored dataset file unreadable; rebuilding it from the ledger");
                    }
                }
            }
            self.ledger.fetch(file).await
        })
    }
}

impl NodeDatasets {
    /// Opens the ledger and the Provider's nonces under `<state_dir>/datasets`, checks Ocean's
    /// contracts, and loads the hospital's published datasets from chain into the Provider's
    /// catalog. `listen` is the bound address (the default public URL).
    pub async fn open(
        node: &NodeConfig,
        config: &DatasetsConfig,
        hospital: &Hospital,
        listen: SocketAddr,
    ) -> Result<Self, DatasetError> {
        let client = hospital.client();
        let addresses = OceanAddresses::read(&config.ocean, &config.network)?;
        let market_chain = client.deployment().chain_id;
        if addresses.chain_id != market_chain {
            return Err(DatasetError::ChainMismatch { ocean: addresses.chain_id, market: market_chain });
        }
        let signer = client.signer().clone();
        let provider = client.provider().clone();
        // The node's wallet publishes and is the Provider: the files object is sealed to it.
        let publisher =
            Publisher::new(provider.clone(), signer.address(), addresses.clone(), &signer).await?;
        let base_token =
            config.base_token.or(client.deployment().stablecoin).ok_or(DatasetError::NoBaseToken)?;
        let public = config.public_url.clone().unwrap_or_else(|| format!("http://{listen}"));
        let endpoint = format!("{}{OCEAN_PATH}", public.trim_end_matches('/'));
        let mut dataset = DatasetConfig::new(&config.author, endpoint, base_token);
        dataset.price.clone_from(&config.price);

        let dir = state_dir(&node.state_dir);
        std::fs::create_dir_all(&dir)
            .map_err(|cause| DatasetError::Io { path: dir.display().to_string(), cause })?;
        let ledger_path = dir.join("ledger.json");
        let ledger = Arc::new(Mutex::new(DatasetLedger::open(&ledger_path, config.k)?));
        let handle_path = dir.join("dataset.json");
        let handle = std::fs::read(&handle_path).ok().and_then(|b| serde_json::from_slice(&b).ok());
        let catalog = Catalog::new();
        let loaded = catalog.load(&provider, &addresses, signer.address()).await?;
        let nonces = FileNonces::open(dir.join("provider-nonces.json"))?;
        let store = hospital.store().clone();
        let keys = ScanKeys::new(dir.join("keys"));
        let mut state = ProviderState::new(
            provider,
            addresses.chain_id,
            signer,
            catalog.clone(),
            Arc::new(NodeSource {
                store: store.clone(),
                keys: keys.clone(),
                ledger: LedgerSource(Arc::clone(&ledger)),
            }),
        );
        state.nonces = Arc::new(nonces);
        state.confirmations = match node.confirmations() {
            Confirmations::Depth(n) => n,
            Confirmations::Finalized => FINALIZED_ORDER_DEPTH,
        };
        let d = client.deployment();
        info!(target: TARGET, k = config.k, datasets = loaded, endpoint = %dataset.service_endpoint, "dataset publishing on; Provider routes under {OCEAN_PATH}");
        Ok(Self(Arc::new(Inner {
            ledger,
            ledger_path,
            handle: Mutex::new(handle),
            handle_path,
            publisher,
            config: dataset,
            catalog,
            router: provider_router(state),
            store,
            keys,
            code_set: hospital.inference().diagnosis_set()?,
            key_prefix: format!("{}:{}", d.chain_id, d.market),
            sealed: Mutex::new(None),
            last_publish: Mutex::new(None),
        })))
    }

    /// The Provider routes (ocean-node's API subset), to mount under [`OCEAN_PATH`].
    pub fn router(&self) -> Router {
        self.0.router.clone()
    }

    /// The assets the Provider serves.
    pub fn catalog(&self) -> &Catalog {
        &self.0.catalog
    }

    /// Where the dataset stands.
    pub fn status(&self) -> DatasetStatus {
        let ledger = lock(&self.0.ledger);
        DatasetStatus {
            k: ledger.k(),
            waiting: ledger.waiting_groups(),
            releases: ledger.releases().to_vec(),
            did: lock(&self.0.handle).as_ref().map(|h| h.did.clone()),
            service_endpoint: self.0.config.service_endpoint.clone(),
            last_publish: lock(&self.0.last_publish).clone(),
        }
    }

    /// Changes `k` from now on (a node takes it from its configuration at start; the demo lowers
    /// it). Waiting records are released at the next sync if they satisfy the new `k`.
    pub fn set_k(&self, k: u32) -> Result<(), DatasetError> {
        let mut ledger = lock(&self.0.ledger);
        // The ledger is saved on every change: reopening keeps everything but `k`.
        *ledger = DatasetLedger::open(&self.0.ledger_path, k)?;
        info!(target: TARGET, k, "dataset k changed");
        Ok(())
    }

    fn key(&self, task: &str) -> String {
        format!("{}:{task}", self.0.key_prefix)
    }

    /// Adds the records of finalized, resolved tasks the ledger lacks, then publishes the pending
    /// release if there is one. Returns the publication, if any. A task whose record cannot be
    /// made yet is skipped (and retried) without holding back the others or the release.
    pub async fn sync(&self, hospital: &Hospital) -> Result<Option<PublishReport>, DatasetError> {
        let started = Instant::now();
        let mut first_error = None;
        for job in hospital.jobs().in_states(&[JobState::Finalized]).await? {
            if job.outcome_status.as_deref() != Some("resolved") {
                continue;
            }
            let (Some(task), Some(code)) = (job.task_id.as_deref(), job.outcome) else { continue };
            let key = self.key(task);
            if lock(&self.0.ledger).contains(&key) {
                continue;
            }
            let record = match self.record_for(hospital, &job.id, task, code).await {
                Ok(record) => record,
                Err(error) => {
                    warn!(target: TARGET, %task, %error, "no dataset record yet; retried next round");
                    first_error.get_or_insert(error);
                    continue;
                }
            };
            if lock(&self.0.ledger).add(&key, record.clone())? {
                info!(target: TARGET, %task, month = %record.month, diagnosis = %record.diagnosis, "dataset record added");
            }
        }
        let published = self.publish_pending(started).await?;
        first_error.map_or(Ok(published), Err)
    }

    /// The record of a finalized task: the month of its finalize block, its final diagnosis.
    async fn record_for(
        &self,
        hospital: &Hospital,
        scan_id: &str,
        task: &str,
        code: u8,
    ) -> Result<Record, DatasetError> {
        let missing = |reason: String| DatasetError::Record { task: task.to_owned(), reason };
        let report = hospital.jobs().report(scan_id).await?.ok_or_else(|| missing("no report".into()))?;
        let report: ReportData =
            serde_json::from_str(&report).map_err(|e| missing(format!("unreadable report: {e}")))?;
        let tx: TxHash = report
            .finalize_tx
            .as_deref()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| missing("the report has no finalize transaction".into()))?;
        let provider = hospital.client().provider();
        let receipt = provider
            .get_transaction_receipt(tx)
            .await
            .map_err(ChainError::from)?
            .ok_or_else(|| missing(format!("finalize transaction {tx} not found")))?;
        let number = receipt.block_number.ok_or_else(|| missing(format!("{tx} is not mined")))?;
        let block = provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(ChainError::from)?
            .ok_or_else(|| missing(format!("block {number} not found")))?;
        let set = self.0.code_set;
        let name = set.name(code).map_err(|e| missing(e.to_string()))?;
        Ok(Record::new(Month::from_unix(block.header.timestamp), set.to_string(), code, name)?)
    }

    /// Seals and stores the release's two files (once per release), for the files object.
    async fn seal_files(&self, release: &Release) -> Result<Vec<DatasetFile>, DatasetError> {
        if let Some((sha, files)) = lock(&self.0.sealed).as_ref() {
            if *sha == release.info.csv_sha256 {
                return Ok(files.clone());
            }
        }
        let mut files = DatasetFile::for_release(release);
        for file in &mut files {
            let bytes = if file.format == "csv" { &release.csv } else { &release.json };
            // The associated data names the file, nothing else.
            let metadata = serde_json::json!({
                "kind": "crypdoc-dataset", "version": file.version, "format": file.format,
            })
            .to_string();
            let (key, sealed) = seal_scan(bytes, metadata.as_bytes()).map_err(HospitalError::from)?;
            let cid = compute_cid(&sealed);
            // The key is kept before the ciphertext is stored or named anywhere.
            self.0.keys.save(&cid, &key)?;
            let stored = self.0.store.put(sealed.into()).await.map_err(HospitalError::from)?;
            file.location = Some(stored.to_string());
        }
        *lock(&self.0.sealed) = Some((release.info.csv_sha256.clone(), files.clone()));
        Ok(files)
    }

    async fn publish_pending(&self, started: Instant) -> Result<Option<PublishReport>, DatasetError> {
        let Some(release) = lock(&self.0.ledger).pending_release() else { return Ok(None) };
        let files = self.seal_files(&release).await?;
        let handle = lock(&self.0.handle).clone();
        let published =
            self.0.publisher.publish_release(&self.0.config, handle.as_ref(), &release, &files).await?;
        if handle.as_ref() != Some(&published.handle) {
            self.save_handle(&published.handle)?;
        }
        self.0.catalog.insert(published.asset.clone());
        lock(&self.0.ledger).commit(&release)?;
        let report = PublishReport {
            did: published.handle.did.clone(),
            version: release.version(),
            records: release.info.records,
            create_gas: published.created.as_ref().map(|r| r.gas_used),
            metadata_gas: published.metadata.as_ref().map(|r| r.gas_used),
            seconds: started.elapsed().as_secs_f64(),
        };
        info!(target: TARGET, did = %report.did, version = report.version, records = report.records, "dataset release published and served");
        *lock(&self.0.last_publish) = Some(report.clone());
        Ok(Some(report))
    }

    fn save_handle(&self, handle: &DatasetHandle) -> Result<(), DatasetError> {
        let path = &self.0.handle_path;
        let io = |cause| DatasetError::Io { path: path.display().to_string(), cause };
        let bytes = serde_json::to_vec_pretty(handle).map_err(std::io::Error::other).map_err(io)?;
        crypdoc_fs::write(path, &bytes).map_err(io)?;
        *lock(&self.0.handle) = Some(handle.clone());
        Ok(())
    }

    /// Syncs every `poll` until `shutdown`; failures back off (up to a minute) and are retried.
    pub async fn run(&self, hospital: Hospital, poll: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backoff = poll;
        loop {
            let delay = match self.sync(&hospital).await {
                Ok(_) => {
                    backoff = poll;
                    poll
                }
                Err(error) => {
                    warn!(target: TARGET, %error, "dataset sync failed; retrying");
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    backoff
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(delay) => {}
            }
        }
    }
}

/// The node's dataset folder: `ledger.json`, `dataset.json` (the handle), `provider-nonces.json`
/// and `keys/` (the sealed files' keys).
pub fn state_dir(node_state_dir: &Path) -> PathBuf {
    node_state_dir.join("datasets")
}
