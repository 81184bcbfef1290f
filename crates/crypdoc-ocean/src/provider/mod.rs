//! The node as the dataset's Provider: the subset of ocean-node's HTTP API that ocean.js's
//! `ProviderInstance` and `Aquarius` use to buy and download an asset.
//!
//! | route | ocean-node name | what |
//! |---|---|---|
//! | `GET /` | root | `serviceEndpoints` (how ocean.js finds every other route), `providerAddress`, `chainIds` |
//! | `GET /api/services/nonce?userAddress=` | `nonce` | the consumer's last accepted nonce |
//! | `GET /api/services/initialize?documentId=&serviceId=&consumerAddress=[&validUntil=]` | `initialize` | a zero provider fee, signed as `startOrder` checks it |
//! | `GET /api/services/download?documentId=&serviceId=&fileIndex=&transferTxId=&consumerAddress=&nonce=&signature=` | `download` | checks the signature, nonce and order, then serves the file |
//! | `GET /api/aquarius/assets/ddo/{did}` | `getDDO` | the DDO with ocean-node's indexed fields |
//!
//! Every refusal is a 4xx with a JSON body `{"error": code, "message": sentence}`.
//! [`provider_router`] returns a `Router` the node mounts (with `Router::merge`, or
//! `Router::nest` under a prefix that is then part of the DDO's `serviceEndpoint`).

mod download;
pub mod nonces;

use alloy::{
    primitives::{Address, U256},
    providers::DynProvider,
    signers::local::PrivateKeySigner,
};
use axum::{
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::json;
use std::{collections::HashMap, sync::Arc};

pub use download::{verify_order, VerifiedOrder};
pub use nonces::{FileNonces, MemoryNonces, NonceError, NonceStore};

use crate::{
    catalog::Catalog,
    ddo::{Asset, Service},
    files::{FilesKey, ReleaseSource},
    publish::chain_now,
    signing::sign_provider_fee,
};

/// ocean-node's base path of the Provider routes.
pub const SERVICES_PATH: &str = "/api/services";
/// ocean-node's base path of the metadata cache routes.
pub const AQUARIUS_PATH: &str = "/api/aquarius";

/// What the Provider routes need.
pub struct ProviderState {
    /// Reads receipts, logs and blocks of the dataset's chain (no wallet needed).
    pub chain: DynProvider,
    /// That chain's id.
    pub chain_id: u64,
    /// The Provider's key: signs provider fees; the DDO's `files` are sealed to it.
    pub signer: PrivateKeySigner,
    /// The datasets served, by DID (share it with the publisher: insert each published asset).
    pub catalog: Catalog,
    /// Where the file bytes come from.
    pub source: Arc<dyn ReleaseSource>,
    /// Last accepted nonce per consumer.
    pub nonces: Arc<dyn NonceStore>,
    /// Token named in the (zero) provider fee.
    pub fee_token: Address,
    /// Blocks an order needs on top of it before it counts (0 on the dev chain).
    pub confirmations: u64,
}

impl std::fmt::Debug for ProviderState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderState")
            .field("chain_id", &self.chain_id)
            .field("provider_address", &self.signer.address())
            .field("assets", &self.catalog.list().len())
            .field("fee_token", &self.fee_token)
            .field("confirmations", &self.confirmations)
            .finish_non_exhaustive()
    }
}

impl ProviderState {
    /// A state with in-memory nonces, the zero address as fee token and no confirmations
    /// required; set the public fields to change them.
    pub fn new(
        chain: DynProvider,
        chain_id: u64,
        signer: PrivateKeySigner,
        catalog: Catalog,
        source: Arc<dyn ReleaseSource>,
    ) -> Self {
        Self {
            chain,
            chain_id,
            signer,
            catalog,
            source,
            nonces: Arc::new(MemoryNonces::new()),
            fee_token: Address::ZERO,
            confirmations: 0,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) state: ProviderState,
    pub(crate) files_key: FilesKey,
}

/// A refusal: an HTTP status and a JSON body `{"error": code, "message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// One sentence for people.
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub(crate) fn chain(e: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "chain_unavailable",
            format!("the chain could not be read: {e}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_client_error() {
            tracing::info!(target: "crypdoc::ocean", status = %self.status, code = self.code, message = %self.message, "provider refused a request");
        } else {
            tracing::warn!(target: "crypdoc::ocean", status = %self.status, code = self.code, message = %self.message, "provider request failed");
        }
        (self.status, Json(json!({"error": self.code, "message": self.message}))).into_response()
    }
}

