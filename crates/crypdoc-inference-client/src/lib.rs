//! [`WorkerClient`]: the client of a CrypDoc inference worker (`crypdoc-inference`). It
//! registers a hospital's [`CompressedServerKey`] with the worker and has it evaluate
//! [`EncryptedInput`]s, returning [`EncryptedLogits`] that only the client key can decrypt.
//!
//! Every call is async and waits on the network only: serialising a 30 MB server key is left to
//! the caller ([`WorkerClient::ensure_registered_bytes`]), so that it can happen on a blocking
//! thread. This crate is apart from the worker so that its users (the CLI, the hospital node) do
//! not build or link the worker's HTTP server. [`RemoteSession`] is the whole encrypted round
//! trip (keys, registration, encryption on blocking threads, the awaited evaluation, decryption).
//!
//! ```no_run
//! # async fn run(key: &crypdoc_fhe::CompressedServerKey, input: &crypdoc_fhe::EncryptedInput)
//! # -> Result<(), crypdoc_inference_client::ClientError> {
//! use crypdoc_inference_client::WorkerClient;
//!
//! let worker = WorkerClient::new("http://127.0.0.1:8433")?;
//! worker.ensure_registered(key).await?;
//! let logits = worker.infer(&key.key_id_hex(), input).await?;
//! # let _ = logits;
//! # Ok(())
//! # }
//! ```

mod remote;
pub use remote::{RemoteError, RemoteSession};

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use crypdoc_fhe::{CompressedServerKey, EncryptedInput, EncryptedLogits, FheError};
use serde::Deserialize;

/// The `tracing` target of everything this crate logs.
const TARGET: &str = "crypdoc::inference::client";

/// Why a worker call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The worker URL cannot be used.
    #[error("invalid inference worker URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The worker could not be reached, or the connection failed.
    #[error("cannot reach the inference worker at {url}: {cause}")]
    Unreachable {
        /// The request's URL.
        url: String,
        /// The underlying error (shown in the message, so not also a `source`).
        cause: reqwest::Error,
    },
    /// The worker refused the request; `message` is its explanation.
    #[error("inference worker refused {what} (HTTP {status}, {code}): {message}")]
    Refused {
        /// What was asked.
        what: &'static str,
        /// The HTTP status.
        status: u16,
        /// The worker's error code (`crypdoc_inference::ApiError::code`).
        code: String,
        /// The worker's message.
        message: String,
        /// Seconds to wait before retrying, when the worker is busy.
        retry_after_s: Option<u64>,
    },
    /// The worker's answer is not what the API promises.
    #[error("inference worker gave an unusable answer to {what}: {detail}")]
    BadResponse {
        /// What was asked.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The returned logits cannot be read.
    #[error("inference worker returned unreadable logits: {0}")]
    Logits(FheError),
}

impl ClientError {
    /// The worker's error code, if it refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, if the worker refused.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The worker's answer to a registration.
#[derive(Debug, Clone, Deserialize)]
pub struct Registration {
    /// The key id (hex SHA-256 of the key's payload).
    pub key_id: String,
    /// Whether this upload added the key (`false`: it was already held).
    pub created: bool,
    /// Bytes the expanded key takes on the worker.
    pub expanded_bytes: u64,
    /// Milliseconds the worker spent expanding it (absent when it was already held).
    #[serde(default)]
    pub expand_ms: Option<f64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
}

/// A client of one inference worker. It remembers the serialised server keys it registered, so
/// that an inference refused for an unknown key (the worker restarted, or evicted it) registers
/// the key again and retries once.
#[derive(Debug)]
pub struct WorkerClient {
    base: String,
    http: reqwest::Client,
    keys: Mutex<HashMap<String, Bytes>>,
}

impl WorkerClient {
    /// A client of the worker at `base_url` (e.g. `http://127.0.0.1:8433`).
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let invalid =
            |reason: &str| ClientError::InvalidUrl { url: base_url.to_owned(), reason: reason.to_owned() };
        let url = reqwest::Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // A 30 MB key upload on a slow link, or a long queue.
            .timeout(Duration::from_secs(600))
            .build()
            .map_err(|e| invalid(&e.to_string()))?;
        Ok(Self { base: base_url.trim_end_matches('/').to_owned(), http, keys: Mutex::default() })
    }

