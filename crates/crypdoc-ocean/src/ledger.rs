//! The dataset's records and its k-anonymous releases.
//!
//! A record is the month of a final diagnosis, the diagnosis code, its name and the code set it
//! belongs to: nothing about the patient, the scan, the doctors, the task or the hospital. Records
//! wait in the ledger until they can be released without singling anyone out:
//!
//! - a month's waiting records are released only when **every** (month, code set, diagnosis) group
//!   among them has at least `k` records;
//! - the rule is applied to the *waiting* records of a month, also for a month already released:
//!   a late record is held back until its group again has `k` new records, because two
//!   consecutive versions of the file are public and their difference would otherwise be a single
//!   record.
//!
//! Each release is a new version of one logical file, written as CSV and as JSON, holding every
//! record released so far, sorted (arrival order, which could hint at timing within a month, is
//! not kept). The bytes are a pure function of the released records, so a release can be rebuilt
//! at any time and [`DatasetLedger::pending_release`] gives the same bytes until it is committed:
//! a node that crashes between publishing and [`DatasetLedger::commit`] publishes the same hash
//! again.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

/// Default `k`: every published (month, diagnosis) group holds at least this many records.
pub const DEFAULT_K: u32 = 5;

/// Name of the dataset file (versions are numbered inside it and in the DDO).
pub const DATASET_NAME: &str = "crypdoc-diagnoses";

/// Ledger failures.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A month that is not `YYYY-MM`.
    #[error("invalid month {0:?}: expected YYYY-MM (e.g. 2026-03)")]
    Month(String),
    /// A code set or diagnosis name that cannot go into the CSV file as is.
    #[error("invalid {field} {value:?}: use 1-64 characters from a-z, 0-9 and '-'")]
    Name {
        /// Which field.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// `k` of zero.
    #[error("k must be at least 1 (got 0)")]
    ZeroK,
    /// The same (code set, code) was given two different names.
    #[error("code {code} of the {code_set} set is already named {known:?}, not {given:?}")]
    NameConflict {
        /// Code set.
        code_set: String,
        /// Code.
        code: u8,
        /// The name in the ledger.
        known: String,
        /// The name given now.
        given: String,
    },
    /// A release that is not the ledger's pending release.
    #[error("release {version} is not the ledger's pending release (stale or already committed)")]
    NotPending {
        /// Its version.
        version: u32,
    },
    /// Reading or writing the state file.
    #[error("ledger state {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The state file is not a ledger.
    #[error("ledger state {path} is corrupt")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: u16,
    month: u8,
}

impl Month {
    /// The month, if `1 <= month <= 12` and the year has four digits.
    pub fn new(year: u16, month: u8) -> Result<Self, LedgerError> {
        if !(1000..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(LedgerError::Month(format!("{year}-{month:02}")));
        }
        Ok(Self { year, month })
    }

    /// The UTC month containing `unix_seconds` (e.g. a task's finalization block timestamp).
    pub fn from_unix(unix_seconds: u64) -> Self {
        let (year, month, _) = civil_from_days((unix_seconds / 86_400) as i64);
        Self { year: year as u16, month: month as u8 }
    }

    /// The year.
    pub const fn year(self) -> u16 {
        self.year
    }

    /// The month, 1-12.
    pub const fn month(self) -> u8 {
        self.month
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = LedgerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || LedgerError::Month(s.to_owned());
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Self::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).map_err(|_| bad())
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One anonymised record: the month of a final diagnosis and the diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Record {
    /// Month (UTC) in which the diagnosis became final.
    pub month: Month,
    /// The code set the diagnosis belongs to (`binary`, `four-class`).
    pub code_set: String,
    /// The diagnosis code within the set (as stored on chain).
    pub code: u8,
    /// The code's name in the set (`tumor`, `glioma`, ...), for readers of the file.
    pub diagnosis: String,
}

impl Record {
    /// A record, with its names checked (they go into the CSV file unquoted).
    pub fn new(
        month: Month,
        code_set: impl Into<String>,
        code: u8,
        diagnosis: impl Into<String>,
    ) -> Result<Self, LedgerError> {
        let record = Self { month, code_set: code_set.into(), code, diagnosis: diagnosis.into() };
        record.check()?;
        Ok(record)
    }

