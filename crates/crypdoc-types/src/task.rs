//! Task parameters, validated with the contract's own rules so that a bad task is refused with a
//! clear message before any transaction is sent.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::diagnosis::DiagnosisSet;

/// The most seats a task may have (`DiagnosisMarket.MAX_SEATS`).
pub const MAX_SEATS: u8 = 15;

/// The fewest seats a task needs to earn reputation (`DiagnosisMarket.MIN_REPUTATION_SEATS`):
/// fewer doctors could farm reputation by agreeing with themselves.
pub const MIN_REPUTATION_SEATS: u8 = 3;

const DAY_SECS: u64 = 24 * 3600;

/// The longest commit window, posting to commit deadline (`DiagnosisMarket.MAX_COMMIT_WINDOW`):
/// a seated doctor's stake is never locked for longer than both windows together.
pub const MAX_COMMIT_WINDOW_SECS: u64 = 30 * DAY_SECS;

/// The longest reveal window, commit deadline to reveal deadline
/// (`DiagnosisMarket.MAX_REVEAL_WINDOW`).
pub const MAX_REVEAL_WINDOW_SECS: u64 = 30 * DAY_SECS;

/// How long after posting a task may wait for its seats to fill (`DiagnosisMarket.FILL_WINDOW`);
/// with seats still free at `min(commit deadline, posting + FILL_WINDOW)` anyone may cancel it.
pub const FILL_WINDOW_SECS: u64 = 7 * DAY_SECS;

/// The shortest commit window that earns reputation on a freshly deployed market
/// (`DiagnosisMarket.minReputationWindow()`'s initial value; the admin may change it).
pub const DEFAULT_MIN_REPUTATION_WINDOW_SECS: u64 = 3600;

/// One of a task's two voting phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// Posting to the commit deadline.
    Commit,
    /// The commit deadline to the reveal deadline.
    Reveal,
}

impl Window {
    /// The longest the market allows for this window, in seconds.
    pub const fn max_secs(self) -> u64 {
        match self {
            Self::Commit => MAX_COMMIT_WINDOW_SECS,
            Self::Reveal => MAX_REVEAL_WINDOW_SECS,
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Commit => "commit",
            Self::Reveal => "reveal",
        })
    }
}

/// A calibrated confidence in basis points, 0..=10000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct ConfidenceBps(u16);

impl ConfidenceBps {
    /// Certainty.
    pub const MAX: u16 = 10_000;

    /// A confidence of `bps` basis points.
    pub const fn new(bps: u16) -> Result<Self, TaskSpecError> {
        if bps > Self::MAX {
            return Err(TaskSpecError::ConfidenceOutOfRange(bps));
        }
        Ok(Self(bps))
    }

    /// A probability in [0, 1], rounded to the nearest basis point.
    pub fn from_probability(p: f64) -> Result<Self, TaskSpecError> {
        if !(0.0..=1.0).contains(&p) {
            return Err(TaskSpecError::ProbabilityOutOfRange(p));
        }
        Ok(Self((p * f64::from(Self::MAX)).round() as u16))
    }

    /// Basis points.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// As a probability.
    pub fn probability(self) -> f64 {
        f64::from(self.0) / f64::from(Self::MAX)
    }
}

impl TryFrom<u16> for ConfidenceBps {
    type Error = TaskSpecError;

    fn try_from(bps: u16) -> Result<Self, Self::Error> {
        Self::new(bps)
    }
}

impl From<ConfidenceBps> for u16 {
    fn from(c: ConfidenceBps) -> Self {
        c.0
    }
}

impl fmt::Display for ConfidenceBps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}%", f64::from(self.0) / 100.0)
    }
}

