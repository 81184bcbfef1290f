//! Labelled scan folders and the deterministic train/validation split.
//!
//! A dataset folder has one subfolder per class (`br35h/yes`, `br35h/no`); the class names are
//! the subfolder names, sorted (so Br35H gives `["no", "yes"]`). A `manifest.csv` may sit next to
//! them; it is not needed: every file is hashed while it is read, and that SHA-256 (the same value
//! as the manifest's `sha256` column) decides the split.
//!
//! # Split rule
//!
//! By the first hex digit of the SHA-256 of the file's bytes:
//!
//! | first digit | split |
//! |---|---|
//! | `0`, `1`, `2` | [`Split::Holdout`]: held back by the data owners, never used here |
//! | `3`, `4` | [`Split::Validation`]: temperature fit, metrics, model card |
//! | `5` .. `f` | [`Split::Train`] |

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::preprocess::{preprocess_bytes, InputSpec};

/// Which part of the data a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Used for training.
    Train,
    /// Used for calibration and evaluation.
    Validation,
    /// Held back by the data owners (absent from the shared data); never used.
    Holdout,
}

impl Split {
    /// The split of a file with this hex SHA-256.
    pub fn of_sha256(sha256_hex: &str) -> Self {
        match sha256_hex.as_bytes().first().map(u8::to_ascii_lowercase) {
            Some(b'0' | b'1' | b'2') => Self::Holdout,
            Some(b'3' | b'4') => Self::Validation,
            _ => Self::Train,
        }
    }
}

/// One preprocessed, labelled scan.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The file.
    pub path: PathBuf,
    /// Class index into [`Dataset::classes`].
    pub label: usize,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Preprocessed pixels (see [`crate::preprocess`]).
    pub pixels: Vec<u8>,
}

impl Sample {
    /// The sample's split.
    pub fn split(&self) -> Split {
        Split::of_sha256(&self.sha256)
    }
}

/// A file the loader skipped.
#[derive(Debug, Clone)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// A loaded dataset folder.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Class names (sorted subfolder names).
    pub classes: Vec<String>,
    /// Every usable image, in path order.
    pub samples: Vec<Sample>,
    /// Corrupt, empty or non-image files.
    pub skipped: Vec<Skipped>,
}

/// A folder that is not a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// Reading the folder failed.
    #[error("cannot read dataset folder {path}")]
    Io {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A class that [`Dataset::map_classes`] cannot place.
    #[error("dataset class {class:?} maps to {target:?}, which is not one of {classes:?}")]
    UnknownClass {
        /// The dataset's class.
        class: String,
        /// What it mapped to.
        target: String,
        /// The classes it may map to.
        classes: Vec<String>,
    },
    /// [`Dataset::merge`] of datasets with different classes.
    #[error("cannot merge datasets with classes {ours:?} and {theirs:?}")]
    ClassMismatch {
        /// This dataset's classes.
        ours: Vec<String>,
        /// The other's.
        theirs: Vec<String>,
    },
    /// [`Dataset::load_sources`] of folders whose classes differ and do not all map onto
    /// no/yes tumor.
    #[error("dataset folder {} has class {class:?}, which is neither the other folders' classes nor a no/yes tumor class (no, yes, notumor, glioma, meningioma, pituitary)", path.display())]
    UnmappableClass {
        /// The folder.
        path: PathBuf,
        /// The class.
        class: String,
    },
    /// [`Dataset::load_sources`] with no folder.
    #[error("no dataset folder given")]
    NoSources,
    /// Fewer than two class subfolders.
    #[error("dataset folder {} needs one subfolder per class (at least two), found {found}", path.display())]
    NoClasses {
        /// The folder.
        path: PathBuf,
        /// Class subfolders found.
        found: usize,
    },
}

/// The binary tumor class (`no` or `yes`) of a class name of Br35H (`no`, `yes`) or
/// Nickparvar (`notumor`; `glioma`, `meningioma`, `pituitary`).
pub fn tumor_yes_no(class: &str) -> Option<String> {
    match class {
        "no" | "notumor" => Some("no".into()),
        "yes" | "glioma" | "meningioma" | "pituitary" => Some("yes".into()),
        _ => None,
    }
}

