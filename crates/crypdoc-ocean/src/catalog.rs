//! Datasets as the chain records them: data NFTs created through Ocean's factory, the DDO in
//! their latest `MetadataCreated`/`MetadataUpdated` event, and the fixed-rate exchange that sells
//! their datatoken. This is what `crypdoc dataset list` shows and what the Provider serves as the
//! "indexed" asset (ocean-node's `indexedMetadata` and `datatokens` fields), so neither needs an
//! indexer database: the chain is the index.
//!
//! DDOs published by this crate are unencrypted (flags 0), so a researcher reads them straight
//! from the event and checks them against the on-chain hash and the DID rule without trusting the
//! node; only the `files` field inside is sealed to the node.

use alloy::{
    primitives::{utils::format_units, Address, B256, U256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
    sol_types::SolEvent,
};
use serde::Serialize;
use serde_json::json;
use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
};

use crate::{
    artifacts::{ERC20Template, ERC721Factory, ERC721Template, FixedRateExchange, IERC20},
    ddo::{self, iso_utc, metadata_hash, Asset, Ddo},
    deploy::OceanAddresses,
    did::did_for,
    error::{call_error, ChainError},
};

/// One datatoken unit (datatokens have 18 decimals).
pub const ONE_DATATOKEN: U256 = U256::from_limbs([1_000_000_000_000_000_000, 0, 0, 0]);

/// The assets a Provider knows, by DID. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Catalog(Arc<RwLock<BTreeMap<String, Asset>>>);

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an asset.
    pub fn insert(&self, asset: Asset) {
        let mut map = self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(asset.ddo.id.clone(), asset);
    }

    /// The asset with `did`.
    pub fn get(&self, did: &str) -> Option<Asset> {
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(did).cloned()
    }

    /// Every asset.
    pub fn list(&self) -> Vec<Asset> {
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).values().cloned().collect()
    }

    /// Loads every dataset of `owner` from chain (see [`scan`]).
    pub async fn load(
        &self,
        provider: &DynProvider,
        addresses: &OceanAddresses,
        owner: Address,
    ) -> Result<usize, ChainError> {
        let assets = scan(provider, addresses, Some(owner)).await?;
        let n = assets.len();
        for asset in assets {
            self.insert(asset);
        }
        Ok(n)
    }
}

/// The fixed-rate exchange selling a datatoken, and the price of one datatoken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    /// The `FixedRateExchange` contract.
    #[serde(serialize_with = "crate::serde_fmt::address")]
    pub exchange_contract: Address,
    /// The exchange id.
    pub exchange_id: B256,
    /// The token the price is in.
    #[serde(serialize_with = "crate::serde_fmt::address")]
    pub base_token: Address,
    /// Its symbol.
    pub base_symbol: String,
    /// Its decimals.
    pub base_decimals: u8,
    /// The exchange's rate (18 decimals, base token per datatoken).
    #[serde(serialize_with = "crate::serde_fmt::u256")]
    pub fixed_rate: U256,
    /// What one datatoken costs, in base-token units, fees included.
    #[serde(serialize_with = "crate::serde_fmt::u256")]
    pub price: U256,
    /// Of which the Ocean community fee.
    #[serde(serialize_with = "crate::serde_fmt::u256")]
    pub ocean_fee: U256,
    /// Of which the publish market fee.
    #[serde(serialize_with = "crate::serde_fmt::u256")]
    pub market_fee: U256,
    /// Whether the exchange is active.
    pub active: bool,
}

impl Pricing {
    /// The price as a decimal string (`1.001`).
    pub fn price_decimal(&self) -> String {
        format_units(self.price, self.base_decimals).unwrap_or_else(|_| self.price.to_string())
    }
}

