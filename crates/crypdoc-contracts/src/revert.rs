//! Custom errors decoded into typed values whose `Display` is one sentence that says what
//! happened and what to do, so no user ever sees a raw revert blob and no caller has to parse a
//! message to know which error it got.

use alloy::{primitives::Bytes, sol_types::SolInterface};

use crate::bindings::{
    IDiagnosisMarket::{IDiagnosisMarketErrors as M, Phase},
    IDoctorRegistry::{IDoctorRegistryErrors as R, Role},
    IReputationToken::IReputationTokenErrors as T,
    OpenZeppelinErrors::OpenZeppelinErrorsErrors as O,
};

/// The lower-case name of a phase, as the CLI prints it.
pub fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::None => "nonexistent",
        Phase::Commit => "commit",
        Phase::Reveal => "reveal",
        Phase::Finalizable => "finalizable",
        Phase::Resolved => "resolved",
        Phase::Unresolved => "unresolved",
        Phase::Cancelled => "cancelled",
        _ => "unknown",
    }
}

/// The name of a registry role, as sentences use it.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::None => "nothing",
        Role::Doctor => "a doctor",
        Role::Hospital => "a hospital",
        _ => "an unknown role",
    }
}

/// A custom error raised by a CrypDoc contract, or by OpenZeppelin code or a token inside one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Revert {
    /// Raised by `DiagnosisMarket`.
    #[error("{}", explain_market(.0))]
    Market(M),
    /// Raised by `DoctorRegistry`.
    #[error("{}", explain_registry(.0))]
    Registry(R),
    /// Raised by `ReputationToken`.
    #[error("{}", explain_token(.0))]
    Reputation(T),
    /// Raised by OpenZeppelin code inside the contracts, or by an ERC20 token.
    #[error("{}", explain_openzeppelin(.0))]
    OpenZeppelin(O),
}

impl Revert {
    /// Decodes revert data from any CrypDoc contract, or `None` for an error none declares.
    ///
    /// `ZeroAccount()` is declared by both the registry and the reputation token with the same
    /// selector; it decodes as the registry's, whose sentence fits both.
    pub fn decode(data: &[u8]) -> Option<Self> {
        if let Ok(e) = M::abi_decode(data) {
            return Some(Self::Market(e));
        }
        if let Ok(e) = R::abi_decode(data) {
            return Some(Self::Registry(e));
        }
        if let Ok(e) = T::abi_decode(data) {
            return Some(Self::Reputation(e));
        }
        O::abi_decode(data).ok().map(Self::OpenZeppelin)
    }
}

impl From<M> for Revert {
    fn from(error: M) -> Self {
        Self::Market(error)
    }
}

impl From<R> for Revert {
    fn from(error: R) -> Self {
        Self::Registry(error)
    }
}

/// A contract call or transaction that did not go through.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The contract refused it with a custom error a CrypDoc interface declares.
    #[error(transparent)]
    Reverted(#[from] Revert),
    /// The contract refused it with data no CrypDoc interface declares.
    #[error("the contract reverted with unknown error data {0}")]
    UnknownRevert(Bytes),
    /// No verdict from the contract: the transport, the node or the encoding failed.
    #[error(transparent)]
    Failed(alloy::contract::Error),
}

impl From<alloy::contract::Error> for CallError {
    fn from(error: alloy::contract::Error) -> Self {
        match error.as_revert_data() {
            Some(data) => Revert::decode(&data).map_or(Self::UnknownRevert(data), Self::Reverted),
            None => Self::Failed(error),
        }
    }
}

impl CallError {
    /// The decoded custom error, when the contract refused the call with one.
    pub const fn revert(&self) -> Option<&Revert> {
        match self {
            Self::Reverted(revert) => Some(revert),
            _ => None,
        }
    }
}

