//! Deployment of the CrypDoc contracts and the file that records where they are.

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, Bytes},
    providers::{DynProvider, Provider},
    rpc::types::TransactionRequest,
    sol_types::SolValue,
};
use serde::{Deserialize, Serialize};
use std::{
    io::Write,
    path::{Path, PathBuf},
};
use tracing::info;

use crate::{
    bindings::{IDiagnosisMarket, DIAGNOSIS_MARKET_CODE, DOCTOR_REGISTRY_CODE, TEST_STABLECOIN_CODE},
    market::RECEIPT_TIMEOUT,
    revert::CallError,
};

/// The smallest bounty in the dev stablecoin whose task earns reputation: 10 tUSD (6 decimals),
/// the default of `contracts/script/Deploy.s.sol`'s `MIN_REPUTATION_BOUNTY`. Without a minimum
/// the market mints no reputation in that token at all.
pub const DEV_MIN_REPUTATION_BOUNTY: u128 = 10_000_000;

/// Where the contracts of one CrypDoc instance live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Chain the contracts were deployed on; every client checks it before sending.
    pub chain_id: u64,
    /// `DoctorRegistry`.
    pub registry: Address,
    /// `ReputationToken`, created by the market (`DiagnosisMarket.reputation()`).
    pub reputation: Address,
    /// `DiagnosisMarket`.
    pub market: Address,
    /// The dev chain's test stablecoin, when one was deployed.
    pub stablecoin: Option<Address>,
    /// First block that can hold CrypDoc events; watchers start there.
    pub start_block: u64,
}

/// Deployment failed, or the deployment file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// The RPC endpoint failed.
    #[error("RPC error while deploying: {0}")]
    Rpc(#[from] alloy::transports::TransportError),
    /// The provider has no account to deploy from.
    #[error("the provider has no sender account to deploy from")]
    NoSender,
    /// A wiring call or read failed.
    #[error("deployment call {what} failed: {source}")]
    Call {
        /// The call.
        what: &'static str,
        /// Why (boxed: a decoded revert is large, and this error is returned by every
        /// deployment-file operation too).
        source: Box<CallError>,
    },
    /// A creation transaction mined without creating a contract.
    #[error("the {0} creation transaction did not create a contract")]
    NotCreated(&'static str),
    /// Waiting for a receipt failed.
    #[error("waiting for the {what} transaction failed: {source}")]
    Receipt {
        /// What was being deployed.
        what: &'static str,
        /// Why.
        source: alloy::providers::PendingTransactionError,
    },
    /// The deployment file is missing.
    #[error("no deployment file at {0}: run `crypdoc dev up` (or pass --deployment)")]
    Missing(PathBuf),
    /// Reading or writing the deployment file failed.
    #[error("deployment file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The deployment file is not valid JSON of the expected shape.
    #[error("deployment file {path} is malformed: {source}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

impl Deployment {
    /// Reads a deployment file.
    pub fn load(path: &Path) -> Result<Self, DeploymentError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                DeploymentError::Missing(path.to_owned())
            } else {
                DeploymentError::Io { path: path.to_owned(), source }
            }
        })?;
        serde_json::from_str(&text)
            .map_err(|source| DeploymentError::Malformed { path: path.to_owned(), source })
    }

    /// Writes the deployment file atomically: a crash leaves the old file or the new one.
    pub fn save(&self, path: &Path) -> Result<(), DeploymentError> {
        let io = |source| DeploymentError::Io { path: path.to_owned(), source };
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut tmp = tempfile_in(dir).map_err(io)?;
        let json = serde_json::to_vec_pretty(self).expect("deployment serialises");
        tmp.1.write_all(&json).map_err(io)?;
        tmp.1.sync_all().map_err(io)?;
        std::fs::rename(&tmp.0, path).map_err(io)
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let path = dir.join(format!(".deployment.{}.tmp", std::process::id()));
    let file = std::fs::File::create(&path)?;
    Ok((path, file))
}

