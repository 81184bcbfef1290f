//! Deploying Ocean v4 on a dev chain from its published artifacts, unchanged, in the order and
//! with the constructor arguments of Ocean's own `scripts/deploy-contracts.js`, and the address
//! file that Ocean's clients read (`ADDRESS_FILE` for ocean.js's `ConfigHelper`). On a real
//! network the node reads Ocean's published address file instead.

use alloy::{
    network::TransactionBuilder,
    primitives::{address, Address, Bytes},
    providers::{DynProvider, Provider},
    rpc::types::{TransactionReceipt, TransactionRequest},
    sol_types::SolValue,
};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, path::Path};

use crate::{
    artifacts::{
        ERC20Template, ERC721Factory, ERC721Template, FactoryRouter, FixedRateExchange, OceanToken,
        DISPENSER_CODE, ERC20_TEMPLATE_ENTERPRISE_CODE, OPF_COMMUNITY_FEE_COLLECTOR_CODE,
    },
    error::{call_error, send, ChainError, RECEIPT_TIMEOUT},
};

/// The network name ocean.js gives a local chain (`ConfigHelper.getConfig('development')`).
pub const DEV_NETWORK: &str = "development";

/// The pool template argument of `FactoryRouter`: Ocean's script passes this dead address since
/// pools were retired.
pub const DEAD_ADDRESS: Address = address!("0x000000000000000000000000000000000000dEaD");

/// Where Ocean's contracts are on one chain, with the keys of Ocean's `address.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OceanAddresses {
    /// Chain id.
    #[serde(rename = "chainId")]
    pub chain_id: u64,
    /// First block that can hold Ocean events (the router's deployment).
    #[serde(rename = "startBlock")]
    pub start_block: u64,
    /// OCEAN token.
    #[serde(rename = "Ocean", with = "checksummed")]
    pub ocean: Address,
    /// Ocean Protocol Community fee collector.
    #[serde(rename = "OPFCommunityFeeCollector", with = "checksummed")]
    pub opf_community_fee_collector: Address,
    /// `FactoryRouter`.
    #[serde(rename = "Router", with = "checksummed")]
    pub router: Address,
    /// `FixedRateExchange`.
    #[serde(rename = "FixedPrice", with = "checksummed")]
    pub fixed_price: Address,
    /// `Dispenser`.
    #[serde(rename = "Dispenser", with = "checksummed")]
    pub dispenser: Address,
    /// `ERC721Factory` (creates data NFTs, datatokens, exchanges).
    #[serde(rename = "ERC721Factory", with = "checksummed")]
    pub erc721_factory: Address,
    /// Datatoken templates by index (`1` = `ERC20Template`, `2` = `ERC20TemplateEnterprise`).
    #[serde(rename = "ERC20Template", default)]
    pub erc20_templates: BTreeMap<String, String>,
    /// Data NFT templates by index.
    #[serde(rename = "ERC721Template", default)]
    pub erc721_templates: BTreeMap<String, String>,
}

mod checksummed {
    use alloy::primitives::Address;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(a: &Address, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&a.to_checksum(None))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Reading or writing an address file failed.
#[derive(Debug, thiserror::Error)]
pub enum AddressFileError {
    /// The file could not be read or written.
    #[error("Ocean address file {path}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not an address file.
    #[error("Ocean address file {path} is not valid")]
    Json {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The network is not in the file.
    #[error("Ocean address file {path} has no {network:?} entry")]
    NoNetwork {
        /// The file.
        path: String,
        /// The network asked for.
        network: String,
    },
}

impl OceanAddresses {
    /// Reads the `network` entry of an Ocean address file.
    pub fn read(path: impl AsRef<Path>, network: &str) -> Result<Self, AddressFileError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let bytes =
            std::fs::read(path).map_err(|source| AddressFileError::Io { path: shown.clone(), source })?;
        let mut file: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&bytes)
            .map_err(|source| AddressFileError::Json { path: shown.clone(), source })?;
        let entry = file.remove(network).ok_or_else(|| AddressFileError::NoNetwork {
            path: shown.clone(),
            network: network.to_owned(),
        })?;
        serde_json::from_value(entry).map_err(|source| AddressFileError::Json { path: shown, source })
    }

    /// Writes (or replaces) the `network` entry of the address file at `path`, keeping the others.
    pub fn write(&self, path: impl AsRef<Path>, network: &str) -> Result<(), AddressFileError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let mut file: BTreeMap<String, serde_json::Value> = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| AddressFileError::Json { path: shown.clone(), source })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(AddressFileError::Io { path: shown, source }),
        };
        file.insert(network.to_owned(), serde_json::to_value(self).expect("addresses serialise"));
        let text = serde_json::to_string_pretty(&file).expect("address file serialises");
        crypdoc_fs::write(path, (text + "\n").as_bytes())
            .map_err(|source| AddressFileError::Io { path: shown, source })
    }

    /// Checks that `provider` serves this chain and that the factory and exchange hold code.
    pub async fn check(&self, provider: &DynProvider) -> Result<(), ChainError> {
        let actual = provider.get_chain_id().await?;
        if actual != self.chain_id {
            return Err(ChainError::WrongChain { expected: self.chain_id, actual });
        }
        for (what, address) in [("ERC721Factory", self.erc721_factory), ("FixedPrice", self.fixed_price)] {
            if provider.get_code_at(address).await?.is_empty() {
                return Err(ChainError::NoCode { what, address });
            }
        }
        Ok(())
    }
}

