//! Every refusal of the API, with its status and a JSON body that names the problem.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use crypdoc_fhe::FheError;
use crypdoc_storage::StorageError;

/// Why a request was refused. The response is `{"error": code, "message": text}` with
/// [`Self::status`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No key with this id is registered (never, or evicted since): register it again.
    #[error("unknown key {0}: register its server key first (POST /v1/keys)")]
    UnknownKey(String),
    /// A path's key id is not 64 hex digits.
    #[error("key id {0:?} is not 64 hex digits")]
    BadKeyId(String),
    /// A client key was uploaded where a server key belongs. The worker never takes one.
    #[error(
        "refused: this is a client key, which must never leave the hospital; register the server key (CompressedServerKey::to_bytes) instead"
    )]
    ClientKeyRefused,
    /// The uploaded server key cannot be used (malformed, truncated, tampered, another kind,
    /// version or parameter set).
    #[error("{0}")]
    BadKey(FheError),
    /// The encrypted input cannot be read (malformed, truncated, tampered, another kind, version
    /// or parameter set).
    #[error("{0}")]
    BadInput(FheError),
    /// A well-formed input that cannot be evaluated here: for another key or model.
    #[error("{0}")]
    Mismatch(FheError),
    /// The input names a model this worker did not load.
    #[error("encrypted input is for model {found}, but this worker serves {served:?}")]
    UnknownModel {
        /// The input's model id.
        found: String,
        /// The loaded models' ids.
        served: Vec<String>,
    },
    /// The body is over the route's limit.
    #[error("{what} too large: this worker accepts at most {limit} bytes")]
    TooLarge {
        /// What the body should have been.
        what: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read.
    #[error("cannot read the request body: {0}")]
    Body(String),
    /// Every evaluation slot is busy and the queue is full.
    #[error("busy: {running} evaluations running and {queued} waiting (the queue's limit); retry in {retry_after_s} s")]
    QueueFull {
        /// Evaluations running.
        running: usize,
        /// Evaluations waiting.
        queued: usize,
        /// Suggested wait, also sent as `Retry-After`.
        retry_after_s: u64,
    },
    /// The CID route was called but no store is configured.
    #[error("this worker has no store: start it with --store-dir or --ipfs-api to evaluate inputs by CID")]
    NoStore,
    /// The CID is not valid, or its content is not in the store.
    #[error("{0}")]
    Cid(StorageError),
    /// The store failed.
    #[error("store: {0}")]
    Store(StorageError),
    /// A bug or a panic in an evaluation.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownKey(_) => StatusCode::NOT_FOUND,
            Self::BadKeyId(_)
            | Self::ClientKeyRefused
            | Self::BadKey(_)
            | Self::BadInput(_)
            | Self::Body(_) => StatusCode::BAD_REQUEST,
            Self::Mismatch(_) | Self::UnknownModel { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::QueueFull { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::NoStore => StatusCode::NOT_IMPLEMENTED,
            Self::Cid(StorageError::NotFound(_)) => StatusCode::NOT_FOUND,
            Self::Cid(_) => StatusCode::BAD_REQUEST,
            Self::Store(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code (the `error` field, and the metrics' `outcome` label).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownKey(_) => "unknown_key",
            Self::BadKeyId(_) => "bad_key_id",
            Self::ClientKeyRefused => "client_key_refused",
            Self::BadKey(_) => "bad_key",
            Self::BadInput(_) => "bad_input",
            Self::Mismatch(FheError::WrongKey { .. }) => "wrong_key",
            Self::Mismatch(FheError::WrongModel { .. }) | Self::UnknownModel { .. } => "wrong_model",
            Self::Mismatch(_) => "unusable_input",
            Self::TooLarge { .. } => "too_large",
            Self::Body(_) => "bad_body",
            Self::QueueFull { .. } => "queue_full",
            Self::NoStore => "no_store",
            Self::Cid(StorageError::NotFound(_)) => "cid_not_found",
            Self::Cid(_) => "bad_cid",
            Self::Store(_) => "store_failed",
            Self::Internal(_) => "internal",
        }
    }

    /// Sorts an error of reading an input: a readable object for another key or model is a
    /// mismatch (`422`), anything else an unreadable body (`400`).
    pub(crate) fn from_input(error: FheError) -> Self {
        match error {
            FheError::WrongKey { .. }
            | FheError::WrongModel { .. }
            | FheError::Model(_)
            | FheError::Input(_) => Self::Mismatch(error),
            other => Self::BadInput(other),
        }
    }

    /// Sorts an error of reading a store's content by CID.
    pub(crate) fn from_storage(error: StorageError) -> Self {
        match error {
            StorageError::InvalidCid(_) | StorageError::UnsupportedCid(_) | StorageError::NotFound(_) => {
                Self::Cid(error)
            }
            other => Self::Store(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code(), "message": self.to_string() });
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Self::QueueFull { retry_after_s, .. } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        }
        response
    }
}
