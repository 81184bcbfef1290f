//! The hospital's role in CrypDoc, and its node.
//!
//! - [`Hospital`]: `submit(scan)` takes a scan in and runs it as a durable job through intake,
//!   encrypted evaluation, pricing, sealing, storage and posting ([`jobs`]); every step is
//!   recorded in SQLite before the next starts, and posting checks the chain before it repeats.
//! - [`HospitalAgent`]: the watcher of the market, reading logs in bounded pages up to the
//!   confirmed head, detecting reorgs by block hash: it releases the scan key to each doctor who
//!   claims a seat, finalizes tasks when due and writes the patient's report ([`report`]).
//! - [`server`]: the HTTP API (intake, status, reports, ciphertext gateway, the doctors' page).
//! - [`datasets`]: one anonymised record per resolved task, released k-anonymously as an Ocean
//!   dataset that the node publishes and serves as its Provider.
//! - [`config`]: the node's TOML configuration; [`node`] wires everything into one service.

pub mod agent;
pub mod config;
pub mod datasets;
pub mod db;
pub mod hospital;
pub mod inbox;
pub mod intake;
pub mod jobs;
pub mod node;
pub mod report;
pub mod server;
pub mod state;

pub use agent::{release_scan_key, AgentReport, HospitalAgent};
pub use hospital::{Hospital, Inference, Submitted, TaskPolicy};
pub use intake::{image_content_type, seal_and_store, ScanKeys, ScanMetadata};
pub use jobs::{Job, JobState, JobStore, Prediction};
pub use state::{AgentState, RangeWriter};

/// What the hospital node could not do.
#[derive(Debug, thiserror::Error)]
pub enum HospitalError {
    /// The scan is not an image doctors can read.
    #[error("{0}")]
    NotAnImage(&'static str),
    /// The model cannot read the scan.
    #[error(transparent)]
    Preprocess(#[from] crypdoc_model::PreprocessError),
    /// No data key for a scan: only the node that sealed it holds one.
    #[error("no data key for scan {cid} in {dir}: only the node that sealed it can release it ({cause})")]
    ScanKeyMissing {
        /// The sealed scan's CID.
        cid: String,
        /// Where the node keeps its keys.
        dir: std::path::PathBuf,
        /// Why it could not be read.
        cause: std::io::Error,
    },
    /// A scan data key file does not hold a key.
    #[error("{0} is not a 32-byte hex key")]
    ScanKeyMalformed(std::path::PathBuf),
    /// The state file belongs to another deployment.
    #[error("agent state {state} belongs to deployment {recorded}, not {expected}: use another --state-dir")]
    WrongDeployment {
        /// The state file.
        state: String,
        /// The deployment (`chain:market`) it records.
        recorded: String,
        /// The deployment this node serves.
        expected: String,
    },
    /// The state file's block cursor is not a block number.
    #[error("agent state {state}: the block cursor {value:?} is not a block number; restore the file or start a new --state-dir")]
    CorruptCursor {
        /// The state file.
        state: String,
        /// What it holds.
        value: String,
    },
    /// Storing or sealing failed.
    #[error(transparent)]
    Storage(#[from] crypdoc_storage::StorageError),
    /// Sealing or wrapping failed.
    #[error(transparent)]
    Seal(#[from] crypdoc_storage::SealError),
    /// A chain operation failed.
    #[error(transparent)]
    Market(#[from] crypdoc_contracts::MarketError),
    /// The RPC endpoint failed.
    #[error("the chain's RPC endpoint failed: {0}")]
    Rpc(alloy::transports::TransportError),
    /// Reading the market's events or state failed.
    #[error("cannot read the market's events or state")]
    Read(#[source] Box<alloy::contract::Error>),
    /// The encrypted evaluation failed.
    #[error(transparent)]
    Inference(#[from] crypdoc_fhe::local::LocalError),
    /// The model's classes are not a diagnosis code set.
    #[error(transparent)]
    Diagnosis(#[from] crypdoc_types::DiagnosisError),
    /// The task would break a contract rule.
    #[error(transparent)]
    TaskSpec(#[from] crypdoc_types::TaskSpecError),
    /// The pricing policy failed.
    #[error(transparent)]
    Pricing(#[from] crypdoc_types::PricingError),
    /// A report could not be written.
    #[error("cannot encode the report: {0}")]
    Report(serde_json::Error),
    /// Another hospital process (a running node) holds this state directory.
    #[error("another hospital node is using {0}: submit the scan to it (POST /v1/scans) or stop it first")]
    StateInUse(String),
    /// A job reached a step without what an earlier step records.
    #[error("the job has no {0} recorded")]
    JobIncomplete(&'static str),
    /// The durable state failed.
    #[error("agent state {path}: {cause}")]
    State {
        /// The database file.
        path: String,
        /// Why.
        cause: rusqlite::Error,
    },
    /// A local file could not be read or written.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
    /// A blocking task panicked or was cancelled.
    #[error(transparent)]
    Join(#[from] tokio::task::JoinError),
}

impl HospitalError {
    /// Whether the step can succeed later as it is (the chain, the store or the disk was
    /// briefly unavailable); otherwise the job waits for someone to act (accredit or fund the
    /// hospital, fix the configuration), with the error shown on the job.
    pub const fn is_retryable(&self) -> bool {
        match self {
            Self::Market(error) => error.is_retryable(),
            Self::Rpc(_)
            | Self::Read(_)
            | Self::Storage(_)
            | Self::State { .. }
            | Self::Io { .. }
            | Self::Join(_) => true,
            _ => false,
        }
    }

    pub(crate) fn read(error: alloy::contract::Error) -> Self {
        Self::Read(Box::new(error))
    }

    pub(crate) fn rpc(error: alloy::transports::TransportError) -> Self {
        Self::Rpc(error)
    }
}