/// The first fixed-rate exchange of `datatoken`, with its current price for one datatoken.
pub async fn pricing(provider: &DynProvider, datatoken: Address) -> Result<Option<Pricing>, ChainError> {
    let dt = ERC20Template::new(datatoken, provider);
    let rates = dt.getFixedRates().call().await.map_err(|e| call_error("ERC20Template.getFixedRates", e))?;
    let Some(rate) = rates.first() else { return Ok(None) };
    let fre = FixedRateExchange::new(rate.contractAddress, provider);
    let ex =
        fre.getExchange(rate.id).call().await.map_err(|e| call_error("FixedRateExchange.getExchange", e))?;
    let fees = fre
        .calcBaseInGivenOutDT(rate.id, ONE_DATATOKEN, U256::ZERO)
        .call()
        .await
        .map_err(|e| call_error("FixedRateExchange.calcBaseInGivenOutDT", e))?;
    let base = IERC20::new(ex.baseToken, provider);
    let base_symbol = base.symbol().call().await.unwrap_or_else(|_| "?".to_owned());
    Ok(Some(Pricing {
        exchange_contract: rate.contractAddress,
        exchange_id: rate.id,
        base_token: ex.baseToken,
        base_symbol,
        base_decimals: u8::try_from(ex.btDecimals).unwrap_or(18),
        fixed_rate: ex.fixedRate,
        price: fees.baseTokenAmount,
        ocean_fee: fees.oceanFeeAmount,
        market_fee: fees.publishMarketFeeAmount,
        active: ex.active,
    }))
}

/// The latest metadata event of a data NFT, decoded.
#[derive(Debug, Clone)]
pub struct MetadataEvent {
    /// The DDO bytes (`data`).
    pub data: Vec<u8>,
    /// `flags` (0 = plain JSON).
    pub flags: Vec<u8>,
    /// `metaDataHash`.
    pub hash: B256,
    /// `state` (0 = active).
    pub state: u8,
    /// Who set it.
    pub from: Address,
    /// Transaction.
    pub tx: B256,
    /// Block.
    pub block: u64,
    /// Block timestamp (from the event).
    pub timestamp: u64,
    /// Whether it was the first (`MetadataCreated`).
    pub created: bool,
}

fn decode_metadata_log(log: &Log) -> Option<MetadataEvent> {
    let tx = log.transaction_hash.unwrap_or_default();
    let block = log.block_number.unwrap_or_default();
    if let Ok(e) = log.log_decode::<ERC721Template::MetadataCreated>() {
        let e = e.inner.data;
        return Some(MetadataEvent {
            data: e.data.to_vec(),
            flags: e.flags.to_vec(),
            hash: e.metaDataHash,
            state: e.state,
            from: e.createdBy,
            tx,
            block,
            timestamp: e.timestamp.saturating_to(),
            created: true,
        });
    }
    let e = log.log_decode::<ERC721Template::MetadataUpdated>().ok()?.inner.data;
    Some(MetadataEvent {
        data: e.data.to_vec(),
        flags: e.flags.to_vec(),
        hash: e.metaDataHash,
        state: e.state,
        from: e.updatedBy,
        tx,
        block,
        timestamp: e.timestamp.saturating_to(),
        created: false,
    })
}

/// The metadata events of `nft` since `from_block`, oldest first.
pub async fn metadata_events(
    provider: &DynProvider,
    nft: Address,
    from_block: u64,
) -> Result<Vec<MetadataEvent>, ChainError> {
    let filter = Filter::new()
        .address(nft)
        .event_signature(vec![
            ERC721Template::MetadataCreated::SIGNATURE_HASH,
            ERC721Template::MetadataUpdated::SIGNATURE_HASH,
        ])
        .from_block(from_block);
    Ok(provider.get_logs(&filter).await?.iter().filter_map(decode_metadata_log).collect())
}

/// Why a data NFT's metadata is not a usable DDO.
#[derive(Debug, thiserror::Error)]
pub enum UnreadableDdo {
    /// Encrypted or compressed (flags other than 0): only its Provider can read it.
    #[error("the DDO is encrypted or compressed (flags {0:?})")]
    Flags(Vec<u8>),
    /// The bytes do not hash to the on-chain `metaDataHash`.
    #[error("the DDO does not match its on-chain hash")]
    Hash,
    /// Not JSON, or not a valid DDO v4.
    #[error("the DDO is invalid: {0}")]
    Invalid(String),
}