    fn check(&self) -> Result<(), LedgerError> {
        for (field, value) in [("code set", &self.code_set), ("diagnosis", &self.diagnosis)] {
            let ok = (1..=64).contains(&value.len())
                && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(LedgerError::Name { field, value: value.clone() });
            }
        }
        Ok(())
    }

    fn group(&self) -> (Month, &str, u8) {
        (self.month, &self.code_set, self.code)
    }
}

/// What a release is: its version and the digests of its two files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseInfo {
    /// 1 for the first release, then +1 for each.
    pub version: u32,
    /// The `k` the release was made with.
    pub k: u32,
    /// Months that received records in this release.
    pub new_months: Vec<Month>,
    /// Records in the file (all released so far).
    pub records: usize,
    /// Every month present in the file.
    pub months: Vec<Month>,
    /// Hex SHA-256 of the CSV file.
    pub csv_sha256: String,
    /// Hex SHA-256 of the JSON file.
    pub json_sha256: String,
}

/// A version of the dataset file, with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Version, digests, counts.
    pub info: ReleaseInfo,
    /// The records in the file, sorted.
    pub records: Vec<Record>,
    /// The CSV file (`month,code_set,code,diagnosis`, one record per line).
    pub csv: Vec<u8>,
    /// The JSON file (`{"dataset", "version", "k", "months", "records": [...]}`).
    pub json: Vec<u8>,
}

impl Release {
    /// The release's version.
    pub const fn version(&self) -> u32 {
        self.info.version
    }

    /// Builds the files of `version` from its records (sorted here).
    fn build(version: u32, k: u32, new_months: Vec<Month>, mut records: Vec<Record>) -> Self {
        records.sort();
        let months: Vec<Month> =
            records.iter().map(|r| r.month).collect::<BTreeSet<_>>().into_iter().collect();
        let mut csv = b"month,code_set,code,diagnosis\n".to_vec();
        for r in &records {
            csv.extend_from_slice(
                format!("{},{},{},{}\n", r.month, r.code_set, r.code, r.diagnosis).as_bytes(),
            );
        }
        let json = serde_json::to_vec_pretty(&serde_json::json!({
            "dataset": DATASET_NAME,
            "version": version,
            "k": k,
            "months": months,
            "records": records,
        }))
        .expect("records serialise");
        let info = ReleaseInfo {
            version,
            k,
            new_months,
            records: records.len(),
            months,
            csv_sha256: sha256_hex(&csv),
            json_sha256: sha256_hex(&json),
        };
        Self { info, records, csv, json }
    }
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// How many records of one (month, code set, diagnosis) group wait, and how many more it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingGroup {
    /// Month.
    pub month: Month,
    /// Code set.
    pub code_set: String,
    /// Code.
    pub code: u8,
    /// Diagnosis name.
    pub diagnosis: String,
    /// Records waiting.
    pub waiting: usize,
    /// Records still needed before this group may be released (0 when it is large enough; its
    /// month may still wait for another group).
    pub missing: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LedgerState {
    /// The `k` of the last open (a config change applies from then on).
    k: u32,
    /// Keys of every record ever added (task identifiers chosen by the caller): never published.
    keys: BTreeSet<String>,
    /// Records waiting for k-anonymity.
    pending: Vec<Record>,
    /// Released records with the version that released them.
    released: Vec<(u32, Record)>,
    /// Every committed release.
    releases: Vec<ReleaseInfo>,
}

/// The records of one dataset and its releases, persisted as a JSON file (or in memory).
#[derive(Debug, Clone)]
pub struct DatasetLedger {
    path: Option<PathBuf>,
    state: LedgerState,
}

impl DatasetLedger {
    /// A ledger kept only in memory.
    pub fn in_memory(k: u32) -> Result<Self, LedgerError> {
        if k == 0 {
            return Err(LedgerError::ZeroK);
        }
        Ok(Self { path: None, state: LedgerState { k, ..LedgerState::default() } })
    }

    /// Opens the ledger stored at `path`, creating it when absent. `k` is the configured
    /// anonymity threshold; it applies to every release from now on.
    pub fn open(path: impl AsRef<Path>, k: u32) -> Result<Self, LedgerError> {
        if k == 0 {
            return Err(LedgerError::ZeroK);
        }
        let path = path.as_ref().to_owned();
        let mut state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<LedgerState>(&bytes)
                .map_err(|source| LedgerError::Corrupt { path: path.clone(), source })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => LedgerState::default(),
            Err(source) => return Err(LedgerError::Io { path, source }),
        };
        state.k = k;
        let ledger = Self { path: Some(path), state };
        ledger.save()?;
        Ok(ledger)
    }

