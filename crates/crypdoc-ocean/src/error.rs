//! Errors of the chain-facing operations (deployment, publishing, buying, ordering), and the
//! helpers that send a transaction and turn a revert into the contract's own reason.

use alloy::{
    contract::{CallBuilder, CallDecoder},
    primitives::{Address, B256},
    providers::Provider,
    rpc::types::TransactionReceipt,
};
use std::time::Duration;

/// How long to wait for a receipt before giving up.
pub(crate) const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// A chain operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The RPC endpoint failed.
    #[error("RPC error")]
    Rpc(#[from] alloy::transports::TransportError),
    /// A call or transaction was refused; `reason` is the contract's revert string when it gave
    /// one (Ocean's contracts revert with strings such as `"Not enough datatokens to start Order"`).
    #[error("{what} failed: {reason}")]
    Call {
        /// What was attempted.
        what: &'static str,
        /// The revert reason, or the client's error.
        reason: String,
        /// The underlying error.
        #[source]
        source: Box<alloy::contract::Error>,
    },
    /// Waiting for a receipt failed.
    #[error("waiting for the {what} transaction failed")]
    Receipt {
        /// What was sent.
        what: &'static str,
        /// Why.
        source: Box<alloy::providers::PendingTransactionError>,
    },
    /// The transaction was mined but reverted.
    #[error("the {what} transaction {tx} reverted")]
    Reverted {
        /// What was sent.
        what: &'static str,
        /// Its hash.
        tx: B256,
    },
    /// A creation transaction mined without creating a contract.
    #[error("the {0} creation transaction did not create a contract")]
    NotCreated(&'static str),
    /// An expected event is missing from a receipt.
    #[error("the {what} transaction {tx} did not emit {event}")]
    MissingEvent {
        /// What was sent.
        what: &'static str,
        /// Its hash.
        tx: B256,
        /// The event.
        event: &'static str,
    },
    /// The RPC endpoint serves another chain.
    #[error("the RPC endpoint serves chain {actual}, but the Ocean addresses are for chain {expected}")]
    WrongChain {
        /// Chain of the addresses.
        expected: u64,
        /// Chain of the endpoint.
        actual: u64,
    },
    /// No contract at an address that should hold one.
    #[error("no contract at {address} ({what}): wrong address file or chain")]
    NoCode {
        /// What it should be.
        what: &'static str,
        /// Where.
        address: Address,
    },
}

/// The revert reason carried by a contract error, decoded when it is `Error(string)`, a panic or
/// a custom error without parameters; otherwise the client's message.
pub(crate) fn revert_reason(err: &alloy::contract::Error) -> String {
    err.as_revert_data()
        .and_then(|data| alloy::sol_types::decode_revert_reason(&data))
        .unwrap_or_else(|| err.to_string())
}

pub(crate) fn call_error(what: &'static str, source: alloy::contract::Error) -> ChainError {
    ChainError::Call { what, reason: revert_reason(&source), source: Box::new(source) }
}

/// Sends `call`, waits for its receipt and checks that it succeeded.
pub(crate) async fn send<P: Provider, D: CallDecoder>(
    call: CallBuilder<P, D>,
    what: &'static str,
) -> Result<TransactionReceipt, ChainError> {
    let pending = call.send().await.map_err(|e| call_error(what, e))?;
    let receipt = pending
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|source| ChainError::Receipt { what, source: Box::new(source) })?;
    if !receipt.status() {
        return Err(ChainError::Reverted { what, tx: receipt.transaction_hash });
    }
    tracing::debug!(target: "crypdoc::ocean", what, tx = %receipt.transaction_hash, gas = receipt.gas_used, "mined");
    Ok(receipt)
}
