//! The DDO's `files` field: where the dataset's bytes are, encrypted so that only the Provider
//! (the hospital node) can read it.
//!
//! ocean-node encrypts the files object to its own key (ECIES) and decrypts it in its download
//! handler; here the node is both publisher and Provider, so the object is sealed with
//! XChaCha20-Poly1305 under a key derived (HKDF-SHA256) from the Provider's private key. The
//! associated data binds the ciphertext to the chain, the data NFT and the datatoken: copied into
//! another asset's DDO it does not open (ocean-node's `validateFilesStructure` check, made
//! cryptographic). The plaintext has ocean-node's shape, `{nftAddress, datatokenAddress, files}`.

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, future::Future, pin::Pin, sync::Arc};

use crate::ledger::{DatasetLedger, Release};

/// The file type this crate writes into the files object.
pub const RELEASE_FILE_TYPE: &str = "crypdoc-release";

/// One file of the dataset, as the Provider sees it after decryption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetFile {
    /// `crypdoc-release`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Release version.
    pub version: u32,
    /// `csv` or `json`.
    pub format: String,
    /// MIME type served.
    pub content_type: String,
    /// Hex SHA-256 of the bytes (checked before they are served).
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Where the node keeps the bytes (for example the CID of the sealed file on IPFS); only the
    /// Provider reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl DatasetFile {
    /// The two files of `release`: CSV (file index 0) and JSON (file index 1).
    pub fn for_release(release: &Release) -> Vec<Self> {
        let file = |format: &str, content_type: &str, bytes: &[u8], sha: &str| Self {
            kind: RELEASE_FILE_TYPE.to_owned(),
            version: release.version(),
            format: format.to_owned(),
            content_type: content_type.to_owned(),
            sha256: sha.to_owned(),
            bytes: bytes.len() as u64,
            location: None,
        };
        vec![
            file("csv", "text/csv", &release.csv, &release.info.csv_sha256),
            file("json", "application/json", &release.json, &release.info.json_sha256),
        ]
    }

    /// The download's file name (`crypdoc-diagnoses-v3.csv`).
    pub fn file_name(&self) -> String {
        format!("{}-v{}.{}", crate::ledger::DATASET_NAME, self.version, self.format)
    }
}

/// The decrypted files object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilesObject {
    /// The data NFT (checksummed).
    pub nft_address: String,
    /// The service's datatoken (checksummed).
    pub datatoken_address: String,
    /// The files, by file index.
    pub files: Vec<DatasetFile>,
}

/// Sealing or opening the files object failed.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// Not hex, too short, or the tag does not verify (another key, another asset, altered).
    #[error("the files object does not open with this node's key for this asset")]
    Open,
    /// It opened but is not a files object.
    #[error("the files object is not valid JSON")]
    Json(#[from] serde_json::Error),
}

/// The Provider's key for files objects.
#[derive(Clone)]
pub struct FilesKey([u8; 32]);

impl std::fmt::Debug for FilesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FilesKey(..)")
    }
}

const NONCE_LEN: usize = 24;

impl FilesKey {
    /// Derived from the Provider's signing key (HKDF-SHA256, info `crypdoc.ocean.files.v1`).
    pub fn from_signer(signer: &PrivateKeySigner) -> Self {
        let ikm = signer.credential().to_bytes();
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"crypdoc.ocean"), &ikm);
        let mut key = [0u8; 32];
        hk.expand(b"crypdoc.ocean.files.v1", &mut key).expect("32 bytes is a valid HKDF length");
        Self(key)
    }

    fn aad(chain_id: u64, nft: Address, datatoken: Address) -> Vec<u8> {
        let mut aad = b"crypdoc.ocean.files.v1".to_vec();
        aad.extend_from_slice(&chain_id.to_be_bytes());
        aad.extend_from_slice(nft.as_slice());
        aad.extend_from_slice(datatoken.as_slice());
        aad
    }

    /// Seals `files` for the DDO (`0x` + hex of nonce || ciphertext).
    pub fn seal(&self, chain_id: u64, nft: Address, datatoken: Address, files: &[DatasetFile]) -> String {
        let object = FilesObject {
            nft_address: nft.to_checksum(None),
            datatoken_address: datatoken.to_checksum(None),
            files: files.to_vec(),
        };
        let plaintext = serde_json::to_vec(&object).expect("files serialise");
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = Self::aad(chain_id, nft, datatoken);
        let ciphertext = XChaCha20Poly1305::new_from_slice(&self.0)
            .expect("a 32-byte key")
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: &plaintext, aad: &aad })
            .expect("encryption of a small buffer cannot fail");
        format!("0x{}{}", hex::encode(nonce), hex::encode(ciphertext))
    }

    /// Opens the `files` field of the DDO of `nft` / `datatoken` on `chain_id`.
    pub fn open(
        &self,
        chain_id: u64,
        nft: Address,
        datatoken: Address,
        sealed: &str,
    ) -> Result<FilesObject, FilesError> {
        let bytes = hex::decode(sealed.strip_prefix("0x").unwrap_or(sealed)).map_err(|_| FilesError::Open)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(FilesError::Open);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let aad = Self::aad(chain_id, nft, datatoken);
        let plaintext = XChaCha20Poly1305::new_from_slice(&self.0)
            .expect("a 32-byte key")
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map_err(|_| FilesError::Open)?;
        Ok(serde_json::from_slice(&plaintext)?)
    }
}

