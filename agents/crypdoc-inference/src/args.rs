//! Command line of `crypdoc-inference`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use crypdoc_inference::config::{DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_KEY_BYTES};
use crypdoc_inference::WorkerConfig;

/// The CrypDoc inference worker: evaluates the classifier on encrypted scans with registered
/// server keys (never client keys). Routes: POST /v1/keys, GET /v1/keys/{key_id},
/// POST /v1/infer/{key_id}, POST /v1/infer/{key_id}/cid/{cid}, GET /healthz, GET /metrics.
#[derive(Debug, Parser)]
#[command(name = "crypdoc-inference", version, about)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, env = "CRYPDOC_WORKER_LISTEN", default_value = "127.0.0.1:8433")]
    pub(crate) listen: SocketAddr,
    /// A model file to serve (repeat for several); inputs name their model by id.
    #[arg(long = "model", default_value = "models/crypdoc-binary-v2.json")]
    pub(crate) models: Vec<PathBuf>,
    /// Expanded server keys kept in memory (about 120 MB each); one more evicts the least
    /// recently used.
    #[arg(long, default_value_t = 8)]
    pub(crate) max_keys: usize,
    /// Evaluations running at once (each already uses every core); default: a quarter of the
    /// cores, at least one.
    #[arg(long)]
    pub(crate) eval_concurrency: Option<usize>,
    /// Evaluations allowed to wait for a slot; beyond that, 503 with Retry-After.
    #[arg(long, default_value_t = 16)]
    pub(crate) queue: usize,
    /// Largest server key upload in bytes (a key is about 30.1 MB).
    #[arg(long, default_value_t = DEFAULT_MAX_KEY_BYTES)]
    pub(crate) max_key_bytes: usize,
    /// Largest encrypted input in bytes (8,481 B for a 32x32 scan).
    #[arg(long, default_value_t = DEFAULT_MAX_INPUT_BYTES)]
    pub(crate) max_input_bytes: usize,
    /// An embedded store to read inputs by CID from (and write results to).
    #[arg(long, conflicts_with = "ipfs_api")]
    pub(crate) store_dir: Option<PathBuf>,
    /// A Kubo RPC API to read inputs by CID from (and write results to).
    #[arg(long, env = "CRYPDOC_IPFS_API")]
    pub(crate) ipfs_api: Option<String>,
}

impl Args {
    pub(crate) fn config(&self) -> WorkerConfig {
        WorkerConfig {
            max_keys: self.max_keys,
            eval_concurrency: self.eval_concurrency.unwrap_or_else(WorkerConfig::default_eval_concurrency),
            queue_capacity: self.queue,
            max_key_bytes: self.max_key_bytes,
            max_input_bytes: self.max_input_bytes,
        }
    }
}