async fn create(
    provider: &DynProvider,
    what: &'static str,
    code: &Bytes,
    args: Vec<u8>,
) -> Result<(Address, TransactionReceipt), ChainError> {
    let mut init = code.to_vec();
    init.extend(args);
    let tx = TransactionRequest::default().with_deploy_code(init);
    let receipt = provider
        .send_transaction(tx)
        .await?
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|source| ChainError::Receipt { what, source: Box::new(source) })?;
    let address = receipt.contract_address.ok_or(ChainError::NotCreated(what))?;
    if !receipt.status() {
        return Err(ChainError::Reverted { what, tx: receipt.transaction_hash });
    }
    tracing::debug!(target: "crypdoc::ocean", what, %address, "deployed");
    Ok((address, receipt))
}

/// Deploys Ocean v4 with `owner` (the provider's wallet) as router owner and OPF collector:
/// OceanToken, OPFCommunityFeeCollector, FactoryRouter, FixedRateExchange, ERC20Template,
/// ERC20TemplateEnterprise, ERC721Template, Dispenser, ERC721Factory; then the factory's second
/// datatoken template and the router's factory, fixed-rate and dispenser registrations, as
/// Ocean's deployment script does. `approved_tokens` become base tokens with Ocean's reduced
/// community fee (OCEAN is always one).
pub async fn deploy_ocean(
    provider: &DynProvider,
    owner: Address,
    approved_tokens: &[Address],
) -> Result<OceanAddresses, ChainError> {
    let chain_id = provider.get_chain_id().await?;
    let deploy = |what: &'static str| move |e| call_error(what, e);
    let ocean = OceanToken::deploy(provider, owner).await.map_err(deploy("OceanToken"))?;
    let (opf, _) = create(
        provider,
        "OPFCommunityFeeCollector",
        &OPF_COMMUNITY_FEE_COLLECTOR_CODE,
        (owner, owner).abi_encode_params(),
    )
    .await?;
    let router_receipt =
        FactoryRouter::deploy_builder(provider, owner, *ocean.address(), DEAD_ADDRESS, opf, vec![])
            .send()
            .await
            .map_err(deploy("FactoryRouter"))?
            .with_timeout(Some(RECEIPT_TIMEOUT))
            .get_receipt()
            .await
            .map_err(|source| ChainError::Receipt { what: "FactoryRouter", source: Box::new(source) })?;
    let router = router_receipt.contract_address.ok_or(ChainError::NotCreated("FactoryRouter"))?;
    let start_block = router_receipt.block_number.unwrap_or_default();
    let fre = FixedRateExchange::deploy(provider, router).await.map_err(deploy("FixedRateExchange"))?;
    let erc20 = ERC20Template::deploy(provider).await.map_err(deploy("ERC20Template"))?;
    let (erc20_enterprise, _) =
        create(provider, "ERC20TemplateEnterprise", &ERC20_TEMPLATE_ENTERPRISE_CODE, Vec::new()).await?;
    let erc721 = ERC721Template::deploy(provider).await.map_err(deploy("ERC721Template"))?;
    let (dispenser, _) = create(provider, "Dispenser", &DISPENSER_CODE, router.abi_encode()).await?;
    let factory = ERC721Factory::deploy(provider, *erc721.address(), *erc20.address(), router)
        .await
        .map_err(deploy("ERC721Factory"))?;

    send(factory.addTokenTemplate(erc20_enterprise), "ERC721Factory.addTokenTemplate").await?;
    let router_c = FactoryRouter::new(router, provider);
    send(router_c.addFactory(*factory.address()), "FactoryRouter.addFactory").await?;
    send(router_c.addFixedRateContract(*fre.address()), "FactoryRouter.addFixedRateContract").await?;
    send(router_c.addDispenserContract(dispenser), "FactoryRouter.addDispenserContract").await?;
    for token in approved_tokens {
        send(router_c.addApprovedToken(*token), "FactoryRouter.addApprovedToken").await?;
    }

    let addresses = OceanAddresses {
        chain_id,
        start_block,
        ocean: *ocean.address(),
        opf_community_fee_collector: opf,
        router,
        fixed_price: *fre.address(),
        dispenser,
        erc721_factory: *factory.address(),
        erc20_templates: BTreeMap::from([
            ("1".to_owned(), erc20.address().to_checksum(None)),
            ("2".to_owned(), erc20_enterprise.to_checksum(None)),
        ]),
        erc721_templates: BTreeMap::from([("1".to_owned(), erc721.address().to_checksum(None))]),
    };
    tracing::info!(
        target: "crypdoc::ocean",
        chain_id,
        factory = %addresses.erc721_factory,
        fixed_price = %addresses.fixed_price,
        "Ocean v4 contracts deployed"
    );
    Ok(addresses)
}

/// Mints dev OCEAN (the deployer owns the token).
pub async fn mint_ocean(
    provider: &DynProvider,
    addresses: &OceanAddresses,
    to: Address,
    amount: alloy::primitives::U256,
) -> Result<(), ChainError> {
    send(OceanToken::new(addresses.ocean, provider).mint(to, amount), "OceanToken.mint").await.map(drop)
}