fn explain_market(error: &M) -> String {
    match error {
        M::UnknownTask(e) => format!("task {} does not exist (see `crypdoc task list`)", e.taskId),
        M::WrongPhase(e) => format!(
            "task {} is in the {} phase, but this needs the {} phase (see `crypdoc task show {}`)",
            e.taskId,
            phase_name(e.actual),
            phase_name(e.expected),
            e.taskId
        ),
        M::TokenNotAllowed(e) => format!("token {} is not allow-listed for bounties", e.token),
        M::FeeOnTransferToken(e) => format!(
            "token {} delivered {} instead of {}: fee-on-transfer tokens cannot back an escrow",
            e.token, e.received, e.expected
        ),
        M::ZeroBounty(_) => "the bounty must be positive".into(),
        M::EmptyScanCid(_) => "the scan CID is empty".into(),
        M::InvalidClassCount(e) => format!("a task needs 2..{} classes, got {}", e.maxClasses, e.numClasses),
        M::PredictionOutOfRange(e) => {
            format!("predicted class {} is not below the {} classes", e.predictedClass, e.numClasses)
        }
        M::ConfidenceOutOfRange(e) => format!("confidence {} bps is above 10000", e.confidenceBps),
        M::InvalidSeatCount(e) => format!("seats must be 1..{}, got {}", e.maxSeats, e.seats),
        M::InvalidQuorum(e) => {
            format!("quorum {} must be more than half of {} seats and at most {}", e.quorum, e.seats, e.seats)
        }
        M::InvalidDeadlines(e) => format!(
            "deadlines must satisfy now ({}) < commit ({}) < reveal ({})",
            e.nowTimestamp, e.commitDeadline, e.revealDeadline
        ),
        M::WindowTooLong(e) => format!(
            "a {} s phase is longer than the market's maximum of {} s: shorten the commit or reveal window",
            e.window, e.maxWindow
        ),
        M::HospitalNotAccredited(e) => format!(
            "{} is not an accredited hospital, so it cannot post tasks: the credential issuer runs \
             `crypdoc hospital accredit {} --license TEXT`",
            e.poster, e.poster
        ),
        M::ReputationWindowTooLong(e) => format!(
            "a reputation window of {} s is longer than the longest commit window ({} s)",
            e.window, e.maxWindow
        ),
        M::DoctorCannotServe(e) => format!(
            "{} cannot take seats: not accredited (ask the credential issuer) or no encryption key \
             (run `crypdoc doctor set-key`)",
            e.doctor
        ),
        M::InsufficientReputation(e) => format!(
            "{} has reputation {} but the task needs {}: take lower-bounty tasks first",
            e.doctor, e.reputation, e.required
        ),
        M::NoFreeSeat(e) => format!("every seat of task {} is taken", e.taskId),
        M::AlreadySeated(e) => format!("{} already holds a seat on task {}", e.doctor, e.taskId),
        M::PosterCannotClaim(e) => format!("the poster of task {} cannot review it", e.taskId),
        M::NotPoster(e) => format!("only the poster of task {} can do this ({} is not)", e.taskId, e.caller),
        M::NotSeated(e) => format!("{} holds no seat on task {} (claim one first)", e.account, e.taskId),
        M::TaskClosed(e) => format!("task {} is already closed", e.taskId),
        M::EmptyWrappedKey(_) => "the wrapped key is empty".into(),
        M::ZeroCommitment(_) => "a zero commitment is not allowed".into(),
        M::NotCommitted(e) => format!("{} never committed on task {}: nothing to reveal", e.doctor, e.taskId),
        M::AlreadyRevealed(e) => format!("{} already revealed on task {}", e.doctor, e.taskId),
        M::CommitmentMismatch(e) => format!(
            "the diagnosis and salt do not match the commitment of {} on task {}: wrong salt or diagnosis",
            e.doctor, e.taskId
        ),
        M::DiagnosisOutOfRange(e) => {
            format!("diagnosis {} is not below the task's {} classes", e.diagnosis, e.numClasses)
        }
        M::NothingToWithdraw(e) => format!("nothing is credited to {} in token {}", e.account, e.token),
    }
}

fn explain_registry(error: &R) -> String {
    match error {
        R::ZeroAccount(_) => "the account address is zero".into(),
        R::EmptyLicenseHash(_) => "the licence hash is zero".into(),
        R::ExpiryNotInFuture(e) => {
            format!("expiry {} is not after the current block time {}", e.expiresAt, e.nowTimestamp)
        }
        R::NoCredential(e) => format!("{} was never accredited", e.account),
        R::AlreadyRevoked(e) => format!("the accreditation of {} is already revoked", e.account),
        R::RoleConflict(e) => format!(
            "{} is accredited as {}, so it cannot also be accredited as {}: one account cannot both \
             post tasks and review them (use another account, or let the issuer revoke the first role)",
            e.account,
            role_name(e.held),
            role_name(e.requested)
        ),
        R::NotAccredited(e) => {
            format!("{} is not accredited (or it expired): ask the credential issuer", e.doctor)
        }
        R::ZeroEncryptionKey(_) => "the encryption key is zero".into(),
    }
}

fn explain_token(error: &T) -> String {
    match error {
        T::ReputationNonTransferable(_) => "reputation cannot be transferred or approved".into(),
        T::ZeroAccount(_) => "reputation cannot be minted to the zero address".into(),
        T::NotMinter(e) => format!(
            "{} cannot mint reputation: only the market that created the token mints it, when a task \
             is finalized",
            e.caller
        ),
    }
}

