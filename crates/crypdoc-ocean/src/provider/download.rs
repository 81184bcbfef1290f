//! `download`: the checks ocean-node's download handler makes, in its order, then the file.
//!
//! 1. the parameters, the DID, the service and the file index are known;
//! 2. the request is signed by `consumerAddress` over `consumerAddress + nonce + "download"`, and
//!    the nonce is above the last one accepted from that address (then it is stored);
//! 3. the order: `transferTxId` is mined (with the configured confirmations) and succeeded; it
//!    emitted `OrderStarted` from this service's datatoken for this service index, with this
//!    consumer as consumer or payer; the `ProviderFee` event of that order was signed by this
//!    node for this datatoken and service and has not expired; and the order is younger than the
//!    service timeout (chain time);
//! 4. the files object opens with this node's key for this asset, and the bytes fetched for the
//!    file have the SHA-256 the files object records.

use alloy::{
    primitives::{Address, B256},
    providers::Provider,
    rpc::types::BlockNumberOrTag,
};
use axum::{
    body::Body,
    extract::{RawQuery, State},
    http::{header, StatusCode},
    response::Response,
};
use std::sync::Arc;

use super::{lookup, ApiError, Params, ProviderState, Shared};
use crate::{
    artifacts::ERC20Template,
    ddo::Service,
    files::DatasetFile,
    ledger::sha256_hex,
    publish::chain_now,
    signing::{command, recover_request},
};

/// An order that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedOrder {
    /// `OrderStarted.consumer`.
    pub consumer: Address,
    /// `OrderStarted.payer`.
    pub payer: Address,
    /// Block of the order.
    pub block: u64,
    /// Its timestamp.
    pub timestamp: u64,
}

fn refuse(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(status, code, message)
}

/// Checks that transaction `tx` ordered `service` (at `service_index`) for
/// `consumer`, as described in the module documentation (step 3).
pub async fn verify_order(
    state: &ProviderState,
    service_index: usize,
    service: &Service,
    consumer: Address,
    tx: B256,
) -> Result<VerifiedOrder, ApiError> {
    let shared_chain = &state.chain;
    let provider_address = state.signer.address();
    let confirmations = state.confirmations;
    let receipt =
        shared_chain.get_transaction_receipt(tx).await.map_err(ApiError::chain)?.ok_or_else(|| {
            refuse(
                StatusCode::NOT_FOUND,
                "order_not_found",
                format!("transaction {tx} is not mined on this chain"),
            )
        })?;
    if !receipt.status() {
        return Err(refuse(
            StatusCode::PAYMENT_REQUIRED,
            "order_failed",
            format!("transaction {tx} reverted"),
        ));
    }
    let block = receipt.block_number.unwrap_or_default();
    if confirmations > 0 {
        let latest = shared_chain.get_block_number().await.map_err(ApiError::chain)?;
        let have = latest.saturating_sub(block) + 1;
        if have < confirmations {
            return Err(refuse(
                StatusCode::TOO_EARLY,
                "order_unconfirmed",
                format!("transaction {tx} has {have} of {confirmations} confirmations; retry shortly"),
            ));
        }
    }
    let datatoken: Address = service.datatoken_address.parse().map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "bad_ddo",
            "the service's datatoken is not an address",
        )
    })?;

    // The datatoken's logs in this transaction, in order: each OrderStarted is followed by the
    // ProviderFee of the same startOrder call.
    let logs: Vec<_> = receipt.inner.logs().iter().filter(|l| l.address() == datatoken).collect();
    let orders: Vec<(usize, ERC20Template::OrderStarted)> = logs
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.log_decode::<ERC20Template::OrderStarted>().ok().map(|e| (i, e.inner.data)))
        .collect();
    if orders.is_empty() {
        return Err(refuse(
            StatusCode::PAYMENT_REQUIRED,
            "no_order",
            format!("transaction {tx} started no order for datatoken {datatoken}: buy a datatoken and call startOrder"),
        ));
    }
    let mine: Vec<_> = orders.iter().filter(|(_, o)| o.consumer == consumer || o.payer == consumer).collect();
    if mine.is_empty() {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "not_your_order",
            format!("the order in transaction {tx} was placed by and for other accounts, not {consumer}"),
        ));
    }
    let Some((at, order)) =
        mine.iter().find(|(_, o)| o.serviceIndex == alloy::primitives::U256::from(service_index))
    else {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "wrong_service",
            format!(
                "the order in transaction {tx} is for service index {}, not {service_index}",
                mine[0].1.serviceIndex
            ),
        ));
    };
    let fee = logs[at + 1..]
        .iter()
        .take_while(|l| l.log_decode::<ERC20Template::OrderStarted>().is_err())
        .find_map(|l| l.log_decode::<ERC20Template::ProviderFee>().ok())
        .map(|e| e.inner.data);
    let now = chain_now(shared_chain).await.map_err(ApiError::chain)?;
    let fee_ok = fee.as_ref().is_some_and(|fee| {
        let data: Option<serde_json::Value> = serde_json::from_slice(&fee.providerData).ok();
        let names_service = data.as_ref().is_some_and(|d| {
            d["id"].as_str() == Some(service.id.as_str())
                && d["dt"].as_str().is_some_and(|dt| dt.eq_ignore_ascii_case(&service.datatoken_address))
        });
        fee.providerFeeAddress == provider_address && names_service
    });
    let Some(fee) = fee.filter(|_| fee_ok) else {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "foreign_provider_fee",
            format!("the order in transaction {tx} carries no provider fee signed by this node ({provider_address}) for this service: call initialize on this node before startOrder"),
        ));
    };
    let valid_until: u64 = fee.validUntil.saturating_to();
    if valid_until != 0 && now > valid_until {
        return Err(refuse(
            StatusCode::GONE,
            "order_expired",
            format!("the provider fee of transaction {tx} expired at {valid_until} (now {now}): order again"),
        ));
    }
    let timestamp = shared_chain
        .get_block_by_number(BlockNumberOrTag::Number(block))
        .await
        .map_err(ApiError::chain)?
        .map(|b| b.header.timestamp)
        .ok_or_else(|| ApiError::chain(format!("block {block} not found")))?;
    if service.timeout != 0 && now > timestamp + service.timeout {
        return Err(refuse(
            StatusCode::GONE,
            "order_expired",
            format!(
                "the order in transaction {tx} is {}s old, beyond the service timeout of {}s: order again",
                now - timestamp,
                service.timeout
            ),
        ));
    }
    Ok(VerifiedOrder { consumer: order.consumer, payer: order.payer, block, timestamp })
}