/// A boxed future, for the object-safe [`ReleaseSource`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The Provider could not get a file's bytes.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source does not have this file.
    #[error("dataset file v{version} ({format}) is not available")]
    Missing {
        /// Release version.
        version: u32,
        /// Format.
        format: String,
    },
    /// The source failed (storage unreachable, unsealing failed, ...).
    #[error("fetching the dataset file failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where the Provider gets a file's bytes from. The node can implement it over its sealed IPFS
/// copies (using [`DatasetFile::location`]); [`LedgerSource`] rebuilds them from the ledger. The
/// Provider checks the SHA-256 of whatever comes back before serving it.
pub trait ReleaseSource: Send + Sync + 'static {
    /// The bytes of `file`.
    fn fetch<'a>(&'a self, file: &'a DatasetFile) -> BoxFuture<'a, Result<Vec<u8>, SourceError>>;
}

/// Serves releases rebuilt from a shared [`DatasetLedger`] (the file bytes are a pure function of
/// the released records).
#[derive(Debug, Clone)]
pub struct LedgerSource(pub Arc<std::sync::Mutex<DatasetLedger>>);

impl ReleaseSource for LedgerSource {
    fn fetch<'a>(&'a self, file: &'a DatasetFile) -> BoxFuture<'a, Result<Vec<u8>, SourceError>> {
        Box::pin(async move {
            let missing = || SourceError::Missing { version: file.version, format: file.format.clone() };
            let release =
                self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).release(file.version);
            let release = release.ok_or_else(missing)?;
            match file.format.as_str() {
                "csv" => Ok(release.csv),
                "json" => Ok(release.json),
                _ => Err(missing()),
            }
        })
    }
}

/// Files kept in memory by SHA-256 (tests, or a node that keeps the latest release at hand).
#[derive(Debug, Clone, Default)]
pub struct MemorySource(Arc<std::sync::RwLock<BTreeMap<String, Vec<u8>>>>);

impl MemorySource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds both files of `release`.
    pub fn add_release(&self, release: &Release) {
        let mut map = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(release.info.csv_sha256.clone(), release.csv.clone());
        map.insert(release.info.json_sha256.clone(), release.json.clone());
    }

    /// Adds bytes under their SHA-256 (returned).
    pub fn add(&self, bytes: Vec<u8>) -> String {
        let sha = crate::ledger::sha256_hex(&bytes);
        self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(sha.clone(), bytes);
        sha
    }
}

impl ReleaseSource for MemorySource {
    fn fetch<'a>(&'a self, file: &'a DatasetFile) -> BoxFuture<'a, Result<Vec<u8>, SourceError>> {
        Box::pin(async move {
            let map = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            map.get(&file.sha256)
                .cloned()
                .ok_or_else(|| SourceError::Missing { version: file.version, format: file.format.clone() })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Month, Record};

    fn release() -> Release {
        let mut l = DatasetLedger::in_memory(1).unwrap();
        l.add("a", Record::new("2026-01".parse::<Month>().unwrap(), "binary", 1, "tumor").unwrap()).unwrap();
        let r = l.pending_release().unwrap();
        l.commit(&r).unwrap();
        r
    }

    #[test]
    fn seal_opens_only_for_the_same_key_and_asset() {
        let signer = PrivateKeySigner::random();
        let key = FilesKey::from_signer(&signer);
        let (nft, dt) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let files = DatasetFile::for_release(&release());
        let sealed = key.seal(31337, nft, dt, &files);
        let opened = key.open(31337, nft, dt, &sealed).unwrap();
        assert_eq!(opened.files, files);
        assert_eq!(opened.nft_address, nft.to_checksum(None));
        assert_ne!(sealed, key.seal(31337, nft, dt, &files), "fresh nonce each time");
        let other = FilesKey::from_signer(&PrivateKeySigner::random());
        assert!(matches!(other.open(31337, nft, dt, &sealed), Err(FilesError::Open)));
        assert!(matches!(key.open(31338, nft, dt, &sealed), Err(FilesError::Open)));
        assert!(matches!(key.open(31337, dt, nft, &sealed), Err(FilesError::Open)));
        assert!(matches!(key.open(31337, nft, dt, "0x1234"), Err(FilesError::Open)));
        assert!(matches!(key.open(31337, nft, dt, "zz"), Err(FilesError::Open)));
    }

    #[tokio::test]
    async fn sources_serve_release_bytes() {
        let r = release();
        let files = DatasetFile::for_release(&r);
        let mut ledger = DatasetLedger::in_memory(1).unwrap();
        ledger.add("a", r.records[0].clone()).unwrap();
        ledger.commit(&ledger.pending_release().unwrap()).unwrap();
        let source = LedgerSource(Arc::new(std::sync::Mutex::new(ledger)));
        assert_eq!(source.fetch(&files[0]).await.unwrap(), r.csv);
        assert_eq!(source.fetch(&files[1]).await.unwrap(), r.json);
        let mut v2 = files[0].clone();
        v2.version = 2;
        assert!(matches!(source.fetch(&v2).await, Err(SourceError::Missing { version: 2, .. })));
        let memory = MemorySource::new();
        assert!(memory.fetch(&files[0]).await.is_err());
        memory.add_release(&r);
        assert_eq!(memory.fetch(&files[1]).await.unwrap(), r.json);
        assert_eq!(files[0].file_name(), "crypdoc-diagnoses-v1.csv");
    }
}