    /// The anonymity threshold.
    pub const fn k(&self) -> u32 {
        self.state.k
    }

    /// Adds a record once: `key` identifies its source (for example chain id, market and task
    /// id) and is never published. Returns `false`, changing nothing, when the key was added
    /// before (a replayed event).
    pub fn add(&mut self, key: &str, record: Record) -> Result<bool, LedgerError> {
        record.check()?;
        if self.state.keys.contains(key) {
            return Ok(false);
        }
        let known = self
            .state
            .pending
            .iter()
            .chain(self.state.released.iter().map(|(_, r)| r))
            .find(|r| r.code_set == record.code_set && r.code == record.code);
        if let Some(known) = known.filter(|k| k.diagnosis != record.diagnosis) {
            return Err(LedgerError::NameConflict {
                code_set: record.code_set,
                code: record.code,
                known: known.diagnosis.clone(),
                given: record.diagnosis,
            });
        }
        tracing::debug!(target: "crypdoc::ocean", %key, month = %record.month, "dataset record added");
        self.state.keys.insert(key.to_owned());
        self.state.pending.push(record);
        self.save()?;
        Ok(true)
    }

    /// Whether a record was added under `key` (waiting or released).
    pub fn contains(&self, key: &str) -> bool {
        self.state.keys.contains(key)
    }

    /// Months whose waiting records may all be released now.
    fn releasable_months(&self) -> BTreeSet<Month> {
        let k = self.state.k as usize;
        let mut groups: BTreeMap<Month, BTreeMap<(&str, u8), usize>> = BTreeMap::new();
        for r in &self.state.pending {
            *groups.entry(r.month).or_default().entry((&r.code_set, r.code)).or_default() += 1;
        }
        groups
            .into_iter()
            .filter(|(_, month_groups)| month_groups.values().all(|&n| n >= k))
            .map(|(month, _)| month)
            .collect()
    }

    /// The next release, when at least one month's waiting records satisfy k-anonymity: all
    /// records released so far plus those months' waiting records. The same bytes until
    /// [`commit`](Self::commit) is called.
    pub fn pending_release(&self) -> Option<Release> {
        let months = self.releasable_months();
        if months.is_empty() {
            return None;
        }
        let version = self.latest_version() + 1;
        let records = self
            .state
            .released
            .iter()
            .map(|(_, r)| r.clone())
            .chain(self.state.pending.iter().filter(|r| months.contains(&r.month)).cloned())
            .collect();
        Some(Release::build(version, self.state.k, months.into_iter().collect(), records))
    }

    /// Records `release` (from [`pending_release`](Self::pending_release)) as published: its
    /// waiting records become released. Refuses a release that is not the current pending one.
    pub fn commit(&mut self, release: &Release) -> Result<(), LedgerError> {
        let pending = self.pending_release().filter(|p| p == release);
        let Some(pending) = pending else {
            return Err(LedgerError::NotPending { version: release.version() });
        };
        let months: BTreeSet<Month> = pending.info.new_months.iter().copied().collect();
        let (moved, kept): (Vec<Record>, Vec<Record>) =
            std::mem::take(&mut self.state.pending).into_iter().partition(|r| months.contains(&r.month));
        self.state.pending = kept;
        self.state.released.extend(moved.into_iter().map(|r| (pending.version(), r)));
        self.state.releases.push(pending.info.clone());
        tracing::info!(
            target: "crypdoc::ocean",
            version = pending.version(),
            records = pending.info.records,
            csv_sha256 = %pending.info.csv_sha256,
            "dataset release committed"
        );
        self.save()
    }

    /// Version of the last committed release (0 when none).
    pub fn latest_version(&self) -> u32 {
        self.state.releases.last().map_or(0, |r| r.version)
    }

    /// A committed release, rebuilt from its records.
    pub fn release(&self, version: u32) -> Option<Release> {
        let info = self.state.releases.iter().find(|r| r.version == version)?;
        let records =
            self.state.released.iter().filter(|(v, _)| *v <= version).map(|(_, r)| r.clone()).collect();
        let release = Release::build(version, info.k, info.new_months.clone(), records);
        debug_assert_eq!(&release.info, info, "a release rebuilds to the same bytes");
        Some(release)
    }

