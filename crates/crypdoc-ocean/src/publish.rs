//! Publishing the dataset: one data NFT, datatoken and fixed-rate exchange per dataset, created
//! in one call (`ERC721Factory.createNftWithErc20WithFixedRate`), then a DDO v4.1.0 set with
//! `setMetaData` for each release (the first call emits `MetadataCreated`, later ones
//! `MetadataUpdated`). Publishing a release is idempotent: when the chain already holds that
//! release's DDO, nothing is sent.

use alloy::{
    primitives::{utils::parse_units, Address, Bytes, B256, U256},
    providers::{DynProvider, Provider},
    rpc::types::{BlockNumberOrTag, TransactionReceipt},
    signers::local::PrivateKeySigner,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    artifacts::{
        erc721_factory::IFactory::{ErcCreateData, FixedData, NftCreateData},
        ERC20Template, ERC721Factory, ERC721Template, IERC20,
    },
    catalog::{self, ddo_from_event, metadata_events},
    ddo::{self, iso_utc, metadata_hash, Asset, Ddo, Metadata, Service, DDO_VERSION},
    deploy::OceanAddresses,
    did::did_for,
    error::{call_error, send, ChainError},
    files::{DatasetFile, FilesKey},
    ledger::Release,
};

/// What the dataset is called and sold for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetConfig {
    /// Title (also the data NFT's name).
    pub name: String,
    /// Data NFT symbol (how the publisher finds its dataset again on chain).
    pub symbol: String,
    /// Datatoken name.
    pub datatoken_name: String,
    /// Datatoken symbol.
    pub datatoken_symbol: String,
    /// Author (the hospital's name).
    pub author: String,
    /// Licence.
    pub license: String,
    /// Keywords.
    pub tags: Vec<String>,
    /// The Provider's URL: the hospital node, where `provider_router` is served.
    pub service_endpoint: String,
    /// Seconds an order stays valid for downloads (0 = forever).
    pub timeout: u64,
    /// The token the datatoken is priced in.
    pub base_token: Address,
    /// Price of one datatoken in base-token units as a decimal (`"10"`, `"2.5"`).
    pub price: String,
}

impl DatasetConfig {
    /// A config with CrypDoc's defaults (licence CC-BY-4.0, one-day orders, price 10).
    pub fn new(author: impl Into<String>, service_endpoint: impl Into<String>, base_token: Address) -> Self {
        let author = author.into();
        Self {
            name: format!("CrypDoc final diagnoses ({author})"),
            symbol: "CRYPDOC-DX".to_owned(),
            datatoken_name: "CrypDoc Diagnoses Access".to_owned(),
            datatoken_symbol: "CDXDT".to_owned(),
            author,
            license: "CC-BY-4.0".to_owned(),
            tags: vec!["brain-mri".into(), "diagnoses".into(), "k-anonymous".into(), "crypdoc".into()],
            service_endpoint: service_endpoint.into(),
            timeout: 86_400,
            base_token,
            price: "10".to_owned(),
        }
    }

    fn description(&self, k: u32) -> String {
        format!(
            "Final diagnoses of brain MRI second opinions reached on CrypDoc by {}: one record per \
             finalized case with only the month (UTC) of the final diagnosis and the diagnosis \
             (code set, code, name), nothing about the patient, the scan, the doctors or the task. \
             A month's records are released only when every diagnosis group among them has at \
             least k = {k} records. Each release is a new version of one file, in CSV (file 0) and \
             JSON (file 1); its SHA-256 digests are in additionalInformation.crypdoc.",
            self.author
        )
    }
}

/// Where a published dataset lives (the node keeps it in its state; [`Publisher::find`]
/// recovers it from chain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetHandle {
    /// `did:op:...`.
    pub did: String,
    /// Data NFT.
    pub nft: Address,
    /// Datatoken.
    pub datatoken: Address,
    /// Fixed-rate exchange id.
    pub exchange_id: B256,
}