async fn create(
    provider: &DynProvider,
    what: &'static str,
    code: &Bytes,
    args: Vec<u8>,
) -> Result<Address, DeploymentError> {
    let tx = TransactionRequest::default().with_deploy_code([code.as_ref(), &args].concat());
    let receipt = provider
        .send_transaction(tx)
        .await?
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|source| DeploymentError::Receipt { what, source })?;
    let address = receipt.contract_address.ok_or(DeploymentError::NotCreated(what))?;
    info!(target: "crypdoc::contracts", %address, what, "deployed");
    Ok(address)
}

/// Sends one wiring call and waits for it to be mined.
async fn wire<D: alloy::contract::CallDecoder>(
    what: &'static str,
    call: alloy::contract::CallBuilder<&DynProvider, D>,
) -> Result<(), DeploymentError> {
    call.send()
        .await
        .map_err(|e| DeploymentError::Call { what, source: Box::new(e.into()) })?
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|source| DeploymentError::Receipt { what, source })?;
    Ok(())
}

/// Deploys the registry and the market (which creates the reputation token) from the provider's
/// default sender, which becomes admin, pauser and credential issuer; on dev chains also a test
/// stablecoin, allow-listed with a reputation minimum.
pub async fn deploy_all(
    provider: &DynProvider,
    with_stablecoin: bool,
) -> Result<Deployment, DeploymentError> {
    let admin = provider
        .get_accounts()
        .await
        .ok()
        .and_then(|accounts| accounts.first().copied())
        .ok_or(DeploymentError::NoSender)?;
    deploy_as(provider, admin, with_stablecoin).await
}

/// Like [`deploy_all`] with an explicit admin (the provider's wallet must be able to sign as it).
///
/// The same contracts and roles as `contracts/script/Deploy.s.sol` with `ADMIN` and `ISSUER`
/// both the deployer: `DoctorRegistry(admin, issuer = admin)`, `DiagnosisMarket(admin,
/// registry)`, whose constructor creates the `ReputationToken` with the market as its only,
/// permanent minter (so there is no minter role to grant, and none to revoke); with
/// `with_stablecoin`, `TestStablecoin(admin)`, allow-listed with a reputation minimum of
/// [`DEV_MIN_REPUTATION_BOUNTY`]. This is the one deployment path: `dev up`, the demo and every
/// test use it.
pub async fn deploy_as(
    provider: &DynProvider,
    admin: Address,
    with_stablecoin: bool,
) -> Result<Deployment, DeploymentError> {
    let chain_id = provider.get_chain_id().await?;
    let start_block = provider.get_block_number().await?;
    let registry =
        create(provider, "DoctorRegistry", &DOCTOR_REGISTRY_CODE, (admin, admin).abi_encode_params()).await?;
    let market =
        create(provider, "DiagnosisMarket", &DIAGNOSIS_MARKET_CODE, (admin, registry).abi_encode_params())
            .await?;
    let market_contract = IDiagnosisMarket::new(market, provider.clone());
    let reputation = market_contract
        .reputation()
        .call()
        .await
        .map_err(|e| DeploymentError::Call { what: "reputation()", source: Box::new(e.into()) })?;
    info!(target: "crypdoc::contracts", address = %reputation, what = "ReputationToken", "created by the market");

    let stablecoin = if with_stablecoin {
        let token = create(provider, "TestStablecoin", &TEST_STABLECOIN_CODE, admin.abi_encode()).await?;
        wire("setTokenAllowed", market_contract.setTokenAllowed(token, true)).await?;
        wire(
            "setMinReputationBounty",
            market_contract
                .setMinReputationBounty(token, alloy::primitives::Uint::from(DEV_MIN_REPUTATION_BOUNTY)),
        )
        .await?;
        Some(token)
    } else {
        None
    };

    Ok(Deployment { chain_id, registry, reputation, market, stablecoin, start_block })
}