pub(super) async fn download(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query);
    let did = params.required("documentId")?;
    let service_id = params.required("serviceId")?;
    let file_index: usize = params
        .required("fileIndex")?
        .parse()
        .map_err(|_| ApiError::bad_request("fileIndex is not a number"))?;
    let tx_text = params.required("transferTxId")?;
    let tx: B256 = tx_text
        .parse()
        .map_err(|_| ApiError::bad_request(format!("transferTxId {tx_text:?} is not a transaction hash")))?;
    let consumer_text = params.required("consumerAddress")?;
    let consumer = params.address("consumerAddress")?;
    let nonce_text = params.required("nonce")?;
    let nonce: u64 = nonce_text
        .parse()
        .map_err(|_| ApiError::bad_request(format!("nonce {nonce_text:?} is not an integer")))?;
    let signature = params.required("signature")?;
    let (asset, service_index, service) = lookup(&shared, did, service_id)?;

    // 2. Signature, then nonce (stored once the signature is good, as ocean-node does).
    let signed = recover_request(consumer_text, nonce_text, command::DOWNLOAD, signature)
        .is_some_and(|recovered| recovered.contains(&consumer));
    if !signed {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            format!("the signature is not {consumer}'s over consumerAddress + nonce + \"download\""),
        ));
    }
    let s = &shared.state;
    s.nonces.advance(consumer, nonce).map_err(|e| match e {
        super::NonceError::Stale { .. } => {
            refuse(StatusCode::CONFLICT, "stale_nonce", format!("{e}: ask /nonce and sign the next one"))
        }
        super::NonceError::Io { .. } => {
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "nonce_store", crypdoc_types::describe_error(&e))
        }
    })?;

    // 3. The order.
    let order = verify_order(s, service_index, &service, consumer, tx).await?;

    // 4. The file.
    let nft = asset.ddo.nft().map_err(|e| {
        refuse(StatusCode::INTERNAL_SERVER_ERROR, "bad_ddo", crypdoc_types::describe_error(&e))
    })?;
    let datatoken: Address = service.datatoken_address.parse().unwrap_or_default();
    let files = shared.files_key.open(s.chain_id, nft, datatoken, &service.files).map_err(|e| {
        refuse(StatusCode::INTERNAL_SERVER_ERROR, "files_unreadable", crypdoc_types::describe_error(&e))
    })?;
    let file: &DatasetFile = files.files.get(file_index).ok_or_else(|| {
        refuse(
            StatusCode::NOT_FOUND,
            "unknown_file",
            format!(
                "service {service_id} has {} files; index {file_index} does not exist",
                files.files.len()
            ),
        )
    })?;
    let bytes = s.source.fetch(file).await.map_err(|e| {
        refuse(StatusCode::BAD_GATEWAY, "file_unavailable", crypdoc_types::describe_error(&e))
    })?;
    if sha256_hex(&bytes) != file.sha256 {
        return Err(refuse(
            StatusCode::BAD_GATEWAY,
            "file_corrupt",
            format!("the stored {} does not match its published SHA-256", file.file_name()),
        ));
    }
    tracing::info!(
        target: "crypdoc::ocean",
        %did, consumer = %order.consumer, payer = %order.payer, %tx, version = file.version,
        format = %file.format, bytes = bytes.len(),
        "dataset downloaded"
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, &file.content_type)
        .header(header::CONTENT_LENGTH, bytes.len())
        .header(header::CONTENT_DISPOSITION, format!("attachment;filename={}", file.file_name()))
        .body(Body::from(bytes))
        .map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, "response", e.to_string()))
}
