//! Deployment of the CrypDoc contracts and the file that records where they are.

use alloy::{
    network::{Ethereum, TransactionBuilder},
    primitives::{Address, Bytes, TxHash, B256},
    providers::{DynProvider, PendingTransactionBuilder, Provider},
    rpc::types::{TransactionReceipt, TransactionRequest},
    sol_types::SolValue,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tracing::info;

use crate::{
    bindings::{
        IAccessControl, IDiagnosisMarket, IDoctorRegistry, IPauserRole, DIAGNOSIS_MARKET_CODE,
        DOCTOR_REGISTRY_CODE, TEST_STABLECOIN_CODE,
    },
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
///
/// Each variant either shows its cause in its message or exposes it as its `source`, never
/// both: print the chain (`{:#}` with anyhow) to see the causes.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// The RPC endpoint failed.
    #[error("RPC error while deploying")]
    Rpc(#[from] alloy::transports::TransportError),
    /// The provider has no account to deploy from.
    #[error("the provider has no sender account to deploy from")]
    NoSender,
    /// The transactions were signed by another account than the one the provider reported as
    /// its sender, which would have received the deployer's roles.
    #[error("the deployment was sent from {actual}, but the provider reported {expected} as its sender")]
    SenderMismatch {
        /// The sender the provider reported.
        expected: Address,
        /// The account that signed the first transaction.
        actual: Address,
    },
    /// A wiring call or read failed before it was mined (it would revert, or the node refused
    /// it).
    #[error("deployment call {what} failed")]
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
    /// A deployment or wiring transaction was mined but reverted: the deployment is incomplete
    /// and must not be used.
    #[error("the {what} transaction {tx_hash} reverted: the deployment is incomplete")]
    Reverted {
        /// The step: the contract created, or the call.
        what: &'static str,
        /// The reverted transaction.
        tx_hash: TxHash,
    },
    /// Waiting for a receipt failed.
    #[error("waiting for the {what} transaction failed")]
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
    #[error("cannot read or write the deployment file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The deployment file is not valid JSON of the expected shape.
    #[error("deployment file {path} is malformed")]
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
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other).map_err(io)?;
        crypdoc_fs::write(path, &json).map_err(io)
    }
}

/// Who holds the roles once the deployer has handed them over (`ADMIN` and `ISSUER` of
/// `contracts/script/Deploy.s.sol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// `DEFAULT_ADMIN_ROLE` and `PAUSER_ROLE` on the market, `DEFAULT_ADMIN_ROLE` on the
    /// registry; also the owner (minter) of the dev stablecoin.
    pub admin: Address,
    /// `CREDENTIAL_ISSUER_ROLE` on the registry: accredits and revokes doctors and hospitals.
    pub issuer: Address,
}

/// Init code that returns its caller as the created contract's code (`CALLER PUSH1 0 MSTORE
/// PUSH1 32 PUSH1 0 RETURN`). An `eth_call` of it answers which account the provider sends from
/// (its wallet fills `from`) before anything is sent: the script's deployer must hold the roles
/// from the first transaction on.
const WHO_AM_I: [u8; 9] = [0x33, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];

/// The account the provider's transactions are sent from: its wallet's default signer, else the
/// node's first account (a provider without a wallet sends from the node's accounts).
pub async fn sender(provider: &DynProvider) -> Result<Address, DeploymentError> {
    let code = provider.call(TransactionRequest::default().with_deploy_code(WHO_AM_I)).await?;
    let caller = (code.len() == 32).then(|| Address::from_word(B256::from_slice(&code)));
    if let Some(caller) = caller.filter(|caller| !caller.is_zero()) {
        return Ok(caller);
    }
    provider.get_accounts().await?.first().copied().ok_or(DeploymentError::NoSender)
}

/// Waits for a transaction's receipt and checks that it succeeded.
async fn confirm(
    what: &'static str,
    pending: PendingTransactionBuilder<Ethereum>,
) -> Result<TransactionReceipt, DeploymentError> {
    let receipt = pending
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|source| DeploymentError::Receipt { what, source })?;
    check_status(what, &receipt)?;
    Ok(receipt)
}

