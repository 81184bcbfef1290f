//! Scan intake: seal, keep the data key, store the ciphertext.

pub use crypdoc_storage::ScanMetadata;
use crypdoc_storage::{compute_cid, seal_scan, BlobStore, Cid, DataKey};
use std::path::{Path, PathBuf};

use crate::HospitalError;

/// The hospital's scan data keys, one file per sealed scan CID. They never leave this node
/// unwrapped: doctors get them wrapped to their own X25519 keys.
#[derive(Debug, Clone)]
pub struct ScanKeys {
    dir: PathBuf,
}

impl ScanKeys {
    /// Keys kept in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self, cid: &Cid) -> PathBuf {
        self.dir.join(format!("{cid}.key"))
    }

    /// Writes the key atomically, readable by this user only.
    pub fn save(&self, cid: &Cid, key: &DataKey) -> Result<(), HospitalError> {
        let path = self.path(cid);
        let io = |source| HospitalError::Io { path: path.display().to_string(), cause: source };
        crypdoc_fs::write_private(&path, hex::encode(key.as_bytes()).as_bytes()).map_err(io)
    }

    /// The key of the scan `cid`.
    pub fn load(&self, cid: &Cid) -> Result<DataKey, HospitalError> {
        let path = self.path(cid);
        let text = std::fs::read_to_string(&path).map_err(|cause| HospitalError::ScanKeyMissing {
            cid: cid.to_string(),
            dir: self.dir.clone(),
            cause,
        })?;
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| HospitalError::ScanKeyMalformed(path.clone()))?;
        Ok(DataKey::from_bytes(bytes))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The image type from its first bytes; anything but JPEG or PNG is refused.
pub fn image_content_type(bytes: &[u8]) -> Result<&'static str, HospitalError> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok("image/png")
    } else if bytes.is_empty() {
        Err(HospitalError::NotAnImage("the scan file is empty"))
    } else {
        Err(HospitalError::NotAnImage("the scan is not a JPEG or PNG image"))
    }
}

/// Seals `scan` under a fresh data key, keeps the key locally before anything is published (a
/// crash cannot strand a posted task without its key), and stores the ciphertext.
pub async fn seal_and_store(
    store: &impl BlobStore,
    keys: &ScanKeys,
    scan: &[u8],
) -> Result<Cid, HospitalError> {
    let metadata =
        ScanMetadata { version: 1, content_type: image_content_type(scan)?.into(), bytes: scan.len() as u64 };
    let (key, sealed) = seal_scan(scan, &serde_json::to_vec(&metadata).expect("metadata serialises"))?;
    let cid = compute_cid(&sealed);
    keys.save(&cid, &key)?;
    let stored = store.put(sealed.into()).await?;
    debug_assert_eq!(stored, cid, "every store names content as compute_cid does");
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_images_are_accepted() {
        assert_eq!(image_content_type(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(), "image/jpeg");
        assert_eq!(image_content_type(b"\x89PNG\r\n\x1a\n....").unwrap(), "image/png");
        assert!(image_content_type(b"").unwrap_err().to_string().contains("empty"));
        assert!(image_content_type(b"GIF89a").unwrap_err().to_string().contains("not a JPEG or PNG"));
    }

    #[test]
    fn keys_round_trip_and_missing_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let keys = ScanKeys::new(dir.path());
        let cid = compute_cid(b"sealed");
        assert!(keys.load(&cid).unwrap_err().to_string().contains("only the node that sealed it"));
        let key = DataKey::from_bytes([7; 32]);
        keys.save(&cid, &key).unwrap();
        assert_eq!(keys.load(&cid).unwrap().as_bytes(), key.as_bytes());
        std::fs::write(dir.path().join(format!("{cid}.key")), "zz").unwrap();
        assert!(keys.load(&cid).unwrap_err().to_string().contains("not a 32-byte hex key"));
    }
}
