//! CrypDoc domain types shared by the contracts layer, the agents and the command line.
//!
//! - [`diagnosis`]: the diagnosis code sets and their stable on-chain integers.
//! - [`commitment`]: blind-vote commitments bound to chain, market, task and doctor,
//!   byte-identical to `DiagnosisMarket.commitmentOf`, and the EIP-712 message whose signature
//!   yields a doctor's recoverable salt.
//! - [`pricing`]: how a model's confidence becomes a bounty and a reputation requirement.
//! - [`task`]: task parameters, checked with the same rules as the contract, and the market's
//!   bounds (seats, windows, the reputation minimum) mirrored as constants.

pub mod commitment;
pub mod diagnosis;
pub mod pricing;
pub mod task;

pub use commitment::{commitment, salt_from_signature, VoteSalt};
pub use diagnosis::{DiagnosisError, DiagnosisSet};
pub use pricing::{BountyPolicy, PricingError, ReputationTier};
pub use task::{
    ConfidenceBps, TaskSpec, TaskSpecError, Window, DEFAULT_MIN_REPUTATION_WINDOW_SECS, FILL_WINDOW_SECS,
    MAX_COMMIT_WINDOW_SECS, MAX_REVEAL_WINDOW_SECS, MAX_SEATS, MIN_REPUTATION_SEATS,
};