    /// The worker's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn remember(&self, key: &CompressedServerKey) -> (String, Bytes) {
        self.remember_with(key, || Bytes::from(key.to_bytes()))
    }

    fn remember_with(&self, key: &CompressedServerKey, to_bytes: impl FnOnce() -> Bytes) -> (String, Bytes) {
        let id = key.key_id_hex();
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes = keys.entry(id.clone()).or_insert_with(to_bytes).clone();
        (id, bytes)
    }

    fn remembered(&self, key_id: &str) -> Option<Bytes> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner).get(key_id).cloned()
    }

    async fn send(&self, what: &'static str, request: reqwest::RequestBuilder) -> Result<Bytes, ClientError> {
        let response = request.send().await.map_err(|cause| ClientError::Unreachable {
            url: cause.url().map_or_else(|| self.base.clone(), ToString::to_string),
            cause,
        })?;
        let status = response.status();
        let retry_after_s = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let url = response.url().to_string();
        let body = response.bytes().await.map_err(|cause| ClientError::Unreachable { url, cause })?;
        if status.is_success() {
            return Ok(body);
        }
        let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => (e.error, e.message),
            Err(_) => {
                ("http".to_owned(), String::from_utf8_lossy(&body[..body.len().min(500)]).trim().to_owned())
            }
        };
        Err(ClientError::Refused { what, status: status.as_u16(), code, message, retry_after_s })
    }

    async fn upload(&self, bytes: Bytes) -> Result<Registration, ClientError> {
        const WHAT: &str = "the server key";
        let request = self
            .http
            .post(format!("{}/v1/keys", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        let body = self.send(WHAT, request).await?;
        let registration: Registration = serde_json::from_slice(&body)
            .map_err(|e| ClientError::BadResponse { what: WHAT, detail: e.to_string() })?;
        tracing::info!(
            target: TARGET,
            key_id = %registration.key_id,
            created = registration.created,
            "server key registered with {}",
            self.base
        );
        Ok(registration)
    }

    /// Uploads the server key (30 MB); the worker expands it once and answers with its id.
    /// Idempotent.
    pub async fn register(&self, key: &CompressedServerKey) -> Result<Registration, ClientError> {
        let (id, bytes) = self.remember(key);
        let registration = self.upload(bytes).await?;
        if registration.key_id != id {
            return Err(ClientError::BadResponse {
                what: "the server key",
                detail: format!("registered as {}, but its id is {id}", registration.key_id),
            });
        }
        Ok(registration)
    }

    /// Whether the worker holds the key now.
    pub async fn is_registered(&self, key_id: &str) -> Result<bool, ClientError> {
        match self.send("a key lookup", self.http.get(format!("{}/v1/keys/{key_id}", self.base))).await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("unknown_key") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Registers the key unless the worker already holds it (one small request instead of a
    /// 30 MB upload); returns whether it was uploaded. The key is remembered either way.
    ///
    /// This serialises the key (30 MB) on the calling thread when it is not remembered yet;
    /// [`Self::ensure_registered_bytes`] takes it already serialised.
    pub async fn ensure_registered(&self, key: &CompressedServerKey) -> Result<bool, ClientError> {
        self.ensure_registered_with(key, || Bytes::from(key.to_bytes())).await
    }

    /// [`Self::ensure_registered`] for a key already serialised (`key_bytes` is
    /// `key.to_bytes()`), for example on a blocking thread along with loading it.
    pub async fn ensure_registered_bytes(
        &self,
        key: &CompressedServerKey,
        key_bytes: impl Into<Bytes>,
    ) -> Result<bool, ClientError> {
        self.ensure_registered_with(key, || key_bytes.into()).await
    }

    async fn ensure_registered_with(
        &self,
        key: &CompressedServerKey,
        to_bytes: impl FnOnce() -> Bytes,
    ) -> Result<bool, ClientError> {
        let (id, bytes) = self.remember_with(key, to_bytes);
        if self.is_registered(&id).await? {
            return Ok(false);
        }
        self.upload(bytes).await.map(|_| true)
    }

    /// Has the worker evaluate `input` with the key `key_id` and returns the encrypted logits.
    /// When the worker does not know the key and this client registered it before, it registers
    /// the key again and retries once.
    pub async fn infer(&self, key_id: &str, input: &EncryptedInput) -> Result<EncryptedLogits, ClientError> {
        self.infer_bytes(key_id, Bytes::from(input.to_bytes())).await
    }

    /// [`Self::infer`] for an input already serialised (`EncryptedInput::to_bytes`).
    pub async fn infer_bytes(
        &self,
        key_id: &str,
        body: impl Into<Bytes>,
    ) -> Result<EncryptedLogits, ClientError> {
        let body = body.into();
        let url = format!("{}/v1/infer/{key_id}", self.base);
        self.with_key(key_id, || {
            self.http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(body.clone())
        })
        .await
    }

    /// Has the worker evaluate the encrypted input stored under `cid` in its store.
    pub async fn infer_cid(&self, key_id: &str, cid: &str) -> Result<EncryptedLogits, ClientError> {
        let url = format!("{}/v1/infer/{key_id}/cid/{cid}", self.base);
        self.with_key(key_id, || self.http.post(&url)).await
    }

    async fn with_key(
        &self,
        key_id: &str,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<EncryptedLogits, ClientError> {
        const WHAT: &str = "the encrypted input";
        let body = match self.send(WHAT, request()).await {
            Err(e) if e.code() == Some("unknown_key") => {
                let Some(key) = self.remembered(key_id) else { return Err(e) };
                tracing::info!(target: TARGET, key_id, "the worker does not hold the key (restarted or evicted): registering it again");
                self.upload(key).await?;
                self.send(WHAT, request()).await?
            }
            other => other?,
        };
        EncryptedLogits::from_bytes(&body).map_err(ClientError::Logits)
    }

    /// The worker's `/healthz` answer.
    pub async fn health(&self) -> Result<serde_json::Value, ClientError> {
        const WHAT: &str = "a health check";
        let body = self.send(WHAT, self.http.get(format!("{}/healthz", self.base))).await?;
        serde_json::from_slice(&body)
            .map_err(|e| ClientError::BadResponse { what: WHAT, detail: e.to_string() })
    }
}