fn explain_openzeppelin(error: &O) -> String {
    match error {
        O::AccessControlUnauthorizedAccount(e) => {
            format!("{} lacks the role {} needed for this call", e.account, e.neededRole)
        }
        O::EnforcedPause(_) => "the market is paused: new tasks and seats are refused for now".into(),
        O::ExpectedPause(_) => "the market is not paused".into(),
        O::ReentrancyGuardReentrantCall(_) => {
            "the market refused a call made from inside another of its calls (reentrancy): a token \
             that calls back on transfer cannot act on a task mid-call"
                .into()
        }
        O::SafeERC20FailedOperation(e) => format!("a transfer of token {} failed", e.token),
        O::ERC20InsufficientBalance(e) => {
            format!("{} holds {} of the token but {} is needed", e.sender, e.balance, e.needed)
        }
        O::ERC20InsufficientAllowance(e) => {
            format!("allowance of {} is {} but {} is needed: approve first", e.spender, e.allowance, e.needed)
        }
        O::OwnableUnauthorizedAccount(e) => format!("{} is not the owner", e.account),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::{IDiagnosisMarket, IDoctorRegistry, IReputationToken, OpenZeppelinErrors};
    use alloy::{
        primitives::{Address, U256},
        sol_types::SolError,
    };

    fn sentence(error: &impl SolError) -> String {
        Revert::decode(&error.abi_encode()).expect("a declared error decodes").to_string()
    }

    #[test]
    fn market_errors_become_sentences() {
        let wrong_phase = IDiagnosisMarket::WrongPhase {
            taskId: U256::from(3),
            expected: Phase::Reveal,
            actual: Phase::Commit,
        };
        assert_eq!(
            sentence(&wrong_phase),
            "task 3 is in the commit phase, but this needs the reveal phase (see `crypdoc task show 3`)"
        );
        let mismatch = IDiagnosisMarket::CommitmentMismatch { taskId: U256::from(1), doctor: Address::ZERO };
        assert!(sentence(&mismatch).contains("wrong salt"));
    }

    #[test]
    fn contracts_v2_errors_become_sentences() {
        let who = Address::repeat_byte(0x42);
        let poster = sentence(&IDiagnosisMarket::HospitalNotAccredited { poster: who });
        assert!(poster.contains(&format!("{who} is not an accredited hospital")), "{poster}");
        assert!(poster.contains(&format!("`crypdoc hospital accredit {who} --license TEXT`")), "{poster}");

        let window = sentence(&IDiagnosisMarket::WindowTooLong {
            window: U256::from(2_592_001),
            maxWindow: U256::from(2_592_000),
        });
        assert_eq!(
            window,
            "a 2592001 s phase is longer than the market's maximum of 2592000 s: shorten the commit or reveal window"
        );
        let reputation_window = sentence(&IDiagnosisMarket::ReputationWindowTooLong {
            window: alloy::primitives::Uint::from(2_592_001u64),
            maxWindow: alloy::primitives::Uint::from(2_592_000u64),
        });
        assert!(reputation_window.contains("longer than the longest commit window"), "{reputation_window}");

        let conflict = sentence(&IDoctorRegistry::RoleConflict {
            account: who,
            held: Role::Doctor,
            requested: Role::Hospital,
        });
        assert!(
            conflict.starts_with(&format!(
                "{who} is accredited as a doctor, so it cannot also be accredited as a hospital"
            )),
            "{conflict}"
        );
        assert_eq!(sentence(&IDoctorRegistry::ZeroAccount {}), "the account address is zero");

        let minter = sentence(&IReputationToken::NotMinter { caller: who });
        assert!(minter.starts_with(&format!("{who} cannot mint reputation")), "{minter}");

        let reentrant = sentence(&OpenZeppelinErrors::ReentrancyGuardReentrantCall {});
        assert!(reentrant.contains("(reentrancy)"), "{reentrant}");
    }

    #[test]
    fn decoded_errors_keep_their_type_and_parameters() {
        let error = IDiagnosisMarket::HospitalNotAccredited { poster: Address::repeat_byte(7) };
        assert_eq!(
            Revert::decode(&error.abi_encode()),
            Some(Revert::Market(M::HospitalNotAccredited(error)))
        );
    }

    #[test]
    fn unknown_data_is_not_explained() {
        assert_eq!(Revert::decode(&[1, 2, 3, 4]), None);
    }
}
