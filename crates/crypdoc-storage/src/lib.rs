//! Ciphertext storage for CrypDoc and sealed scans for doctors.
//!
//! Only ciphertext is ever stored: FHE inputs, encrypted logits, sealed scans, encrypted
//! datasets. Everything is content addressed with IPFS CIDs.
//!
//! # Storage
//!
//! [`BlobStore`] has two backends, both giving the CID that
//! `ipfs add --cid-version=1 --raw-leaves --chunker=size-262144` gives on Kubo (CIDv1, raw leaves,
//! UnixFS balanced DAG of 256 KiB chunks, at most 174 links per node), so content keeps its name
//! when it moves from the default set-up to a real node:
//!
//! - [`EmbeddedStore`], the default: blocks in files, written atomically, every block hashed on
//!   read.
//! - [`KuboClient`]: the Kubo RPC API (`add`, `cat`, `pin/add`, `block/stat`, `id`, `version`),
//!   also spoken by js-ipfs, which the tests run because Kubo cannot be installed from the
//!   package registries. It passes `cid-base=base32` (js-ipfs answers base58 otherwise), ignores
//!   `Size` (a string in Kubo, a number in js-ipfs) and always passes a `timeout` to calls that
//!   look for content (js-ipfs hangs on a missing CID otherwise). Uploads and downloads stream,
//!   with a connect timeout, an idle timeout and retries with exponential backoff. By default it
//!   recomputes the CID of everything it adds or reads, so a node cannot substitute content.
//!   It is written on `reqwest` rather than the `ipfs-api` crate, whose 0.17 does not resolve
//!   (yanked `core2`) and whose 0.16 rejects js-ipfs's numeric `Size`.
//!
//! [`Store`] picks a backend at run time; [`store_put`], [`store_get`] and [`store_pin`] are what
//! `crypdoc store put|get|pin` need.
//!
//! # Sealed scans
//!
//! A scan is sealed with XChaCha20-Poly1305 under a fresh random [`DataKey`], its metadata as
//! associated data ([`seal_scan`], format in [`seal`]). The key is wrapped for each doctor with
//! HPKE (RFC 9180, base mode, X25519-HKDF-SHA256 / HKDF-SHA256 / ChaCha20Poly1305) to the
//! doctor's X25519 public key ([`wrap_key`]). A doctor's key pair derives from the doctor's
//! wallet signature of [`DOCTOR_KEY_MESSAGE`] ([`DoctorKeyPair::from_wallet_signature`]), so a
//! wallet is all a doctor needs. A wrong key, truncated or tampered data give
//! [`SealError::Authentication`], never plaintext. `vectors/sealed-scan.json` holds test vectors
//! that other implementations (the doctors' web page) must reproduce.
//!
//! ```
//! use crypdoc_storage::{open_scan, seal_scan, unwrap_key, wrap_key, DoctorKeyPair};
//!
//! // The hospital seals the scan and keeps the data key ...
//! let (key, sealed) = seal_scan(b"scan bytes", br#"{"content_type":"image/jpeg"}"#)?;
//! // ... and wraps it for a seated doctor, whose key pair comes from a wallet signature.
//! let doctor = DoctorKeyPair::from_secret_bytes([7; 32]);
//! let wrapped = wrap_key(&key, &doctor.public_key())?;
//! // Only that doctor can open it.
//! let opened = open_scan(&unwrap_key(&wrapped, &doctor)?, &sealed)?;
//! assert_eq!(opened.plaintext, b"scan bytes");
//! let stranger = DoctorKeyPair::from_secret_bytes([8; 32]);
//! assert!(unwrap_key(&wrapped, &stranger).is_err());
//! # Ok::<(), crypdoc_storage::SealError>(())
//! ```

mod cid;
mod embedded;
mod error;
mod keys;
mod kubo;
pub mod seal;
mod store;
mod unixfs;

pub use cid::{Cid, DAG_PB_CODEC, RAW_CODEC};
pub use embedded::EmbeddedStore;
pub use error::{SealError, StorageError};
pub use keys::{DoctorKeyPair, DoctorPublicKey, DOCTOR_KEY_INFO, DOCTOR_KEY_MESSAGE, DOCTOR_KEY_SALT};
pub use kubo::{KuboClient, KuboConfig, NodeInfo};
pub use rand_core;
pub use seal::{
    open_scan, open_scan_for_doctor, os_rng, seal_scan, seal_scan_with_key, seal_scan_with_rng, unwrap_key,
    wrap_key, wrap_key_with_rng, DataKey, OpenedScan, ScanMetadata, WrappedKey,
};
pub use store::{BlobStore, Store};
pub use unixfs::{compute_cid, CHUNK_SIZE, MAX_LINKS};

use std::path::Path;

/// `crypdoc store put FILE`: stores the file (streaming) and returns the CID to print.
pub async fn store_put(store: &impl BlobStore, file: &Path) -> Result<Cid, StorageError> {
    store.put_file(file).await
}

/// `crypdoc store get CID [-o FILE]`: parses `cid`, then writes the verified content atomically
/// to `out`, or returns it for standard output when `out` is `None`.
pub async fn store_get(
    store: &impl BlobStore,
    cid: &str,
    out: Option<&Path>,
) -> Result<Option<bytes::Bytes>, StorageError> {
    let cid: Cid = cid.parse()?;
    match out {
        Some(path) => store.get_to_file(&cid, path).await.map(|_| None),
        None => store.get(&cid).await.map(Some),
    }
}

/// `crypdoc store pin CID`: parses `cid` and pins it.
pub async fn store_pin(store: &impl BlobStore, cid: &str) -> Result<Cid, StorageError> {
    let cid: Cid = cid.parse()?;
    store.pin(&cid).await?;
    Ok(cid)
}
