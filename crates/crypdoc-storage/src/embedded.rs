//! The embedded on-disk store: IPFS blocks in plain files, one per CID.

use crate::{
    cid::{Cid, DAG_PB_CODEC},
    error::StorageError,
    store::{atomic_write, BlobStore, TARGET},
    unixfs::{decode_block, BlockSink, DagBuilder, CHUNK_SIZE},
};
use bytes::Bytes;
use std::{
    fs,
    io::{self, Read, Write},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

/// Temp files older than this are left over from a crash, not from a write still in progress.
const STALE_TEMP_AGE: Duration = Duration::from_secs(24 * 3600);

/// A directory of IPFS blocks that gives the same CIDs as Kubo.
///
/// Layout: `blocks/<2 chars>/<cid>` (sharded on the next-to-last two characters, like Kubo's
/// flatfs, because the leading ones are the same for every CID), `pins/<cid>` (empty markers) and
/// `tmp/` for writes in progress. Every block is written to `tmp/` and renamed into place, so a
/// crash leaves whole blocks or none, and a root is written only after all its children. Every
/// read hashes the block and compares it with its CID.
///
/// Nothing is ever garbage collected, so a pin only records that the content is wanted.
#[derive(Debug, Clone)]
pub struct EmbeddedStore {
    root: Arc<PathBuf>,
}

impl EmbeddedStore {
    /// Opens (creating if needed) a store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StorageError> {
        let root = dir.as_ref().to_path_buf();
        for sub in ["blocks", "pins", "tmp"] {
            let path = root.join(sub);
            fs::create_dir_all(&path).map_err(|e| StorageError::io("creating", &path, e))?;
        }
        let store = Self { root: Arc::new(root) };
        store.remove_stale_temp_files();
        Ok(store)
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Stores everything `reader` yields and returns its CID; memory use stays at one chunk.
    pub fn put_reader(&self, reader: impl Read) -> Result<Cid, StorageError> {
        put_from_reader(FileSink { store: self }, reader, Path::new("<reader>"))
    }

    /// Writes the content of `cid` to `writer`, verifying every block before it is written, and
    /// returns the number of bytes. On error, `writer` may have received a verified prefix.
    pub fn get_to_writer(&self, cid: &Cid, writer: &mut impl Write) -> Result<u64, StorageError> {
        let mut written = 0u64;
        let mut root_size = None;
        let mut stack = vec![*cid];
        while let Some(next) = stack.pop() {
            let block = self.read_block(&next)?;
            let node = decode_block(&next, &block)?;
            if next == *cid {
                root_size = node.file_size;
            }
            writer
                .write_all(node.data)
                .map_err(|e| StorageError::io("writing content of", cid.to_string(), e))?;
            written += node.data.len() as u64;
            stack.extend(node.links.iter().rev());
        }
        if root_size.is_some_and(|size| size != written) {
            return Err(StorageError::MalformedBlock {
                cid: *cid,
                reason: format!("UnixFS file size {root_size:?} but its blocks hold {written} bytes"),
            });
        }
        Ok(written)
    }

    /// Whether every block of `cid` is present (leaves are checked for presence, inner nodes are
    /// read and verified to find them).
    pub fn contains(&self, cid: &Cid) -> Result<bool, StorageError> {
        let mut stack = vec![*cid];
        while let Some(next) = stack.pop() {
            if next.codec() != DAG_PB_CODEC {
                if !self.block_path(&next).is_file() {
                    return Ok(false);
                }
                continue;
            }
            match self.read_block(&next) {
                Ok(block) => stack.extend(decode_block(&next, &block)?.links),
                Err(StorageError::NotFound(_)) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Records a pin on `cid`, whose content must be complete in the store.
    pub fn pin_sync(&self, cid: &Cid) -> Result<(), StorageError> {
        if !self.contains(cid)? {
            return Err(StorageError::NotFound(*cid));
        }
        let path = self.root.join("pins").join(cid.to_string());
        atomic_write(&path, |_| Ok(()))
    }

    /// The pinned CIDs.
    pub fn pins(&self) -> Result<Vec<Cid>, StorageError> {
        let dir = self.root.join("pins");
        let entries = fs::read_dir(&dir).map_err(|e| StorageError::io("listing", &dir, e))?;
        let mut pins = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| StorageError::io("listing", &dir, e))?;
            // Skip anything that is not ours, such as an editor's backup file.
            if let Some(cid) = entry.file_name().to_str().and_then(|name| name.parse().ok()) {
                pins.push(cid);
            }
        }
        pins.sort();
        Ok(pins)
    }

    fn block_path(&self, cid: &Cid) -> PathBuf {
        let name = cid.to_string();
        let shard = &name[name.len() - 3..name.len() - 1];
        self.root.join("blocks").join(shard).join(name)
    }

    fn read_block(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
        let path = self.block_path(cid);
        let block = match fs::read(&path) {
            Ok(block) => block,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StorageError::NotFound(*cid)),
            Err(e) => return Err(StorageError::io("reading block", path, e)),
        };
        if !cid.matches(&block) {
            tracing::error!(target: TARGET, %cid, path = %path.display(), "corrupt block in embedded store");
            return Err(StorageError::Corrupt(*cid));
        }
        Ok(block)
    }

    fn remove_stale_temp_files(&self) {
        let Ok(entries) = fs::read_dir(self.root.join("tmp")) else { return };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > STALE_TEMP_AGE));
            if stale {
                tracing::debug!(target: TARGET, path = %entry.path().display(), "removing stale temp file");
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

struct FileSink<'a> {
    store: &'a EmbeddedStore,
}

impl BlockSink for FileSink<'_> {
    fn put_block(&mut self, cid: &Cid, block: &[u8]) -> Result<(), StorageError> {
        let path = self.store.block_path(cid);
        // Content addressing makes an existing block identical; a corrupt one is caught on read.
        if path.is_file() {
            return Ok(());
        }
        // Temporary files go to `tmp/`, which opening the store sweeps after a crash.
        let tmp_dir = self.store.root.join("tmp");
        let store_block = || -> io::Result<()> {
            let mut file = crypdoc_fs::AtomicFile::create_in(&path, &tmp_dir, crypdoc_fs::Access::Shared)?;
            file.write_all(block)?;
            file.commit()
        };
        store_block().map_err(|e| StorageError::io("storing block", &path, e))
    }
}