/// Query parameters, parsed without axum's `query` feature.
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    fn parse(raw: Option<String>) -> Self {
        Self(form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect())
    }

    pub(crate) fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::bad_request(format!("missing query parameter {name}")))
    }

    pub(crate) fn optional(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub(crate) fn address(&self, name: &str) -> Result<Address, ApiError> {
        let value = self.required(name)?;
        value.parse().map_err(|_| ApiError::bad_request(format!("{name} {value:?} is not an address")))
    }
}

/// The asset with `did` and its service `service_id` (with the service's index).
pub(crate) fn lookup(
    shared: &Shared,
    did: &str,
    service_id: &str,
) -> Result<(Asset, usize, Service), ApiError> {
    let asset = shared.state.catalog.get(did).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_did", format!("no dataset {did} on this node"))
    })?;
    let (index, service) = asset
        .ddo
        .service(service_id)
        .or_else(|| service_id.parse::<usize>().ok().and_then(|i| asset.ddo.services.get(i).map(|s| (i, s))))
        .map(|(i, s)| (i, s.clone()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_service",
                format!("dataset {did} has no service {service_id}"),
            )
        })?;
    if service.kind != "access" {
        return Err(ApiError::bad_request(format!(
            "service {service_id} is a {} service, not access",
            service.kind
        )));
    }
    let state = asset.indexed_metadata["nft"]["state"].as_u64().unwrap_or(0);
    // ocean-node serves only active (0) and unlisted (5) assets.
    if state != 0 && state != 5 {
        return Err(ApiError::new(
            StatusCode::GONE,
            "asset_not_orderable",
            format!("dataset {did} is in metadata state {state}"),
        ));
    }
    Ok((asset, index, service))
}

/// The Provider routes over `state` (see the module documentation).
pub fn provider_router(state: ProviderState) -> Router {
    let files_key = FilesKey::from_signer(&state.signer);
    let shared = Arc::new(Shared { state, files_key });
    Router::new()
        .route("/", get(root))
        .route(&format!("{SERVICES_PATH}/nonce"), get(nonce))
        .route(&format!("{SERVICES_PATH}/initialize"), get(initialize))
        .route(&format!("{SERVICES_PATH}/download"), get(download::download))
        .route(&format!("{AQUARIUS_PATH}/assets/ddo/{{did}}"), get(ddo))
        .with_state(shared)
}

async fn root(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let s = &shared.state;
    Json(json!({
        "chainIds": [s.chain_id.to_string()],
        "providerAddress": s.signer.address().to_checksum(None),
        "serviceEndpoints": {
            "nonce": ["GET", format!("{SERVICES_PATH}/nonce")],
            "initialize": ["GET", format!("{SERVICES_PATH}/initialize")],
            "download": ["GET", format!("{SERVICES_PATH}/download")],
            "getDDO": ["GET", format!("{AQUARIUS_PATH}/assets/ddo/:did")],
        },
        "software": "CrypDoc",
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

async fn nonce(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let address = Params::parse(query).address("userAddress")?;
    Ok(Json(json!({"nonce": shared.state.nonces.current(address).to_string()})))
}

async fn initialize(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let params = Params::parse(query);
    let did = params.required("documentId")?;
    let service_id = params.required("serviceId")?;
    let consumer = params.address("consumerAddress")?;
    let (_, _, service) = lookup(&shared, did, service_id)?;
    let s = &shared.state;
    let now = chain_now(&s.chain).await.map_err(ApiError::chain)?;
    let mut valid_until = if service.timeout == 0 { 0 } else { now + service.timeout };
    if let Some(asked) = params.optional("validUntil") {
        let asked: u64 = asked
            .parse()
            .map_err(|_| ApiError::bad_request(format!("validUntil {asked:?} is not a unix time")))?;
        if service.timeout > 0 && asked > valid_until {
            return Err(ApiError::bad_request(format!(
                "validUntil {asked} is beyond the service timeout ({valid_until} at the latest)"
            )));
        }
        valid_until = asked;
    }
    let fee = sign_provider_fee(
        &s.signer,
        &service.datatoken_address,
        &service.id,
        s.fee_token,
        U256::ZERO,
        valid_until,
    );
    tracing::debug!(target: "crypdoc::ocean", %did, %consumer, valid_until, "provider fee signed");
    Ok(Json(json!({
        "datatoken": service.datatoken_address,
        "nonce": s.nonces.current(consumer).to_string(),
        "computeAddress": consumer.to_checksum(None),
        "providerFee": fee,
    })))
}

async fn ddo(State(shared): State<Arc<Shared>>, Path(did): Path<String>) -> Result<Json<Asset>, ApiError> {
    shared.state.catalog.get(&did).map(Json).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_did", format!("no dataset {did} on this node"))
    })
}
