//! Custom errors decoded into one-line messages that say what happened and what to do, so no
//! user ever sees a raw revert blob.

use alloy::{primitives::Bytes, sol_types::SolInterface};

use crate::bindings::{
    IDiagnosisMarket::{IDiagnosisMarketErrors as M, Phase},
    IDoctorRegistry::IDoctorRegistryErrors as R,
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

fn explain_market(error: M) -> String {
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

fn explain_registry(error: R) -> String {
    match error {
        R::ZeroDoctor(_) => "the doctor address is zero".into(),
        R::EmptyLicenseHash(_) => "the licence hash is zero".into(),
        R::ExpiryNotInFuture(e) => {
            format!("expiry {} is not after the current block time {}", e.expiresAt, e.nowTimestamp)
        }
        R::NoCredential(e) => format!("{} was never accredited", e.doctor),
        R::AlreadyRevoked(e) => format!("the accreditation of {} is already revoked", e.doctor),
        R::NotAccredited(e) => {
            format!("{} is not accredited (or it expired): ask the credential issuer", e.doctor)
        }
        R::ZeroEncryptionKey(_) => "the encryption key is zero".into(),
    }
}

fn explain_token(error: T) -> String {
    match error {
        T::ReputationNonTransferable(_) => "reputation cannot be transferred or approved".into(),
        T::ZeroAccount(_) => "reputation cannot be minted to or burned from the zero address".into(),
        T::BurnExceedsBalance(e) => {
            format!("{} holds {} reputation, cannot burn {}", e.account, e.balance, e.amount)
        }
    }
}

fn explain_openzeppelin(error: O) -> String {
    match error {
        O::AccessControlUnauthorizedAccount(e) => {
            format!("{} lacks the role {} needed for this call", e.account, e.neededRole)
        }
        O::EnforcedPause(_) => "the market is paused: new tasks and seats are refused for now".into(),
        O::ExpectedPause(_) => "the market is not paused".into(),
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

/// Explains revert data from any CrypDoc contract, or `None` for an unknown error.
pub fn explain_revert(data: &Bytes) -> Option<String> {
    if let Ok(e) = M::abi_decode(data) {
        return Some(explain_market(e));
    }
    if let Ok(e) = R::abi_decode(data) {
        return Some(explain_registry(e));
    }
    if let Ok(e) = T::abi_decode(data) {
        return Some(explain_token(e));
    }
    O::abi_decode(data).ok().map(explain_openzeppelin)
}

/// Explains a failed contract call: a decoded custom error, or the transport's own message.
pub fn explain_contract_error(error: &alloy::contract::Error) -> String {
    match error.as_revert_data() {
        Some(data) => explain_revert(&data)
            .unwrap_or_else(|| format!("the contract reverted with unknown error data {data}")),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::IDiagnosisMarket;
    use alloy::{
        primitives::{Address, U256},
        sol_types::SolError,
    };

    #[test]
    fn market_errors_become_sentences() {
        let data: Bytes = IDiagnosisMarket::WrongPhase {
            taskId: U256::from(3),
            expected: Phase::Reveal,
            actual: Phase::Commit,
        }
        .abi_encode()
        .into();
        assert_eq!(
            explain_revert(&data).unwrap(),
            "task 3 is in the commit phase, but this needs the reveal phase (see `crypdoc task show 3`)"
        );
        let data: Bytes =
            IDiagnosisMarket::CommitmentMismatch { taskId: U256::from(1), doctor: Address::ZERO }
                .abi_encode()
                .into();
        assert!(explain_revert(&data).unwrap().contains("wrong salt"));
    }

    #[test]
    fn unknown_data_is_not_explained() {
        assert_eq!(explain_revert(&Bytes::from_static(&[1, 2, 3, 4])), None);
    }
}