/// What a hospital asks of the market, before deadlines become timestamps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// CID of the sealed scan.
    pub scan_cid: String,
    /// The diagnosis set voted on.
    pub diagnosis_set: DiagnosisSet,
    /// The model's predicted code.
    pub predicted_class: u8,
    /// The model's calibrated confidence.
    pub confidence: ConfidenceBps,
    /// Number of doctors.
    pub seats: u8,
    /// Agreeing votes needed.
    pub quorum: u8,
    /// Escrowed reward (token units).
    pub bounty: u128,
    /// Stake per seat (token units).
    pub stake_per_seat: u128,
    /// Reputation needed to claim a seat (the contract's `uint32`).
    pub min_reputation: u32,
    /// Length of the commit phase in seconds, at most [`MAX_COMMIT_WINDOW_SECS`].
    pub commit_window_secs: u64,
    /// Length of the reveal phase in seconds, at most [`MAX_REVEAL_WINDOW_SECS`].
    pub reveal_window_secs: u64,
}

/// A task the contract would refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskSpecError {
    /// Confidence above 10000 basis points.
    #[error("confidence {0} bps is above 10000 (100%)")]
    ConfidenceOutOfRange(u16),
    /// A probability outside [0, 1].
    #[error("confidence {0} is not a probability in [0, 1]")]
    ProbabilityOutOfRange(f64),
    /// No scan reference.
    #[error("the scan CID is empty")]
    EmptyScanCid,
    /// The prediction is not a code of the set.
    #[error("predicted class {predicted} is not a code of the {set} set")]
    PredictionOutOfRange {
        /// The prediction.
        predicted: u8,
        /// The set.
        set: DiagnosisSet,
    },
    /// Seats outside 1..=MAX_SEATS.
    #[error("seats must be between 1 and {MAX_SEATS}, got {0}")]
    InvalidSeats(u8),
    /// Quorum not a strict majority of the seats.
    #[error("quorum {quorum} must be more than half of the {seats} seats and at most {seats}")]
    InvalidQuorum {
        /// The quorum.
        quorum: u8,
        /// The seats.
        seats: u8,
    },
    /// A zero bounty.
    #[error("the bounty must be positive")]
    ZeroBounty,
    /// An amount that does not fit in uint96.
    #[error("{what} {amount} does not fit the contract's uint96")]
    AmountTooLarge {
        /// Which amount.
        what: &'static str,
        /// The amount.
        amount: u128,
    },
    /// A zero-length phase.
    #[error("commit and reveal windows must both be at least one second")]
    EmptyWindow,
    /// A phase longer than the market allows.
    #[error(
        "the {window} window of {secs} s is longer than the market's maximum of {max} s ({} days)",
        max / DAY_SECS
    )]
    WindowTooLong {
        /// Which window.
        window: Window,
        /// Its requested length in seconds.
        secs: u64,
        /// The longest allowed.
        max: u64,
    },
}

impl TaskSpec {
    /// The smallest quorum allowed for `seats`: a strict majority.
    pub const fn majority(seats: u8) -> u8 {
        seats / 2 + 1
    }