/// A mined transaction that reverted is an error naming the step and the transaction.
fn check_status(what: &'static str, receipt: &TransactionReceipt) -> Result<(), DeploymentError> {
    if receipt.status() {
        Ok(())
    } else {
        Err(DeploymentError::Reverted { what, tx_hash: receipt.transaction_hash })
    }
}

/// Sends a creation transaction and returns the created contract and its receipt.
async fn send_create(
    provider: &DynProvider,
    what: &'static str,
    tx: TransactionRequest,
) -> Result<(Address, TransactionReceipt), DeploymentError> {
    let receipt = confirm(what, provider.send_transaction(tx).await?).await?;
    let address = receipt.contract_address.ok_or(DeploymentError::NotCreated(what))?;
    info!(target: "crypdoc::contracts", %address, what, "deployed");
    Ok((address, receipt))
}

async fn create(
    provider: &DynProvider,
    what: &'static str,
    code: &Bytes,
    args: Vec<u8>,
) -> Result<(Address, TransactionReceipt), DeploymentError> {
    let tx = TransactionRequest::default().with_deploy_code([code.as_ref(), &args].concat());
    send_create(provider, what, tx).await
}

/// Sends one wiring call, waits for it to be mined and checks that it succeeded.
async fn wire<D: alloy::contract::CallDecoder>(
    what: &'static str,
    call: alloy::contract::CallBuilder<&DynProvider, D>,
) -> Result<(), DeploymentError> {
    let pending =
        call.send().await.map_err(|e| DeploymentError::Call { what, source: Box::new(e.into()) })?;
    confirm(what, pending).await?;
    Ok(())
}

/// Reads a role id from the chain, as the script does.
async fn role<D: alloy::contract::CallDecoder<CallOutput = B256>>(
    what: &'static str,
    call: alloy::contract::CallBuilder<&DynProvider, D>,
) -> Result<B256, DeploymentError> {
    call.call().await.map_err(|e| DeploymentError::Call { what, source: Box::new(e.into()) })
}

/// Deploys from the provider's sender ([`sender`]), which becomes admin, pauser and credential
/// issuer: [`deploy_as`] with that account as `admin`.
pub async fn deploy_all(
    provider: &DynProvider,
    with_stablecoin: bool,
) -> Result<Deployment, DeploymentError> {
    let deployer = sender(provider).await?;
    deploy_as(provider, deployer, with_stablecoin).await
}

/// Deploys from the provider's sender and hands `admin` every role: `contracts/script/Deploy.s.sol`
/// with `ADMIN = ISSUER = admin` ([`deploy_with_roles`]). With `admin` the sender itself (what
/// `dev up`, the demo and the tests do) there is nothing to hand over.
pub async fn deploy_as(
    provider: &DynProvider,
    admin: Address,
    with_stablecoin: bool,
) -> Result<Deployment, DeploymentError> {
    deploy_with_roles(provider, Roles { admin, issuer: admin }, with_stablecoin).await
}

