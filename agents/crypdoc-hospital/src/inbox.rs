//! The watched inbox folder: a second intake beside `POST /v1/scans`, for hospital systems that
//! drop files. Each file is submitted like an upload; once its job is durable (or it is refused)
//! the file moves to `accepted/` (renamed to its scan id) or `refused/` (with a `.why.txt` next to
//! it), so a file is never lost and never submitted twice.

use std::path::{Path, PathBuf};
use tracing::{info, warn};

use crate::{Hospital, HospitalError, Submitted};

const TARGET: &str = "crypdoc::hospital::inbox";

/// What one pass over the inbox did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InboxReport {
    /// Files accepted, with their scan ids.
    pub accepted: Vec<(PathBuf, Submitted)>,
    /// Files refused, with the reason.
    pub refused: Vec<(PathBuf, String)>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> HospitalError + '_ {
    move |cause| HospitalError::Io { path: path.display().to_string(), cause }
}

/// Submits every file directly in `dir` (hidden and partial files — names starting with `.` or
/// ending in `.part`/`.tmp` — are left for their writer to finish).
pub async fn scan_inbox(hospital: &Hospital, dir: &Path) -> Result<InboxReport, HospitalError> {
    let (accepted_dir, refused_dir) = (dir.join("accepted"), dir.join("refused"));
    tokio::fs::create_dir_all(&accepted_dir).await.map_err(io(&accepted_dir))?;
    tokio::fs::create_dir_all(&refused_dir).await.map_err(io(&refused_dir))?;
    let mut entries = tokio::fs::read_dir(dir).await.map_err(io(dir))?;
    let mut files = Vec::new();
    while let Some(entry) = entries.next_entry().await.map_err(io(dir))? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let partial = name.starts_with('.') || name.ends_with(".part") || name.ends_with(".tmp");
        if !partial && entry.file_type().await.map_err(io(dir))?.is_file() {
            files.push((name, entry.path()));
        }
    }
    files.sort();
    let mut report = InboxReport::default();
    for (name, path) in files {
        let image = tokio::fs::read(&path).await.map_err(io(&path))?;
        match hospital.submit(&image).await {
            Ok(submitted) => {
                let extension = Path::new(&name).extension().and_then(|e| e.to_str()).unwrap_or("img");
                let target = accepted_dir.join(format!("{}.{extension}", submitted.scan_id));
                // The job is durable before the file moves: a crash in between submits the same
                // bytes again, which returns the same scan id.
                tokio::fs::rename(&path, &target).await.map_err(io(&path))?;
                info!(target: TARGET, file = %name, scan_id = %submitted.scan_id, duplicate = submitted.duplicate, "inbox scan accepted");
                report.accepted.push((target, submitted));
            }
            Err(error @ (HospitalError::NotAnImage(_) | HospitalError::Preprocess(_))) => {
                let reason = crypdoc_types::describe_error(&error);
                let target = refused_dir.join(&name);
                tokio::fs::rename(&path, &target).await.map_err(io(&path))?;
                let why = refused_dir.join(format!("{name}.why.txt"));
                crypdoc_fs::write_async(
                    why.clone(),
                    format!("{reason}\n").into_bytes(),
                    crypdoc_fs::Access::Shared,
                )
                .await
                .map_err(io(&why))?;
                warn!(target: TARGET, file = %name, %reason, "inbox file refused");
                report.refused.push((target, reason));
            }
            // Anything else (disk, database) is transient: the file stays for the next pass.
            Err(error) => return Err(error),
        }
    }
    Ok(report)
}
