//! The [`BlobStore`] interface and [`Store`], the backend chosen at run time.

use crate::{
    cid::Cid,
    embedded::EmbeddedStore,
    error::StorageError,
    kubo::{KuboClient, KuboConfig},
};
use bytes::Bytes;
use std::{fs, future::Future, path::Path};

pub(crate) const TARGET: &str = "crypdoc::storage";

/// Content-addressed storage of immutable blobs.
///
/// Every backend gives a blob the CID that `ipfs add --cid-version=1 --raw-leaves
/// --chunker=size-262144` gives it, so content moves between backends under the same name.
pub trait BlobStore: Send + Sync {
    /// Stores `data` and returns its CID.
    fn put(&self, data: Bytes) -> impl Future<Output = Result<Cid, StorageError>> + Send;

    /// Stores the file at `path`, streaming it, and returns its CID.
    fn put_file(&self, path: &Path) -> impl Future<Output = Result<Cid, StorageError>> + Send;

    /// Returns the verified content of `cid`.
    fn get(&self, cid: &Cid) -> impl Future<Output = Result<Bytes, StorageError>> + Send;

    /// Streams the verified content of `cid` into `path` and returns its length. The file appears
    /// whole or not at all: it is written to a temp file beside `path` and renamed.
    fn get_to_file(&self, cid: &Cid, path: &Path) -> impl Future<Output = Result<u64, StorageError>> + Send;

    /// Keeps the content of `cid` from garbage collection; fails if it cannot be found.
    fn pin(&self, cid: &Cid) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// Whether the content of `cid` is available without fetching it from elsewhere.
    fn has(&self, cid: &Cid) -> impl Future<Output = Result<bool, StorageError>> + Send;
}

/// The backend the command line picks: the embedded store unless an IPFS API URL is given.
#[derive(Debug, Clone)]
pub enum Store {
    /// The embedded on-disk store.
    Embedded(EmbeddedStore),
    /// A Kubo (or js-ipfs) node over its RPC API.
    Kubo(KuboClient),
}

impl Store {
    /// `--ipfs-api URL` if given, otherwise the embedded store in `embedded_dir`.
    pub fn open(ipfs_api: Option<&str>, embedded_dir: &Path) -> Result<Self, StorageError> {
        match ipfs_api {
            Some(url) => Ok(Self::Kubo(KuboClient::new(url, KuboConfig::default())?)),
            None => Ok(Self::Embedded(EmbeddedStore::open(embedded_dir)?)),
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            Self::Embedded($store) => $call.await,
            Self::Kubo($store) => $call.await,
        }
    };
}

impl BlobStore for Store {
    async fn put(&self, data: Bytes) -> Result<Cid, StorageError> {
        dispatch!(self, s => s.put(data))
    }

    async fn put_file(&self, path: &Path) -> Result<Cid, StorageError> {
        dispatch!(self, s => s.put_file(path))
    }

    async fn get(&self, cid: &Cid) -> Result<Bytes, StorageError> {
        dispatch!(self, s => s.get(cid))
    }

    async fn get_to_file(&self, cid: &Cid, path: &Path) -> Result<u64, StorageError> {
        dispatch!(self, s => s.get_to_file(cid, path))
    }

    async fn pin(&self, cid: &Cid) -> Result<(), StorageError> {
        dispatch!(self, s => s.pin(cid))
    }

    async fn has(&self, cid: &Cid) -> Result<bool, StorageError> {
        dispatch!(self, s => s.has(cid))
    }
}

/// Writes `path` through `fill` into a temp file in the same directory, syncs it and renames it
/// over `path`; if `fill` fails the temp file is removed and `path` is untouched.
pub(crate) fn atomic_write(
    path: &Path,
    fill: impl FnOnce(&mut fs::File) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    let mut tmp = crypdoc_fs::AtomicFile::create(path, crypdoc_fs::Access::Shared)
        .map_err(|e| StorageError::io("creating a temporary file for", path, e))?;
    fill(tmp.file_mut())?;
    tmp.commit().map_err(|e| StorageError::io("writing", path, e))
}