/// An error and its causes, `: `-separated (what `{:#}` of an `anyhow` error prints).
pub use crypdoc_types::describe_error as error_chain;

impl Dataset {
    /// Loads every file under `dir/<class>/`, preprocessing images for `spec`, on all cores.
    /// Files that are not decodable images are skipped with a warning and counted in
    /// [`Dataset::skipped`]; `manifest.csv` and hidden files are ignored.
    pub fn load(dir: &Path, spec: InputSpec) -> Result<Self, DatasetError> {
        let io = |source| DatasetError::Io { path: dir.display().to_string(), source };
        let mut classes: Vec<String> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|name| !name.starts_with('.'))
            .collect();
        classes.sort();
        if classes.len() < 2 {
            return Err(DatasetError::NoClasses { path: dir.to_owned(), found: classes.len() });
        }
        let mut files = Vec::new();
        for (label, class) in classes.iter().enumerate() {
            let class_dir = dir.join(class);
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&class_dir)
                .map_err(io)?
                .filter_map(Result::ok)
                .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .collect();
            entries.sort();
            files.extend(entries.into_iter().map(|p| (p, label)));
        }
        let results: Vec<Result<Sample, Skipped>> = files
            .into_par_iter()
            .map(|(path, label)| {
                let bytes = std::fs::read(&path)
                    .map_err(|e| Skipped { path: path.clone(), reason: e.to_string() })?;
                let sha256 = hex::encode(Sha256::digest(&bytes));
                match preprocess_bytes(&bytes, spec) {
                    Ok(pixels) => Ok(Sample { path, label, sha256, pixels }),
                    Err(e) => Err(Skipped { path, reason: error_chain(&e) }),
                }
            })
            .collect();
        let mut samples = Vec::new();
        let mut skipped = Vec::new();
        for result in results {
            match result {
                Ok(sample) => samples.push(sample),
                Err(skip) => {
                    tracing::warn!(file = %skip.path.display(), reason = %skip.reason, "skipping file");
                    skipped.push(skip);
                }
            }
        }
        Ok(Self { classes, samples, skipped })
    }

    /// Relabels onto `classes` by name: each of this dataset's classes maps through `map` to one
    /// of `classes`, or to `None` to drop its samples.
    pub fn map_classes(
        self,
        classes: &[String],
        map: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, DatasetError> {
        let mut index = Vec::with_capacity(self.classes.len());
        for class in &self.classes {
            index.push(match map(class) {
                None => None,
                Some(target) => Some(classes.iter().position(|c| *c == target).ok_or_else(|| {
                    DatasetError::UnknownClass { class: class.clone(), target, classes: classes.to_vec() }
                })?),
            });
        }
        let samples = self
            .samples
            .into_iter()
            .filter_map(|s| index[s.label].map(|label| Sample { label, ..s }))
            .collect();
        Ok(Self { classes: classes.to_vec(), samples, skipped: self.skipped })
    }

    /// Loads several folders as one dataset, each split by SHA-256 as [`Dataset::load`] does.
    /// Folders with the same classes merge as they are; folders whose classes differ (Br35H's
    /// `no`/`yes` beside Nickparvar's four) are first mapped onto `no`/`yes` tumor with
    /// [`tumor_yes_no`], and a class that does not map is an error rather than silently dropped.
    /// A file present in two folders counts once ([`Dataset::merge`]).
    pub fn load_sources(dirs: &[PathBuf], spec: InputSpec) -> Result<Self, DatasetError> {
        let mut sets = dirs
            .iter()
            .map(|dir| Self::load(dir, spec).map(|set| (dir, set)))
            .collect::<Result<Vec<_>, _>>()?;
        let same_classes = sets.windows(2).all(|pair| pair[0].1.classes == pair[1].1.classes);
        if !same_classes {
            let yes_no = ["no".to_owned(), "yes".to_owned()];
            for (dir, set) in &mut sets {
                if let Some(class) = set.classes.iter().find(|class| tumor_yes_no(class).is_none()) {
                    return Err(DatasetError::UnmappableClass {
                        path: dir.to_path_buf(),
                        class: class.clone(),
                    });
                }
                *set = std::mem::take(set).map_classes(&yes_no, tumor_yes_no)?;
            }
        }
        let mut sets = sets.into_iter().map(|(_, set)| set);
        let first = sets.next().ok_or(DatasetError::NoSources)?;
        sets.try_fold(first, Self::merge)
    }

    /// Loads folders as one dataset labelled with a model's `classes`: each folder's classes map
    /// by name, or for a `no`/`yes` model through [`tumor_yes_no`] (Nickparvar's `notumor` is
    /// `no`, its tumor types `yes`); a class that maps onto none of `classes` is
    /// [`DatasetError::UnknownClass`]. A file in several folders counts once.
    pub fn load_for_classes(
        dirs: &[PathBuf],
        spec: InputSpec,
        classes: &[String],
    ) -> Result<Self, DatasetError> {
        let binary = classes == ["no", "yes"];
        let map = |class: &str| {
            let yes_no = if binary { tumor_yes_no(class) } else { None };
            Some(yes_no.unwrap_or_else(|| class.to_owned()))
        };
        let mut sets =
            dirs.iter().map(|dir| Self::load(dir, spec).and_then(|set| set.map_classes(classes, map)));
        let first = sets.next().ok_or(DatasetError::NoSources)??;
        sets.try_fold(first, |merged, set| merged.merge(set?))
    }

    /// Appends `other`'s samples (same classes), leaving out files whose SHA-256 is already
    /// here: collections copy each other's scans (Nickparvar's `notumor` includes Br35H
    /// images), and the same file must count once.
    pub fn merge(mut self, other: Self) -> Result<Self, DatasetError> {
        if self.classes != other.classes {
            return Err(DatasetError::ClassMismatch { ours: self.classes, theirs: other.classes });
        }
        let mut seen: std::collections::HashSet<String> =
            self.samples.iter().map(|s| s.sha256.clone()).collect();
        self.samples.extend(other.samples.into_iter().filter(|s| seen.insert(s.sha256.clone())));
        self.skipped.extend(other.skipped);
        Ok(self)
    }

    /// The samples of one split.
    pub fn split(&self, split: Split) -> Vec<&Sample> {
        self.samples.iter().filter(|s| s.split() == split).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str, label: usize, sha: &str) -> Sample {
        Sample { path: PathBuf::from(name), label, sha256: sha.into(), pixels: vec![0] }
    }

    #[test]
    fn nickparvar_maps_onto_yes_no_and_merging_counts_each_file_once() {
        let classes: Vec<String> =
            ["glioma", "meningioma", "notumor", "pituitary"].map(String::from).to_vec();
        let nick = Dataset {
            classes,
            samples: (0..4).map(|k| sample(&format!("n{k}"), k, &format!("{k}a"))).collect(),
            skipped: vec![],
        };
        let yes_no = vec!["no".to_owned(), "yes".to_owned()];
        let mapped = nick.map_classes(&yes_no, tumor_yes_no).unwrap();
        assert_eq!(mapped.classes, yes_no);
        assert_eq!(mapped.samples.iter().map(|s| s.label).collect::<Vec<_>>(), [1, 1, 0, 1]);
        let br35h = Dataset {
            classes: yes_no.clone(),
            samples: vec![sample("b0", 0, "2a"), sample("b1", 1, "ff")],
            skipped: vec![],
        };
        let merged = br35h.merge(mapped).unwrap();
        // "2a" is in both: counted once, as the first collection's file.
        assert_eq!(merged.samples.len(), 5);
        assert_eq!(merged.samples.iter().filter(|s| s.sha256 == "2a").count(), 1);
        let bad = Dataset { classes: vec!["cat".into(), "dog".into()], samples: vec![], skipped: vec![] };
        assert!(matches!(
            bad.clone().map_classes(&yes_no, |c| Some(c.to_owned())),
            Err(DatasetError::UnknownClass { .. })
        ));
        assert!(matches!(merged.merge(bad), Err(DatasetError::ClassMismatch { .. })));
    }

    #[test]
    fn folders_load_onto_a_models_classes() {
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
        let spec = InputSpec { size: 32, bits: 4 };
        let (br35h, nickparvar) = (samples.join("br35h"), samples.join("nickparvar"));
        let yes_no = ["no".to_owned(), "yes".to_owned()];
        let both = Dataset::load_for_classes(&[br35h.clone(), nickparvar.clone()], spec, &yes_no).unwrap();
        assert_eq!(both.samples.len(), 24 + 8);
        let glioma = both.samples.iter().find(|s| s.path.starts_with(nickparvar.join("glioma"))).unwrap();
        assert_eq!(glioma.label, 1);
        // A four-class model's order, not the folders' alphabetical one.
        let types = ["notumor", "glioma", "meningioma", "pituitary"].map(str::to_owned);
        let four = Dataset::load_for_classes(std::slice::from_ref(&nickparvar), spec, &types).unwrap();
        assert_eq!(four.classes, types);
        let notumor = four.samples.iter().find(|s| s.path.starts_with(nickparvar.join("notumor"))).unwrap();
        assert_eq!(notumor.label, 0);
        // Br35H's yes/no are not tumor types.
        assert!(matches!(
            Dataset::load_for_classes(&[br35h], spec, &types),
            Err(DatasetError::UnknownClass { class, .. }) if class == "no"
        ));
        assert!(matches!(Dataset::load_for_classes(&[], spec, &yes_no), Err(DatasetError::NoSources)));
    }

    #[test]
    fn several_sources_load_as_one_no_yes_dataset() {
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
        let spec = InputSpec { size: 32, bits: 4 };
        let (br35h, nickparvar) = (samples.join("br35h"), samples.join("nickparvar"));
        let both = Dataset::load_sources(&[br35h.clone(), nickparvar.clone()], spec).unwrap();
        assert_eq!(both.classes, ["no", "yes"]);
        assert_eq!(both.samples.len(), 24 + 8);
        let notumor: Vec<_> =
            both.samples.iter().filter(|s| s.path.starts_with(nickparvar.join("notumor"))).collect();
        assert_eq!(notumor.len(), 2);
        assert!(notumor.iter().all(|s| s.label == 0));
        // The same folder twice: each file counts once and the classes stay as they are.
        let twice = Dataset::load_sources(&[nickparvar.clone(), nickparvar.clone()], spec).unwrap();
        assert_eq!((twice.classes.len(), twice.samples.len()), (4, 8));

        let dir = tempfile::tempdir().unwrap();
        for class in ["cat", "dog"] {
            std::fs::create_dir_all(dir.path().join(class)).unwrap();
            std::fs::copy(br35h.join("yes/y2.jpg"), dir.path().join(class).join("a.jpg")).unwrap();
        }
        let pets = dir.path().to_path_buf();
        assert!(matches!(
            Dataset::load_sources(&[br35h, pets], spec),
            Err(DatasetError::UnmappableClass { class, .. }) if class == "cat"
        ));
        assert!(matches!(Dataset::load_sources(&[], spec), Err(DatasetError::NoSources)));
    }

    #[test]
    fn split_rule_is_by_first_hex_digit() {
        assert_eq!(Split::of_sha256("0abc"), Split::Holdout);
        assert_eq!(Split::of_sha256("2abc"), Split::Holdout);
        assert_eq!(Split::of_sha256("3abc"), Split::Validation);
        assert_eq!(Split::of_sha256("4abc"), Split::Validation);
        assert_eq!(Split::of_sha256("5abc"), Split::Train);
        assert_eq!(Split::of_sha256("Fabc"), Split::Train);
    }
}