    /// The last committed release.
    pub fn latest(&self) -> Option<Release> {
        self.release(self.latest_version())
    }

    /// Every committed release, oldest first.
    pub fn releases(&self) -> &[ReleaseInfo] {
        &self.state.releases
    }

    /// Number of records waiting for k-anonymity.
    pub fn waiting(&self) -> usize {
        self.state.pending.len()
    }

    /// The waiting records by group, with how many each group still needs.
    pub fn waiting_groups(&self) -> Vec<WaitingGroup> {
        let k = self.state.k as usize;
        let mut groups: BTreeMap<(Month, &str, u8), (usize, &str)> = BTreeMap::new();
        for r in &self.state.pending {
            groups.entry(r.group()).or_insert((0, &r.diagnosis)).0 += 1;
        }
        groups
            .into_iter()
            .map(|((month, code_set, code), (waiting, diagnosis))| WaitingGroup {
                month,
                code_set: code_set.to_owned(),
                code,
                diagnosis: diagnosis.to_owned(),
                waiting,
                missing: k.saturating_sub(waiting),
            })
            .collect()
    }

    fn save(&self) -> Result<(), LedgerError> {
        let Some(path) = &self.path else { return Ok(()) };
        let io = |source| LedgerError::Io { path: path.clone(), source };
        let bytes = serde_json::to_vec_pretty(&self.state).map_err(std::io::Error::other).map_err(io)?;
        // A crash leaves either state whole.
        crypdoc_fs::write(path, &bytes).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Month {
        s.parse().unwrap()
    }

    fn rec(m: &str, code: u8) -> Record {
        let name = if code == 1 { "tumor" } else { "no-tumor" };
        Record::new(month(m), "binary", code, name).unwrap()
    }

    fn add_n(ledger: &mut DatasetLedger, m: &str, code: u8, n: usize) {
        for _ in 0..n {
            let key = format!("task-{}", ledger.state.keys.len());
            assert!(ledger.add(&key, rec(m, code)).unwrap());
        }
    }

    #[test]
    fn months_parse_and_print() {
        assert_eq!(month("2026-03").to_string(), "2026-03");
        for bad in ["2026-3", "2026-13", "2026-00", "26-03", "2026/03", "2026-03-01", "abcd-ef", ""] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
        // 2026-03-15T12:00:00Z and the last second of 2024-02 (a leap year).
        assert_eq!(Month::from_unix(1_773_576_000), month("2026-03"));
        assert_eq!(Month::from_unix(1_709_251_199), month("2024-02"));
        assert_eq!(Month::from_unix(1_709_251_200), month("2024-03"));
        assert_eq!(Month::from_unix(0), month("1970-01"));
    }

    #[test]
    fn names_are_checked() {
        assert!(Record::new(month("2026-01"), "binary", 1, "tumor,1").is_err());
        assert!(Record::new(month("2026-01"), "Binary", 1, "tumor").is_err());
        assert!(Record::new(month("2026-01"), "", 1, "tumor").is_err());
        assert!(DatasetLedger::in_memory(0).is_err());
    }

    #[test]
    fn a_month_waits_until_every_group_has_k() {
        let mut l = DatasetLedger::in_memory(3).unwrap();
        add_n(&mut l, "2026-01", 1, 3);
        add_n(&mut l, "2026-01", 0, 2);
        assert_eq!(l.pending_release(), None, "no-tumor has 2 < 3");
        let groups = l.waiting_groups();
        assert_eq!(groups.len(), 2);
        assert_eq!((groups[0].code, groups[0].waiting, groups[0].missing), (0, 2, 1));
        assert_eq!((groups[1].code, groups[1].waiting, groups[1].missing), (1, 3, 0));
        add_n(&mut l, "2026-01", 0, 1);
        let r = l.pending_release().expect("both groups have 3");
        assert_eq!(r.version(), 1);
        assert_eq!(r.info.records, 6);
        assert_eq!(r.info.new_months, vec![month("2026-01")]);
    }

    #[test]
    fn months_are_independent_and_files_sorted() {
        let mut l = DatasetLedger::in_memory(2).unwrap();
        add_n(&mut l, "2026-02", 1, 2);
        add_n(&mut l, "2026-01", 0, 1); // January waits
        let r = l.pending_release().unwrap();
        assert_eq!(r.info.months, vec![month("2026-02")]);
        assert_eq!(r.csv, b"month,code_set,code,diagnosis\n2026-02,binary,1,tumor\n2026-02,binary,1,tumor\n");
        let json: serde_json::Value = serde_json::from_slice(&r.json).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["k"], 2);
        assert_eq!(json["records"][0]["diagnosis"], "tumor");
        assert_eq!(json["records"][0]["month"], "2026-02");
        assert_eq!(r.info.csv_sha256, sha256_hex(&r.csv));
        l.commit(&r).unwrap();
        assert_eq!(l.waiting(), 1);
        add_n(&mut l, "2026-01", 0, 1);
        let r2 = l.pending_release().unwrap();
        assert_eq!(r2.version(), 2);
        let text = String::from_utf8(r2.csv.clone()).unwrap();
        assert_eq!(text.lines().nth(1), Some("2026-01,binary,0,no-tumor"), "sorted by month: {text}");
        assert_eq!(r2.info.records, 4, "a release holds every month released so far");
    }