/// The DDO carried by a metadata event, checked: plain JSON, hashing to the event's
/// `metaDataHash`, valid DDO 4.1.0 whose `id` is the DID of `nft` on `chain_id`.
pub fn ddo_from_event(event: &MetadataEvent, nft: Address, chain_id: u64) -> Result<Ddo, UnreadableDdo> {
    if event.flags.iter().any(|b| *b != 0) {
        return Err(UnreadableDdo::Flags(event.flags.clone()));
    }
    if metadata_hash(&event.data) != event.hash {
        return Err(UnreadableDdo::Hash);
    }
    let value: serde_json::Value =
        serde_json::from_slice(&event.data).map_err(|e| UnreadableDdo::Invalid(e.to_string()))?;
    ddo::validate(&value).map_err(|e| UnreadableDdo::Invalid(e.to_string()))?;
    let ddo: Ddo = serde_json::from_value(value).map_err(|e| UnreadableDdo::Invalid(e.to_string()))?;
    if ddo.id != did_for(nft, chain_id) || ddo.chain_id != chain_id {
        return Err(UnreadableDdo::Invalid("id or chainId is not this NFT's".into()));
    }
    Ok(ddo)
}

/// The asset of data NFT `nft`, from its latest metadata event, with the fields ocean-node's
/// indexer adds. `None` when the NFT has no metadata, or its DDO is unreadable (logged).
pub async fn read_asset(
    provider: &DynProvider,
    addresses: &OceanAddresses,
    nft: Address,
) -> Result<Option<Asset>, ChainError> {
    let events = metadata_events(provider, nft, addresses.start_block).await?;
    let Some(event) = events.last() else { return Ok(None) };
    let ddo = match ddo_from_event(event, nft, addresses.chain_id) {
        Ok(ddo) => ddo,
        Err(why) => {
            tracing::warn!(target: "crypdoc::ocean", %nft, %why, "skipping data NFT");
            return Ok(None);
        }
    };
    // A DDO could name any token as a service's datatoken; only the NFT's own datatokens count
    // (ocean-node's `isDeployed` check).
    let contract = ERC721Template::new(nft, provider);
    for service in &ddo.services {
        let dt = service.datatoken_address.parse::<Address>().unwrap_or_default();
        let own =
            contract.isDeployed(dt).call().await.map_err(|e| call_error("ERC721Template.isDeployed", e))?;
        if !own {
            tracing::warn!(target: "crypdoc::ocean", %nft, datatoken = %dt, "skipping data NFT: a service names a datatoken it did not deploy");
            return Ok(None);
        }
    }
    let created = events.first().map_or(event.timestamp, |e| e.timestamp);
    Ok(Some(index_asset(provider, ddo, event, created, addresses.start_block).await?))
}

