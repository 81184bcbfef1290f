use crate::cid::Cid;
use std::path::PathBuf;

/// Errors of the blob stores.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A file or directory of the store or of the caller could not be read or written.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done, e.g. "writing block".
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A string or byte sequence is not a CID.
    #[error("invalid CID: {0}")]
    InvalidCid(String),
    /// A well-formed CID that this crate cannot verify (a hash other than sha2-256, an unknown
    /// codec).
    #[error("unsupported CID: {0}")]
    UnsupportedCid(String),
    /// The content (or one of its blocks) is not available.
    #[error("{0} not found")]
    NotFound(Cid),
    /// A block's bytes do not hash to its CID: the store or the node returned corrupt data.
    #[error("block {0} is corrupt: its hash does not match its CID")]
    Corrupt(Cid),
    /// A block hashes correctly but is not a UnixFS file node we can read.
    #[error("block {cid} is malformed: {reason}")]
    MalformedBlock {
        /// The offending block.
        cid: Cid,
        /// What is wrong with it.
        reason: String,
    },
    /// The content read or stored does not have the CID it should have.
    #[error("content has CID {actual}, expected {expected}")]
    CidMismatch {
        /// The CID asked for or computed locally.
        expected: Cid,
        /// The CID the content actually has.
        actual: Cid,
    },
    /// The HTTP request to the IPFS node failed (connection, timeout, body).
    #[error("IPFS RPC {endpoint}")]
    Http {
        /// The RPC endpoint, e.g. `add`.
        endpoint: &'static str,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The IPFS node answered with an error.
    #[error("IPFS RPC {endpoint} failed with HTTP {status}: {message}")]
    Rpc {
        /// The RPC endpoint.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// The node's error message.
        message: String,
    },
    /// The IPFS node answered something this client does not understand.
    #[error("IPFS RPC {endpoint} returned an unexpected response: {detail}")]
    UnexpectedResponse {
        /// The RPC endpoint.
        endpoint: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The IPFS API URL is not usable.
    #[error("invalid IPFS API URL {url:?}: {reason}")]
    InvalidApiUrl {
        /// The URL given.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A blocking storage task panicked or was cancelled.
    #[error("storage task failed")]
    Task(#[from] tokio::task::JoinError),
}

impl StorageError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { action, path: path.into(), source }
    }
}

/// Errors of sealing scans and wrapping keys.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The data does not start with the expected magic bytes and a known version.
    #[error("not a {what} v{expected} (unknown magic or version)")]
    UnsupportedFormat {
        /// The format expected, e.g. "sealed scan".
        what: &'static str,
        /// The version this library writes and reads.
        expected: u8,
    },
    /// Decryption failed: wrong key, truncated or tampered data. No plaintext is returned.
    #[error("authentication failed: wrong key, or truncated or tampered data")]
    Authentication,
    /// A public key is not a valid X25519 key.
    #[error("invalid X25519 public key")]
    InvalidPublicKey,
    /// The wallet signature is not usable as key material.
    #[error("invalid wallet signature: {0}")]
    InvalidSignature(&'static str),
    /// The metadata is larger than the format can carry.
    #[error("scan metadata of {0} bytes is too large")]
    MetadataTooLarge(usize),
    /// Encryption failed (the plaintext is larger than the AEAD allows).
    #[error("encryption failed")]
    Encryption,
}