    /// Checks every rule that `DiagnosisMarket.postTask` enforces on the parameters themselves.
    pub fn validate(&self) -> Result<(), TaskSpecError> {
        if self.scan_cid.is_empty() {
            return Err(TaskSpecError::EmptyScanCid);
        }
        if self.predicted_class >= self.diagnosis_set.len() {
            return Err(TaskSpecError::PredictionOutOfRange {
                predicted: self.predicted_class,
                set: self.diagnosis_set,
            });
        }
        if self.seats == 0 || self.seats > MAX_SEATS {
            return Err(TaskSpecError::InvalidSeats(self.seats));
        }
        if self.quorum > self.seats || u16::from(self.quorum) * 2 <= u16::from(self.seats) {
            return Err(TaskSpecError::InvalidQuorum { quorum: self.quorum, seats: self.seats });
        }
        if self.bounty == 0 {
            return Err(TaskSpecError::ZeroBounty);
        }
        for (what, amount) in [("bounty", self.bounty), ("stake per seat", self.stake_per_seat)] {
            if amount > crate::pricing::MAX_BOUNTY {
                return Err(TaskSpecError::AmountTooLarge { what, amount });
            }
        }
        if self.commit_window_secs == 0 || self.reveal_window_secs == 0 {
            return Err(TaskSpecError::EmptyWindow);
        }
        for (window, secs) in
            [(Window::Commit, self.commit_window_secs), (Window::Reveal, self.reveal_window_secs)]
        {
            if secs > window.max_secs() {
                return Err(TaskSpecError::WindowTooLong { window, secs, max: window.max_secs() });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TaskSpec {
        TaskSpec {
            scan_cid: "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am".into(),
            diagnosis_set: DiagnosisSet::Binary,
            predicted_class: 1,
            confidence: ConfidenceBps::new(8_000).unwrap(),
            seats: 5,
            quorum: 3,
            bounty: 1,
            stake_per_seat: 0,
            min_reputation: 0,
            commit_window_secs: 60,
            reveal_window_secs: 60,
        }
    }

    #[test]
    fn valid_spec_passes() {
        assert_eq!(spec().validate(), Ok(()));
        assert_eq!(TaskSpec::majority(5), 3);
        assert_eq!(TaskSpec::majority(4), 3);
    }

    #[test]
    fn each_rule_is_enforced() {
        type Case = (fn(&mut TaskSpec), TaskSpecError);
        let cases: Vec<Case> = vec![
            (|s| s.scan_cid.clear(), TaskSpecError::EmptyScanCid),
            (
                |s| s.predicted_class = 2,
                TaskSpecError::PredictionOutOfRange { predicted: 2, set: DiagnosisSet::Binary },
            ),
            (|s| s.seats = 0, TaskSpecError::InvalidSeats(0)),
            (|s| s.seats = 16, TaskSpecError::InvalidSeats(16)),
            (|s| s.quorum = 2, TaskSpecError::InvalidQuorum { quorum: 2, seats: 5 }),
            (|s| s.quorum = 6, TaskSpecError::InvalidQuorum { quorum: 6, seats: 5 }),
            (|s| s.bounty = 0, TaskSpecError::ZeroBounty),
            (
                |s| s.stake_per_seat = 1 << 96,
                TaskSpecError::AmountTooLarge { what: "stake per seat", amount: 1 << 96 },
            ),
            (|s| s.reveal_window_secs = 0, TaskSpecError::EmptyWindow),
            (
                |s| s.commit_window_secs = MAX_COMMIT_WINDOW_SECS + 1,
                TaskSpecError::WindowTooLong {
                    window: Window::Commit,
                    secs: MAX_COMMIT_WINDOW_SECS + 1,
                    max: MAX_COMMIT_WINDOW_SECS,
                },
            ),
            (
                |s| s.reveal_window_secs = MAX_REVEAL_WINDOW_SECS + 1,
                TaskSpecError::WindowTooLong {
                    window: Window::Reveal,
                    secs: MAX_REVEAL_WINDOW_SECS + 1,
                    max: MAX_REVEAL_WINDOW_SECS,
                },
            ),
        ];
        for (mutate, expected) in cases {
            let mut s = spec();
            mutate(&mut s);
            assert_eq!(s.validate(), Err(expected));
        }
    }

    #[test]
    fn windows_up_to_the_maximum_pass() {
        let mut s = spec();
        s.commit_window_secs = MAX_COMMIT_WINDOW_SECS;
        s.reveal_window_secs = MAX_REVEAL_WINDOW_SECS;
        assert_eq!(s.validate(), Ok(()));
        s.commit_window_secs += 1;
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "the commit window of 2592001 s is longer than the market's maximum of 2592000 s (30 days)"
        );
    }

    #[test]
    fn confidence_bounds() {
        assert!(ConfidenceBps::new(10_001).is_err());
        assert_eq!(ConfidenceBps::from_probability(0.93456).unwrap().get(), 9_346);
        assert!(ConfidenceBps::from_probability(1.2).is_err());
        assert!(ConfidenceBps::from_probability(f64::NAN).is_err());
        assert_eq!(ConfidenceBps::new(9_346).unwrap().to_string(), "93.46%");
    }
}