/// What publishing a release did.
#[derive(Debug, Clone)]
pub struct Published {
    /// The dataset.
    pub handle: DatasetHandle,
    /// The asset as now on chain (DDO plus indexed fields): give it to the Provider's catalog.
    pub asset: Asset,
    /// The `createNftWithErc20WithFixedRate` receipt, when this call created the dataset.
    pub created: Option<TransactionReceipt>,
    /// The `setMetaData` receipt, when this call changed the metadata (`None`: the chain already
    /// held this release).
    pub metadata: Option<TransactionReceipt>,
}

/// Publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A chain operation failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The price is not a decimal amount.
    #[error("invalid price {0:?}: give a decimal amount such as 10 or 2.5")]
    Price(String),
    /// The DDO built for the release breaks the schema (a bad config value).
    #[error("the DDO for release {version} is invalid")]
    Ddo {
        /// Release version.
        version: u32,
        /// Which rule.
        source: ddo::DdoError,
    },
    /// The dataset is not readable on chain after publishing.
    #[error("dataset {0} has no readable DDO on chain after publishing")]
    Unreadable(String),
}

/// The hospital's publishing wallet, bound to one Ocean deployment and one Provider key.
#[derive(Debug, Clone)]
pub struct Publisher {
    provider: DynProvider,
    hospital: Address,
    addresses: OceanAddresses,
    files_key: FilesKey,
    provider_address: Address,
}

/// The access service's id: stable across releases (the provider fee names it).
pub fn service_id(datatoken: Address) -> String {
    hex::encode(Sha256::digest(format!("crypdoc.access:{}", datatoken.to_checksum(None))))
}

/// The chain's notion of now: the later of the wall clock and the latest block's timestamp
/// (anvil's clock can be moved forward).
pub(crate) async fn chain_now(provider: &DynProvider) -> Result<u64, ChainError> {
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let latest =
        provider.get_block_by_number(BlockNumberOrTag::Latest).await?.map_or(0, |b| b.header.timestamp);
    Ok(wall.max(latest))
}

impl Publisher {
    /// `provider` sends as the hospital (`hospital` is its address); `provider_key` is the
    /// Provider's key (the files object is sealed to it). Checks the chain and the contracts.
    pub async fn new(
        provider: DynProvider,
        hospital: Address,
        addresses: OceanAddresses,
        provider_key: &PrivateKeySigner,
    ) -> Result<Self, ChainError> {
        addresses.check(&provider).await?;
        Ok(Self {
            provider,
            hospital,
            addresses,
            files_key: FilesKey::from_signer(provider_key),
            provider_address: provider_key.address(),
        })
    }

    /// The Ocean deployment.
    pub const fn addresses(&self) -> &OceanAddresses {
        &self.addresses
    }

    /// Finds the hospital's dataset with `config.symbol` on chain (for example after a crash
    /// between creating it and saving its handle).
    pub async fn find(&self, config: &DatasetConfig) -> Result<Option<DatasetHandle>, ChainError> {
        for nft in
            catalog::data_nfts(&self.provider, &self.addresses, Some(self.hospital)).await?.into_iter().rev()
        {
            let contract = ERC721Template::new(nft, &self.provider);
            let symbol =
                contract.symbol().call().await.map_err(|e| call_error("ERC721Template.symbol", e))?;
            if symbol != config.symbol {
                continue;
            }
            let tokens = contract
                .getTokensList()
                .call()
                .await
                .map_err(|e| call_error("ERC721Template.getTokensList", e))?;
            let Some(&datatoken) = tokens.first() else { continue };
            let rates = ERC20Template::new(datatoken, &self.provider)
                .getFixedRates()
                .call()
                .await
                .map_err(|e| call_error("ERC20Template.getFixedRates", e))?;
            let Some(rate) = rates.first() else { continue };
            return Ok(Some(DatasetHandle {
                did: did_for(nft, self.addresses.chain_id),
                nft,
                datatoken,
                exchange_id: rate.id,
            }));
        }
        Ok(None)
    }