/// The one deployment path, the same transactions and roles as `contracts/script/Deploy.s.sol`
/// (without its optional `HOSPITAL` accreditation and `STABLECOIN_MINT`: callers mint what they
/// need). Sent from the provider's sender (the deployer):
///
/// 1. `DoctorRegistry(deployer, deployer)`;
/// 2. `DiagnosisMarket(deployer, registry)`, whose constructor creates the `ReputationToken` with
///    the market as its only, permanent minter (so there is no minter role to grant, and none to
///    revoke);
/// 3. with `with_stablecoin`, `TestStablecoin(roles.admin)`, allow-listed with a reputation
///    minimum of [`DEV_MIN_REPUTATION_BOUNTY`];
/// 4. the hand-off: when the issuer is not the deployer, the registry's
///    `CREDENTIAL_ISSUER_ROLE` is granted to it and renounced by the deployer; when the admin is
///    not the deployer, the registry's `DEFAULT_ADMIN_ROLE` and the market's `PAUSER_ROLE` and
///    `DEFAULT_ADMIN_ROLE` likewise, in the script's order. The deployer then holds no role.
///
/// Every transaction's receipt is checked: a reverted one is [`DeploymentError::Reverted`],
/// naming the step and the transaction.
pub async fn deploy_with_roles(
    provider: &DynProvider,
    roles: Roles,
    with_stablecoin: bool,
) -> Result<Deployment, DeploymentError> {
    let admin = roles.admin;
    let chain_id = provider.get_chain_id().await?;
    let start_block = provider.get_block_number().await?;
    let deployer = sender(provider).await?;
    // The deployer holds the registry's roles until the hand-off, as in the script.
    let (registry, receipt) =
        create(provider, "DoctorRegistry", &DOCTOR_REGISTRY_CODE, (deployer, deployer).abi_encode_params())
            .await?;
    if receipt.from != deployer {
        return Err(DeploymentError::SenderMismatch { expected: deployer, actual: receipt.from });
    }
    let (market, _) =
        create(provider, "DiagnosisMarket", &DIAGNOSIS_MARKET_CODE, (deployer, registry).abi_encode_params())
            .await?;
    let market_contract = IDiagnosisMarket::new(market, provider.clone());
    let reputation = market_contract
        .reputation()
        .call()
        .await
        .map_err(|e| DeploymentError::Call { what: "reputation()", source: Box::new(e.into()) })?;
    info!(target: "crypdoc::contracts", address = %reputation, what = "ReputationToken", "created by the market");

    let stablecoin = if with_stablecoin {
        let (token, _) =
            create(provider, "TestStablecoin", &TEST_STABLECOIN_CODE, admin.abi_encode()).await?;
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

    hand_over(provider, registry, market, deployer, roles).await?;
    Ok(Deployment { chain_id, registry, reputation, market, stablecoin, start_block })
}

/// `Deploy._handOver`: gives every role to its holder and drops the deployer's, unless it is
/// that holder.
async fn hand_over(
    provider: &DynProvider,
    registry: Address,
    market: Address,
    deployer: Address,
    Roles { admin, issuer }: Roles,
) -> Result<(), DeploymentError> {
    let registry_roles = IAccessControl::new(registry, provider.clone());
    let market_roles = IAccessControl::new(market, provider.clone());
    if issuer != deployer {
        let registry_contract = IDoctorRegistry::new(registry, provider.clone());
        let issuer_role =
            role("DoctorRegistry.CREDENTIAL_ISSUER_ROLE()", registry_contract.CREDENTIAL_ISSUER_ROLE())
                .await?;
        wire(
            "DoctorRegistry.grantRole(CREDENTIAL_ISSUER_ROLE, issuer)",
            registry_roles.grantRole(issuer_role, issuer),
        )
        .await?;
        wire(
            "DoctorRegistry.renounceRole(CREDENTIAL_ISSUER_ROLE, deployer)",
            registry_roles.renounceRole(issuer_role, deployer),
        )
        .await?;
        info!(target: "crypdoc::contracts", %issuer, "credential issuer role handed over");
    }
    if admin != deployer {
        let registry_admin =
            role("DoctorRegistry.DEFAULT_ADMIN_ROLE()", registry_roles.DEFAULT_ADMIN_ROLE()).await?;
        wire(
            "DoctorRegistry.grantRole(DEFAULT_ADMIN_ROLE, admin)",
            registry_roles.grantRole(registry_admin, admin),
        )
        .await?;
        wire(
            "DoctorRegistry.renounceRole(DEFAULT_ADMIN_ROLE, deployer)",
            registry_roles.renounceRole(registry_admin, deployer),
        )
        .await?;
        let pauser_role = IPauserRole::new(market, provider.clone());
        let pauser = role("DiagnosisMarket.PAUSER_ROLE()", pauser_role.PAUSER_ROLE()).await?;
        let market_admin =
            role("DiagnosisMarket.DEFAULT_ADMIN_ROLE()", market_roles.DEFAULT_ADMIN_ROLE()).await?;
        wire("DiagnosisMarket.grantRole(PAUSER_ROLE, admin)", market_roles.grantRole(pauser, admin)).await?;
        wire(
            "DiagnosisMarket.grantRole(DEFAULT_ADMIN_ROLE, admin)",
            market_roles.grantRole(market_admin, admin),
        )
        .await?;
        wire(
            "DiagnosisMarket.renounceRole(PAUSER_ROLE, deployer)",
            market_roles.renounceRole(pauser, deployer),
        )
        .await?;
        wire(
            "DiagnosisMarket.renounceRole(DEFAULT_ADMIN_ROLE, deployer)",
            market_roles.renounceRole(market_admin, deployer),
        )
        .await?;
        info!(target: "crypdoc::contracts", %admin, "admin and pauser roles handed over");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        devnet::{Anvil, ANVIL_DEPLOYER_KEY},
        market::wallet_provider,
    };
    use alloy::{primitives::U256, signers::local::PrivateKeySigner};

    async fn chain() -> (Anvil, tempfile::TempDir, DynProvider) {
        let dir = tempfile::tempdir().unwrap();
        let anvil = Anvil::spawn(&dir.path().join("anvil.log"), true)
            .await
            .expect("anvil starts (run `npm ci` first)");
        let provider = wallet_provider(&anvil.endpoint(), ANVIL_DEPLOYER_KEY.parse().unwrap()).unwrap();
        (anvil, dir, provider)
    }

    /// The receipt of `tx_hash` says it was mined and reverted.
    async fn mined_and_reverted(provider: &DynProvider, tx_hash: TxHash) -> bool {
        let receipt = provider.get_transaction_receipt(tx_hash).await.unwrap().expect("mined");
        !receipt.status()
    }

    #[tokio::test]
    async fn a_reverted_creation_is_an_error_naming_the_step_and_the_transaction() {
        let (_anvil, _dir, provider) = chain().await;
        // PUSH1 0 PUSH1 0 REVERT, with a gas limit so that gas estimation does not refuse it
        // before it is sent.
        let tx = TransactionRequest::default()
            .with_deploy_code(vec![0x60, 0x00, 0x60, 0x00, 0xfd])
            .with_gas_limit(100_000);
        let err = send_create(&provider, "Reverter", tx).await.unwrap_err();
        let DeploymentError::Reverted { what, tx_hash } = err else { panic!("not Reverted: {err:?}") };
        assert_eq!(what, "Reverter");
        assert!(mined_and_reverted(&provider, tx_hash).await);
        assert_eq!(
            err.to_string(),
            format!("the Reverter transaction {tx_hash} reverted: the deployment is incomplete")
        );
    }

    #[tokio::test]
    async fn a_reverted_wiring_transaction_is_an_error_naming_the_step_and_the_transaction() {
        let (anvil, _dir, provider) = chain().await;
        let deployment = deploy_all(&provider, false).await.unwrap();
        // Someone without the admin role wires the market; the gas limit lets the call be mined
        // (and revert) instead of being refused by gas estimation.
        let stranger = PrivateKeySigner::random();
        provider
            .raw_request::<_, ()>("anvil_setBalance".into(), (stranger.address(), U256::from(10u128.pow(20))))
            .await
            .unwrap();
        let stranger = wallet_provider(&anvil.endpoint(), stranger).unwrap();
        let market = IDiagnosisMarket::new(deployment.market, stranger.clone());
        let err = wire("setTokenAllowed", market.setTokenAllowed(Address::repeat_byte(1), true).gas(200_000))
            .await
            .unwrap_err();
        let DeploymentError::Reverted { what, tx_hash } = err else { panic!("not Reverted: {err:?}") };
        assert_eq!(what, "setTokenAllowed");
        assert!(mined_and_reverted(&provider, tx_hash).await);
        // Without the gas limit the same call is refused before it is sent, with the decoded
        // revert as the source.
        let err =
            wire("setTokenAllowed", market.setTokenAllowed(Address::repeat_byte(1), true)).await.unwrap_err();
        assert!(matches!(err, DeploymentError::Call { what: "setTokenAllowed", .. }), "{err:?}");
        assert_eq!(err.to_string(), "deployment call setTokenAllowed failed");
        assert!(std::error::Error::source(&err).is_some());
    }

    #[tokio::test]
    async fn the_sender_is_the_wallet_not_the_node_account() {
        let (anvil, _dir, provider) = chain().await;
        assert_eq!(
            sender(&provider).await.unwrap(),
            ANVIL_DEPLOYER_KEY.parse::<PrivateKeySigner>().unwrap().address()
        );
        let other = PrivateKeySigner::random();
        let other_provider = wallet_provider(&anvil.endpoint(), other.clone()).unwrap();
        assert_eq!(sender(&other_provider).await.unwrap(), other.address());
    }
}