    #[test]
    fn late_records_of_a_released_month_wait_for_k_new_ones() {
        let mut l = DatasetLedger::in_memory(2).unwrap();
        add_n(&mut l, "2026-01", 1, 2);
        let r1 = l.pending_release().unwrap();
        l.commit(&r1).unwrap();
        add_n(&mut l, "2026-01", 1, 1);
        assert_eq!(l.pending_release(), None, "v2 - v1 would be one record");
        add_n(&mut l, "2026-01", 1, 1);
        let r2 = l.pending_release().unwrap();
        assert_eq!(r2.info.records, 4);
        assert_eq!(r2.info.new_months, vec![month("2026-01")]);
    }

    #[test]
    fn pending_release_is_stable_and_commit_checks_it() {
        let mut l = DatasetLedger::in_memory(1).unwrap();
        add_n(&mut l, "2026-01", 1, 1);
        let a = l.pending_release().unwrap();
        assert_eq!(Some(&a), l.pending_release().as_ref(), "same bytes until committed");
        add_n(&mut l, "2026-02", 1, 1);
        assert!(matches!(l.commit(&a), Err(LedgerError::NotPending { version: 1 })), "stale");
        let b = l.pending_release().unwrap();
        l.commit(&b).unwrap();
        assert!(matches!(l.commit(&b), Err(LedgerError::NotPending { .. })), "committed twice");
        assert_eq!(l.latest(), Some(b.clone()));
        assert_eq!(l.release(1), Some(b));
        assert_eq!(l.release(2), None);
    }

    #[test]
    fn keys_make_add_idempotent_and_names_consistent() {
        let mut l = DatasetLedger::in_memory(2).unwrap();
        assert!(l.add("31337:0xmarket:7", rec("2026-01", 1)).unwrap());
        assert!(!l.add("31337:0xmarket:7", rec("2026-01", 1)).unwrap());
        assert_eq!(l.waiting(), 1);
        assert!(l.contains("31337:0xmarket:7") && !l.contains("31337:0xmarket:8"));
        let renamed = Record::new(month("2026-01"), "binary", 1, "glioma").unwrap();
        assert!(matches!(l.add("other", renamed), Err(LedgerError::NameConflict { .. })));
    }

    #[test]
    fn state_survives_reopen_and_k_changes_apply() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.json");
        let mut l = DatasetLedger::open(&path, 3).unwrap();
        add_n(&mut l, "2026-01", 1, 2);
        let r = {
            let mut l = DatasetLedger::open(&path, 2).unwrap();
            assert_eq!(l.waiting(), 2);
            assert!(!l.add("task-0", rec("2026-01", 1)).unwrap(), "keys persisted");
            let r = l.pending_release().expect("k lowered to 2");
            l.commit(&r).unwrap();
            r
        };
        let l = DatasetLedger::open(&path, 2).unwrap();
        assert_eq!(l.latest(), Some(r));
        assert_eq!(l.waiting(), 0);
        std::fs::write(&path, b"{not json").unwrap();
        assert!(matches!(DatasetLedger::open(&path, 2), Err(LedgerError::Corrupt { .. })));
    }
}