    /// Creates the data NFT, its datatoken and a fixed-rate exchange in one transaction: the
    /// hospital owns the NFT, mints, and collects payments; no publish market fee.
    pub async fn create(
        &self,
        config: &DatasetConfig,
    ) -> Result<(DatasetHandle, TransactionReceipt), PublishError> {
        let fixed_rate: U256 =
            parse_units(&config.price, 18).map_err(|_| PublishError::Price(config.price.clone()))?.into();
        if fixed_rate.is_zero() {
            return Err(PublishError::Price(config.price.clone()));
        }
        let base_decimals = IERC20::new(config.base_token, &self.provider)
            .decimals()
            .call()
            .await
            .map_err(|e| call_error("base token decimals", e))?;
        let factory = ERC721Factory::new(self.addresses.erc721_factory, &self.provider);
        let nft = NftCreateData {
            name: config.name.clone(),
            symbol: config.symbol.clone(),
            templateIndex: U256::from(1),
            tokenURI: String::new(),
            transferable: true,
            owner: self.hospital,
        };
        let erc = ErcCreateData {
            templateIndex: U256::from(1),
            strings: vec![config.datatoken_name.clone(), config.datatoken_symbol.clone()],
            // minter, payment collector, publish market fee address, publish market fee token
            addresses: vec![self.hospital, self.hospital, self.hospital, config.base_token],
            // cap (ignored by the template), publish market fee amount
            uints: vec![U256::from(1_000_000u64) * catalog::ONE_DATATOKEN, U256::ZERO],
            bytess: vec![],
        };
        let fixed = FixedData {
            fixedPriceAddress: self.addresses.fixed_price,
            // base token, exchange owner, market fee collector, allowed swapper (anyone)
            addresses: vec![config.base_token, self.hospital, self.hospital, Address::ZERO],
            // base decimals, datatoken decimals, rate, market fee, mint on demand
            uints: vec![U256::from(base_decimals), U256::from(18), fixed_rate, U256::ZERO, U256::from(1)],
        };
        let what = "ERC721Factory.createNftWithErc20WithFixedRate";
        let receipt = send(factory.createNftWithErc20WithFixedRate(nft, erc, fixed), what).await?;
        let tx = receipt.transaction_hash;
        let nft = receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<ERC721Factory::NFTCreated>().ok())
            .map(|e| e.inner.data.newTokenAddress)
            .ok_or(ChainError::MissingEvent { what, tx, event: "NFTCreated" })?;
        let (datatoken, exchange_id) = receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<ERC20Template::NewFixedRate>().ok())
            .map(|e| (e.inner.address, e.inner.data.exchangeId))
            .ok_or(ChainError::MissingEvent { what, tx, event: "NewFixedRate" })?;
        let handle =
            DatasetHandle { did: did_for(nft, self.addresses.chain_id), nft, datatoken, exchange_id };
        tracing::info!(
            target: "crypdoc::ocean",
            did = %handle.did, %nft, %datatoken, gas = receipt.gas_used,
            "dataset created: data NFT, datatoken and fixed-rate exchange"
        );
        Ok((handle, receipt))
    }

    /// The DDO of `release` for `handle`.
    pub fn build_ddo(
        &self,
        config: &DatasetConfig,
        handle: &DatasetHandle,
        release: &Release,
        files: &[DatasetFile],
        created: u64,
        updated: u64,
    ) -> Ddo {
        let chain_id = self.addresses.chain_id;
        let sealed = self.files_key.seal(chain_id, handle.nft, handle.datatoken, files);
        let file_info: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(i, f)| json!({"index": i, "format": f.format, "contentType": f.content_type, "sha256": f.sha256, "bytes": f.bytes}))
            .collect();
        Ddo {
            context: vec!["https://w3id.org/did/v1".to_owned()],
            id: did_for(handle.nft, chain_id),
            version: DDO_VERSION.to_owned(),
            chain_id,
            nft_address: handle.nft.to_checksum(None),
            metadata: Metadata {
                created: iso_utc(created),
                updated: iso_utc(updated),
                kind: "dataset".to_owned(),
                name: config.name.clone(),
                description: config.description(release.info.k),
                author: config.author.clone(),
                license: config.license.clone(),
                tags: config.tags.clone(),
                copyright_holder: Some(config.author.clone()),
                additional_information: json!({
                    "crypdoc": {
                        "release": release.version(),
                        "k": release.info.k,
                        "records": release.info.records,
                        "months": release.info.months,
                        "record": "month (YYYY-MM, UTC) of the final diagnosis, code set, code, diagnosis name",
                        "files": file_info,
                    }
                }),
            },
            services: vec![Service {
                id: service_id(handle.datatoken),
                kind: "access".to_owned(),
                name: Some("Download".to_owned()),
                description: Some(format!(
                    "Release {} of the dataset: CSV (file 0) or JSON (file 1)",
                    release.version()
                )),
                files: sealed,
                datatoken_address: handle.datatoken.to_checksum(None),
                service_endpoint: config.service_endpoint.clone(),
                timeout: config.timeout,
            }],
        }
    }

    /// Publishes `release` (whose bytes are described by `files`, normally
    /// [`DatasetFile::for_release`] with the node's storage locations): creates the dataset when
    /// `handle` is `None` and none is on chain, then sets the release's DDO unless the chain holds
    /// it already.
    pub async fn publish_release(
        &self,
        config: &DatasetConfig,
        handle: Option<&DatasetHandle>,
        release: &Release,
        files: &[DatasetFile],
    ) -> Result<Published, PublishError> {
        let (handle, created) = match handle {
            Some(h) => (h.clone(), None),
            None => match self.find(config).await? {
                Some(h) => (h, None),
                None => {
                    let (h, receipt) = self.create(config).await?;
                    (h, Some(receipt))
                }
            },
        };
        let chain_id = self.addresses.chain_id;
        let events = metadata_events(&self.provider, handle.nft, self.addresses.start_block).await?;
        let current = events.last().and_then(|e| ddo_from_event(e, handle.nft, chain_id).ok());
        let already = current.as_ref().is_some_and(|ddo| {
            let info = &ddo.metadata.additional_information["crypdoc"];
            info["release"] == json!(release.version())
                && info["files"][0]["sha256"] == json!(release.info.csv_sha256)
        });
        let mut metadata = None;
        if already {
            tracing::info!(target: "crypdoc::ocean", did = %handle.did, version = release.version(), "release already on chain");
        } else {
            let now = chain_now(&self.provider).await?;
            let created_at = events.first().map_or(now, |e| e.timestamp);
            let ddo = self.build_ddo(config, &handle, release, files, created_at, now);
            ddo::validate(&ddo.to_value())
                .map_err(|source| PublishError::Ddo { version: release.version(), source })?;
            let bytes = ddo.to_bytes();
            let nft = ERC721Template::new(handle.nft, &self.provider);
            let call = nft.setMetaData(
                0,
                config.service_endpoint.clone(),
                self.provider_address.to_checksum(None),
                Bytes::from(vec![0u8]),
                Bytes::from(bytes.clone()),
                metadata_hash(&bytes),
                vec![],
            );
            let receipt = send(call, "ERC721Template.setMetaData").await?;
            tracing::info!(
                target: "crypdoc::ocean",
                did = %handle.did, version = release.version(), records = release.info.records,
                csv_sha256 = %release.info.csv_sha256, gas = receipt.gas_used,
                "dataset release published"
            );
            metadata = Some(receipt);
        }
        let asset = catalog::read_asset(&self.provider, &self.addresses, handle.nft)
            .await?
            .ok_or_else(|| PublishError::Unreadable(handle.did.clone()))?;
        Ok(Published { handle, asset, created, metadata })
    }
}