/// Adds `indexedMetadata` and `datatokens` to `ddo`, reading the NFT, its datatokens and their
/// exchanges, as ocean-node's indexer does.
///
/// `created` is the unix time of the first metadata event; orders are counted from `from_block`.
pub async fn index_asset(
    provider: &DynProvider,
    ddo: Ddo,
    event: &MetadataEvent,
    created: u64,
    from_block: u64,
) -> Result<Asset, ChainError> {
    let nft_address: Address =
        ddo.nft().map_err(|_| ChainError::NoCode { what: "data NFT", address: Address::ZERO })?;
    let nft = ERC721Template::new(nft_address, provider);
    let name = nft.name().call().await.map_err(|e| call_error("ERC721Template.name", e))?;
    let symbol = nft.symbol().call().await.map_err(|e| call_error("ERC721Template.symbol", e))?;
    let owner =
        nft.ownerOf(U256::from(1)).call().await.map_err(|e| call_error("ERC721Template.ownerOf", e))?;
    let token_uri = nft.tokenURI(U256::from(1)).call().await.unwrap_or_default();
    let state = nft.getMetaData().call().await.map_err(|e| call_error("ERC721Template.getMetaData", e))?._2;
    let mut stats = Vec::new();
    let mut datatokens = Vec::new();
    for service in &ddo.services {
        let Ok(dt_address) = service.datatoken_address.parse::<Address>() else { continue };
        let dt = ERC20Template::new(dt_address, provider);
        let dt_name = dt.name().call().await.map_err(|e| call_error("ERC20Template.name", e))?;
        let dt_symbol = dt.symbol().call().await.map_err(|e| call_error("ERC20Template.symbol", e))?;
        let orders = order_count(provider, dt_address, from_block).await?;
        let prices = match pricing(provider, dt_address).await? {
            Some(p) => vec![json!({
                "type": "fixedrate",
                "price": p.price_decimal(),
                "contract": p.exchange_contract.to_checksum(None),
                "token": p.base_token.to_checksum(None),
                "exchangeId": p.exchange_id.to_string(),
            })],
            None => vec![],
        };
        stats.push(json!({
            "datatokenAddress": service.datatoken_address,
            "name": dt_name,
            "symbol": dt_symbol,
            "serviceId": service.id,
            "orders": orders,
            "prices": prices,
        }));
        datatokens.push(json!({
            "address": service.datatoken_address,
            "name": dt_name,
            "symbol": dt_symbol,
            "serviceId": service.id,
        }));
    }
    let indexed_metadata = json!({
        "nft": {
            "address": nft_address.to_checksum(None),
            "name": name,
            "symbol": symbol,
            "state": state,
            "tokenURI": token_uri,
            "owner": owner.to_checksum(None),
            "created": iso_utc(created),
        },
        "event": {
            "txid": event.tx.to_string(),
            "from": event.from.to_checksum(None),
            "contract": nft_address.to_checksum(None),
            "block": event.block,
            "datetime": iso_utc(event.timestamp),
        },
        "stats": stats,
        "purgatory": { "state": false },
    });
    Ok(Asset { ddo, indexed_metadata, datatokens })
}

/// How many `OrderStarted` events `datatoken` emitted since `from_block`.
pub async fn order_count(
    provider: &DynProvider,
    datatoken: Address,
    from_block: u64,
) -> Result<usize, ChainError> {
    let filter = Filter::new()
        .address(datatoken)
        .event_signature(ERC20Template::OrderStarted::SIGNATURE_HASH)
        .from_block(from_block);
    Ok(provider.get_logs(&filter).await?.len())
}

/// The data NFTs created through Ocean's factory, optionally only those whose owner (`admin`)
/// is `owner`, oldest first.
pub async fn data_nfts(
    provider: &DynProvider,
    addresses: &OceanAddresses,
    owner: Option<Address>,
) -> Result<Vec<Address>, ChainError> {
    let mut filter = Filter::new()
        .address(addresses.erc721_factory)
        .event_signature(ERC721Factory::NFTCreated::SIGNATURE_HASH)
        .from_block(addresses.start_block);
    if let Some(owner) = owner {
        filter = filter.topic2(owner.into_word());
    }
    let logs = provider.get_logs(&filter).await?;
    Ok(logs
        .iter()
        .filter_map(|log| log.log_decode::<ERC721Factory::NFTCreated>().ok())
        .map(|e| e.inner.data.newTokenAddress)
        .collect())
}

/// Every readable dataset created through the factory (by `owner` when given), with its
/// indexed fields.
pub async fn scan(
    provider: &DynProvider,
    addresses: &OceanAddresses,
    owner: Option<Address>,
) -> Result<Vec<Asset>, ChainError> {
    let mut assets = Vec::new();
    for nft in data_nfts(provider, addresses, owner).await? {
        if let Some(asset) = read_asset(provider, addresses, nft).await? {
            assets.push(asset);
        }
    }
    Ok(assets)
}
