//! The CrypDoc inference worker: evaluates the classifier on encrypted scans, holding only
//! server keys, behind a small HTTP API. Its client, `WorkerClient`, is the
//! `crypdoc-inference-client` crate, so that callers do not build this server.
//!
//! The hospital keeps the client key. It registers the matching
//! [`crypdoc_fhe::CompressedServerKey`] once (30 MB; the worker expands it once and keeps the
//! expanded key in memory), then sends each [`crypdoc_fhe::EncryptedInput`] (8.5 KB for a 32x32
//! scan) and gets [`crypdoc_fhe::EncryptedLogits`] back, which only it can decrypt.
//!
//! # Routes
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /v1/keys` | `CompressedServerKey::to_bytes()` | `201` (new) or `200` (already registered) `{"key_id", "created", "expanded_bytes", "expand_ms"}` |
//! | `GET /v1/keys/{key_id}` | | `200 {"key_id", "expanded_bytes"}` or `404` |
//! | `POST /v1/infer/{key_id}` | `EncryptedInput::to_bytes()` | `200` `EncryptedLogits::to_bytes()` |
//! | `POST /v1/infer/{key_id}/cid/{cid}` | empty: the input is read from the configured store | `200` the logits, their CID in `x-crypdoc-result-cid` |
//! | `GET /healthz` | | `200 {"status": "ok", "models", "keys", "parameter_id", ...}` |
//! | `GET /metrics` | | Prometheus text format |
//!
//! The model is the one the encrypted input names (its header carries the model id); a worker
//! serves the models it loaded at start-up ([`Worker::new`]).
//!
//! Every refusal is JSON, `{"error": CODE, "message": TEXT}` ([`ApiError`]): `400` for a body
//! that is not a usable object (malformed, truncated, tampered, another kind, another format
//! version or parameter set) and for a **client key** uploaded as a server key, which is always
//! refused; `404` for an unknown key id (never registered, or evicted) or CID; `413` for a body
//! over the route's limit; `422` for a well-formed input for another model or another key; `503`
//! with `Retry-After` when the evaluation queue is full.
//!
//! # Resources
//!
//! - Keys: at most [`WorkerConfig::max_keys`] expanded keys (120 MB each) are kept; registering
//!   one more evicts the least recently used, whose holder's client re-registers it on the next
//!   `404`.
//! - Evaluation is CPU-bound and already spread over all cores by rayon inside
//!   [`crypdoc_fhe::ServerKey::evaluate`]: at most [`WorkerConfig::eval_concurrency`] run at once
//!   (on blocking threads), at most [`WorkerConfig::queue_capacity`] more wait; the next is
//!   refused with `503`.
//! - Shutdown (SIGINT, SIGTERM): stop accepting, finish every accepted request, exit.

pub mod config;
pub mod error;
pub mod metrics;
mod registry;
pub mod server;

pub use config::WorkerConfig;
pub use error::ApiError;
pub use server::{shutdown_signal, Worker, WorkerError};

/// The `tracing` target of everything this crate logs.
pub(crate) const TARGET: &str = "crypdoc::inference";