fn put_from_reader(sink: impl BlockSink, mut reader: impl Read, source: &Path) -> Result<Cid, StorageError> {
    let mut builder = DagBuilder::new(sink);
    let mut buf = vec![0u8; CHUNK_SIZE];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StorageError::io("reading", source, e)),
        };
        builder.update(&buf[..n])?;
    }
    let len = builder.len();
    let (cid, _) = builder.finish()?;
    tracing::debug!(target: TARGET, %cid, len, "stored in embedded store");
    Ok(cid)
}

impl BlobStore for EmbeddedStore {
    async fn put(&self, data: Bytes) -> Result<Cid, StorageError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.put_reader(&data[..])).await?
    }

    async fn put_file(&self, path: &Path) -> Result<Cid, StorageError> {
        let store = self.clone();
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let file = fs::File::open(&path).map_err(|e| StorageError::io("opening", &path, e))?;
            put_from_reader(FileSink { store: &store }, io::BufReader::new(file), &path)
        })
        .await?
    }

    async fn get(&self, cid: &Cid) -> Result<Bytes, StorageError> {
        let store = self.clone();
        let cid = *cid;
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            store.get_to_writer(&cid, &mut out)?;
            Ok(Bytes::from(out))
        })
        .await?
    }

    async fn get_to_file(&self, cid: &Cid, path: &Path) -> Result<u64, StorageError> {
        let store = self.clone();
        let cid = *cid;
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut written = 0;
            atomic_write(&path, |file| {
                let mut out = io::BufWriter::with_capacity(CHUNK_SIZE, file);
                written = store.get_to_writer(&cid, &mut out)?;
                out.flush().map_err(|e| StorageError::io("writing", &path, e))
            })?;
            Ok(written)
        })
        .await?
    }

    async fn pin(&self, cid: &Cid) -> Result<(), StorageError> {
        let store = self.clone();
        let cid = *cid;
        tokio::task::spawn_blocking(move || store.pin_sync(&cid)).await?
    }

    async fn has(&self, cid: &Cid) -> Result<bool, StorageError> {
        let store = self.clone();
        let cid = *cid;
        tokio::task::spawn_blocking(move || store.contains(&cid)).await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unixfs::compute_cid;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 253) as u8).collect()
    }

    #[tokio::test]
    async fn roundtrip_multi_chunk_and_has() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let data = Bytes::from(pattern(3 * CHUNK_SIZE + 1));
        let cid = store.put(data.clone()).await.unwrap();
        assert_eq!(cid, compute_cid(&data));
        assert!(store.has(&cid).await.unwrap());
        assert_eq!(store.get(&cid).await.unwrap(), data);

        let out = dir.path().join("out.bin");
        assert_eq!(store.get_to_file(&cid, &out).await.unwrap(), data.len() as u64);
        assert_eq!(fs::read(&out).unwrap(), data);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0, "no temp file left");
    }

    #[tokio::test]
    async fn missing_leaf_means_absent_and_get_fails() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let data = pattern(2 * CHUNK_SIZE);
        let cid = store.put(Bytes::from(data.clone())).await.unwrap();
        let leaf = Cid::v1_for_block(crate::cid::RAW_CODEC, &data[CHUNK_SIZE..]);
        fs::remove_file(store.block_path(&leaf)).unwrap();
        assert!(!store.has(&cid).await.unwrap());
        assert!(matches!(store.get(&cid).await, Err(StorageError::NotFound(c)) if c == leaf));
        assert!(matches!(store.pin(&cid).await, Err(StorageError::NotFound(_))));

        let out = dir.path().join("out.bin");
        assert!(store.get_to_file(&cid, &out).await.is_err());
        assert!(!out.exists(), "a failed read leaves no partial file");
    }

    #[tokio::test]
    async fn corrupt_block_is_detected_on_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let cid = store.put(Bytes::from_static(b"hello\n")).await.unwrap();
        fs::write(store.block_path(&cid), b"hellO\n").unwrap();
        assert!(matches!(store.get(&cid).await, Err(StorageError::Corrupt(c)) if c == cid));
    }

    #[tokio::test]
    async fn pin_records_complete_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let file = dir.path().join("in.bin");
        fs::write(&file, pattern(CHUNK_SIZE + 10)).unwrap();
        let cid = store.put_file(&file).await.unwrap();
        assert!(store.pins().unwrap().is_empty());
        store.pin(&cid).await.unwrap();
        assert_eq!(store.pins().unwrap(), vec![cid]);
        let absent = compute_cid(b"never stored");
        assert!(!store.has(&absent).await.unwrap());
        assert!(matches!(store.pin(&absent).await, Err(StorageError::NotFound(_))));
    }
}
