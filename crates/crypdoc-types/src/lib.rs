//! CrypDoc domain types shared by the contracts layer, the agents and the command line.
//!
//! - [`diagnosis`]: the diagnosis code sets and their stable on-chain integers.
//! - [`commitment`](mod@commitment): blind-vote commitments bound to chain, market, task and doctor,
//!   byte-identical to `DiagnosisMarket.commitmentOf`, and the EIP-712 message whose signature
//!   yields a doctor's recoverable salt.
//! - [`pricing`]: how a model's confidence becomes a bounty and a reputation requirement.
//! - [`task`]: task parameters, checked with the same rules as the contract, and the market's
//!   bounds (seats, windows, the reputation minimum) mirrored as constants.
//!
//! A hospital prices and checks a task before anything is sent; a doctor commits to a vote:
//!
//! ```
//! use alloy::primitives::{Address, B256, U256};
//! use crypdoc_types::{commitment, BountyPolicy, ConfidenceBps, DiagnosisSet, TaskSpec};
//!
//! let set = DiagnosisSet::Binary;
//! let confidence = ConfidenceBps::from_probability(0.826)?;
//! let policy = BountyPolicy::dev_default();
//! // The less sure the model, the larger the bounty (in units of a 6-decimal token).
//! let bounty = policy.bounty(confidence, set.len())?;
//! assert!(bounty > policy.bounty(ConfidenceBps::from_probability(0.99)?, set.len())?);
//! let spec = TaskSpec {
//!     scan_cid: "bafkreia".into(),
//!     diagnosis_set: set,
//!     predicted_class: set.code("tumor")?,
//!     confidence,
//!     seats: 5,
//!     quorum: TaskSpec::majority(5),
//!     bounty,
//!     stake_per_seat: 5_000_000,
//!     min_reputation: policy.min_reputation(bounty),
//!     commit_window_secs: 3_600,
//!     reveal_window_secs: 3_600,
//! };
//! spec.validate()?;
//!
//! // The commitment binds the vote to the chain, market, task and doctor.
//! let (market, doctor, salt) = (Address::repeat_byte(1), Address::repeat_byte(2), B256::repeat_byte(3));
//! let vote = commitment(31337, market, U256::from(1), doctor, set.code("tumor")?, salt);
//! assert_ne!(vote, commitment(1, market, U256::from(1), doctor, set.code("tumor")?, salt));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod commitment;
pub mod diagnosis;
mod error;
pub mod pricing;
pub mod task;

pub use commitment::{commitment, salt_from_signature, VoteSalt};
pub use diagnosis::{DiagnosisError, DiagnosisSet};
pub use error::describe_error;
pub use pricing::{BountyPolicy, PricingError, ReputationTier};
pub use task::{
    ConfidenceBps, TaskSpec, TaskSpecError, Window, DEFAULT_MIN_REPUTATION_WINDOW_SECS, FILL_WINDOW_SECS,
    MAX_COMMIT_WINDOW_SECS, MAX_REVEAL_WINDOW_SECS, MAX_SEATS, MIN_REPUTATION_SEATS,
};
