//! Files written whole or not at all.
//!
//! Every file CrypDoc keeps (deployment and address files, salts, keys, ledgers, sealed scans,
//! models, reports) is written through [`AtomicFile`]: the bytes go to a temporary file in the
//! same directory, which is synced and then renamed over the target, and the directory is synced
//! so the rename itself survives a crash. A reader or a crash therefore sees the old file or the
//! new one, never a prefix. A temporary file that was not committed is removed when dropped.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("deployment.json");
//! crypdoc_fs::write(&path, b"{\"chain_id\":31337}")?;
//! assert_eq!(std::fs::read(&path)?, b"{\"chain_id\":31337}");
//! # Ok(()) }
//! ```

#[cfg(unix)]
use std::fs::Permissions;
use std::{
    fs::File,
    io::{self, Write},
    path::{Path, PathBuf},
};

/// Who may read the written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Readable as any new file of this user is (mode 0o666 less the umask).
    Shared,
    /// Readable and writable by this user only (mode 0o600): keys, keystores' secrets.
    Private,
}

/// A file being written next to its target; [`AtomicFile::commit`] puts it in place.
#[derive(Debug)]
pub struct AtomicFile {
    temp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl AtomicFile {
    /// Starts writing `path` (its directory is created if missing).
    pub fn create(path: &Path, access: Access) -> io::Result<Self> {
        Self::create_in(path, &parent(path), access)
    }

    /// Starts writing `path` through a temporary file in `temp_dir`, which must be on the same
    /// file system: a store that sweeps one directory for what crashed writers left behind.
    pub fn create_in(path: &Path, temp_dir: &Path, access: Access) -> io::Result<Self> {
        std::fs::create_dir_all(parent(path))?;
        let dir = temp_dir;
        std::fs::create_dir_all(dir)?;
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("file");
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Elsewhere only ACLs exist; a new file gets the directory's.
        #[cfg(unix)]
        builder.permissions(permissions(access));
        #[cfg(not(unix))]
        let _ = access;
        let temp = builder.tempfile_in(dir)?;
        Ok(Self { temp, target: path.to_owned() })
    }

    /// The open temporary file, for writers that need a [`File`] (e.g. to stream into it).
    pub fn file_mut(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Syncs the data, renames the file over the target and syncs the directory.
    pub fn commit(mut self) -> io::Result<()> {
        self.temp.as_file_mut().flush()?;
        self.temp.as_file().sync_all()?;
        self.temp.persist(&self.target).map_err(|error| error.error)?;
        sync_dir(&parent(&self.target))
    }
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

/// Writes `bytes` to `path` atomically, readable as any new file of this user.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with_access(path, bytes, Access::Shared)
}

/// Writes `bytes` to `path` atomically, readable by this user only.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with_access(path, bytes, Access::Private)
}

/// Writes `bytes` to `path` atomically with the given access.
pub fn write_with_access(path: &Path, bytes: &[u8], access: Access) -> io::Result<()> {
    let mut file = AtomicFile::create(path, access)?;
    file.write_all(bytes)?;
    file.commit()
}

/// [`write_with_access`] on tokio's blocking pool, for async callers.
pub async fn write_async(path: PathBuf, bytes: Vec<u8>, access: Access) -> io::Result<()> {
    tokio::task::spawn_blocking(move || write_with_access(&path, &bytes, access))
        .await
        .map_err(io::Error::other)?
}

#[cfg(unix)]
fn permissions(access: Access) -> Permissions {
    use std::os::unix::fs::PermissionsExt;
    Permissions::from_mode(match access {
        Access::Shared => 0o666,
        Access::Private => 0o600,
    })
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Directories cannot be opened for syncing there; the rename is as durable as the OS makes it.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/state.json");
        write(&path, b"a much longer first version").unwrap();
        write(&path, b"short").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"short");
        assert!(leftovers(path.parent().unwrap()).is_empty());
    }

    #[test]
    fn an_uncommitted_file_leaves_the_old_one_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.json");
        write(&path, b"old").unwrap();
        let mut file = AtomicFile::create(&path, Access::Shared).unwrap();
        file.write_all(b"half of the new").unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_for_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scan.key");
        write_private(&path, b"secret").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let shared = dir.path().join("deployment.json");
        write(&shared, b"{}").unwrap();
        assert_ne!(
            std::fs::metadata(&shared).unwrap().permissions().mode() & 0o044,
            0,
            "umask 022 or 002 expected"
        );
    }

    #[test]
    fn a_missing_directory_that_cannot_be_made_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        write(&file, b"x").unwrap();
        let error = write(&file.join("below-a-file.json"), b"y").unwrap_err();
        assert!(
            matches!(
                error.kind(),
                io::ErrorKind::NotADirectory | io::ErrorKind::AlreadyExists | io::ErrorKind::Other
            ),
            "{error:?}"
        );
    }

    #[test]
    fn a_temporary_directory_elsewhere_is_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let (temp, path) = (dir.path().join("tmp"), dir.path().join("blocks/ab/block"));
        let mut file = AtomicFile::create_in(&path, &temp, Access::Shared).unwrap();
        file.write_all(b"block").unwrap();
        file.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"block");
        assert_eq!(std::fs::read_dir(&temp).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn async_writes_land_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.pdf");
        write_async(path.clone(), vec![7; 100_000], Access::Shared).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len(), 100_000);
    }
}
