//! The hospital agent node.
//!
//! - [`intake`]: a scan becomes a sealed, content-addressed ciphertext whose data key stays on
//!   this node ([`ScanKeys`]); only its CID goes on chain.
//! - [`HospitalAgent`]: a long-running watcher of the market. For every task this hospital
//!   posted, it wraps the scan key to each doctor who claims a seat (`SeatClaimed` ->
//!   `releaseKey`) and records final diagnoses (`TaskFinalized`).
//! - [`AgentState`]: the watcher's durable state in SQLite. Processing resumes from the last
//!   processed block after a crash; every action is checked against the chain before it is
//!   taken, so nothing is lost and nothing is done twice.

pub mod agent;
pub mod intake;
pub mod report;
pub mod state;

pub use agent::{release_scan_key, AgentReport, HospitalAgent};
pub use intake::{image_content_type, seal_and_store, ScanKeys, ScanMetadata};
pub use state::AgentState;

/// What the hospital node could not do.
#[derive(Debug, thiserror::Error)]
pub enum HospitalError {
    /// The scan is not an image doctors can read.
    #[error("{0}")]
    NotAnImage(&'static str),
    /// A scan data key is missing or unreadable.
    #[error("{0}")]
    ScanKey(String),
    /// The state file belongs to another deployment.
    #[error("{0}")]
    WrongDeployment(String),
    /// Storing or sealing failed.
    #[error(transparent)]
    Storage(#[from] crypdoc_storage::StorageError),
    /// Sealing or wrapping failed.
    #[error(transparent)]
    Seal(#[from] crypdoc_storage::SealError),
    /// A chain operation failed.
    #[error(transparent)]
    Market(#[from] crypdoc_contracts::MarketError),
    /// Reading logs failed.
    #[error("cannot read market events: {0}")]
    Logs(String),
    /// The durable state failed.
    #[error("agent state {path}: {source}")]
    State {
        /// The database file.
        path: String,
        /// Why.
        source: rusqlite::Error,
    },
    /// A local file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}
