//! The researcher's side: list the datasets on chain, buy a datatoken from the fixed-rate
//! exchange, then order and download through the dataset's Provider, the same protocol ocean.js
//! speaks (`initialize`, `startOrder`, `nonce`, signed `download`), and check the file against the
//! SHA-256 published in the DDO.
//!
//! Everything the researcher relies on is read from chain (the DDO is in the metadata event and
//! checked against its on-chain hash and DID); the node is trusted only to serve the bytes, and
//! those are checked too.

use alloy::{
    primitives::{Address, B256, U256},
    providers::DynProvider,
    signers::local::PrivateKeySigner,
};
use serde::Serialize;
use std::time::{Duration, Instant};

use crate::{
    artifacts::{erc20_template::ERC20Template as Template, ERC20Template, FixedRateExchange, IERC20},
    catalog::{self, pricing, Pricing, ONE_DATATOKEN},
    ddo::Asset,
    deploy::OceanAddresses,
    did::did_for,
    error::{call_error, send, ChainError},
    ledger::sha256_hex,
    signing::{command, sign_request, ProviderFee},
};

/// A researcher operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ResearcherError {
    /// A chain operation failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// No readable dataset with this DID on chain.
    #[error("no dataset {0} on this chain (see `crypdoc dataset list`)")]
    UnknownDid(String),
    /// The dataset's datatoken is not sold on a fixed-rate exchange.
    #[error("dataset {0} has no active fixed-rate exchange")]
    NotForSale(String),
    /// Not enough of the base token.
    #[error("buying one datatoken costs {need} {symbol} but the account holds {have} {symbol}")]
    InsufficientFunds {
        /// Price.
        need: String,
        /// Balance.
        have: String,
        /// Base token symbol.
        symbol: String,
    },
    /// No datatoken to order with.
    #[error("the account holds no datatoken of {0}: buy one first (`crypdoc dataset buy {0}`)")]
    NoDatatoken(String),
    /// The node could not be reached or answered garbage.
    #[error("the dataset's Provider at {url} failed: {reason}")]
    Http {
        /// The request.
        url: String,
        /// Why.
        reason: String,
    },
    /// The node refused.
    #[error("the dataset's Provider refused ({status} {code}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The node's error code.
        code: String,
        /// The node's message.
        message: String,
    },
    /// The node's provider fee is not usable.
    #[error("the Provider returned an unusable provider fee: {0}")]
    Fee(String),
    /// The file does not have the published hash.
    #[error("the downloaded file's SHA-256 is {got}, but the DDO publishes {published}: not written")]
    HashMismatch {
        /// Published.
        published: String,
        /// Received.
        got: String,
    },
}

/// A dataset as `crypdoc dataset list` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    /// `did:op:...`.
    pub did: String,
    /// Title.
    pub name: String,
    /// Publisher (data NFT owner).
    #[serde(serialize_with = "crate::serde_fmt::address")]
    pub owner: Address,
    /// Data NFT.
    #[serde(serialize_with = "crate::serde_fmt::address")]
    pub nft: Address,
    /// Datatoken.
    #[serde(serialize_with = "crate::serde_fmt::address")]
    pub datatoken: Address,
    /// Provider URL.
    pub service_endpoint: String,
    /// Release version.
    pub release: u64,
    /// Records in the release.
    pub records: u64,
    /// Months in the release.
    pub months: Vec<String>,
    /// SHA-256 of the CSV file.
    pub csv_sha256: String,
    /// The exchange and price, when for sale.
    pub pricing: Option<Pricing>,
    /// Datatokens the researcher holds.
    #[serde(serialize_with = "crate::serde_fmt::u256")]
    pub datatoken_balance: U256,
    /// Orders placed so far.
    pub orders: u64,
}

/// What buying cost.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    /// Dataset.
    pub did: String,
    /// Datatoken bought (one).
    #[serde(serialize_with = "crate::serde_fmt::address")]
    pub datatoken: Address,
    /// Exchange, price and fees.
    pub pricing: Pricing,
    /// The approval, when one was needed.
    pub approve_tx: Option<B256>,
    /// Its gas.
    pub approve_gas: u64,
    /// `buyDT`.
    pub buy_tx: B256,
    /// Its gas.
    pub buy_gas: u64,
    /// Base token before and after.
    #[serde(serialize_with = "crate::serde_fmt::u256_pair")]
    pub base_balance: (U256, U256),
    /// Datatoken before and after.
    #[serde(serialize_with = "crate::serde_fmt::u256_pair")]
    pub datatoken_balance: (U256, U256),
}

/// A downloaded, verified file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Download {
    /// Dataset.
    pub did: String,
    /// The order transaction (reusable within the service timeout).
    pub order_tx: B256,
    /// Gas of `startOrder` (0 when an order was reused).
    pub order_gas: u64,
    /// Release version.
    pub release: u64,
    /// The node's file name.
    pub file_name: String,
    /// SHA-256, equal to the published one.
    pub sha256: String,
    /// The bytes.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Time of the signed `download` request, first byte to last.
    #[serde(rename = "latencyMs", serialize_with = "crate::serde_fmt::millis")]
    pub latency: Duration,
    /// Datatoken before and after.
    #[serde(serialize_with = "crate::serde_fmt::u256_pair")]
    pub datatoken_balance: (U256, U256),
}

/// A researcher's wallet on one Ocean deployment.
#[derive(Debug, Clone)]
pub struct Researcher {
    provider: DynProvider,
    signer: PrivateKeySigner,
    addresses: OceanAddresses,
    http: reqwest::Client,
}

fn crypdoc_info(asset: &Asset) -> &serde_json::Value {
    &asset.ddo.metadata.additional_information["crypdoc"]
}

impl Researcher {
    /// `provider` sends as `signer`. Checks the chain and the contracts.
    pub async fn new(
        provider: DynProvider,
        signer: PrivateKeySigner,
        addresses: OceanAddresses,
    ) -> Result<Self, ChainError> {
        addresses.check(&provider).await?;
        Ok(Self { provider, signer, addresses, http: reqwest::Client::new() })
    }

    /// The researcher's address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// Balance of `token` (base token or datatoken).
    pub async fn balance(&self, token: Address) -> Result<U256, ChainError> {
        IERC20::new(token, &self.provider)
            .balanceOf(self.address())
            .call()
            .await
            .map_err(|e| call_error("balanceOf", e))
    }

    /// The readable datasets on chain, of `publisher` when given.
    pub async fn list(&self, publisher: Option<Address>) -> Result<Vec<Listing>, ChainError> {
        let mut out = Vec::new();
        for asset in catalog::scan(&self.provider, &self.addresses, publisher).await? {
            let Some(service) = asset.ddo.services.first() else { continue };
            let Ok(datatoken) = service.datatoken_address.parse::<Address>() else { continue };
            let info = crypdoc_info(&asset);
            let nft_info = &asset.indexed_metadata["nft"];
            out.push(Listing {
                did: asset.ddo.id.clone(),
                name: asset.ddo.metadata.name.clone(),
                owner: nft_info["owner"].as_str().and_then(|o| o.parse().ok()).unwrap_or_default(),
                nft: asset.ddo.nft().unwrap_or_default(),
                datatoken,
                service_endpoint: service.service_endpoint.clone(),
                release: info["release"].as_u64().unwrap_or(0),
                records: info["records"].as_u64().unwrap_or(0),
                months: info["months"]
                    .as_array()
                    .map(|m| m.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default(),
                csv_sha256: info["files"][0]["sha256"].as_str().unwrap_or_default().to_owned(),
                pricing: pricing(&self.provider, datatoken).await?,
                datatoken_balance: self.balance(datatoken).await?,
                orders: asset.indexed_metadata["stats"][0]["orders"].as_u64().unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// The asset with `did`, read and checked from chain.
    pub async fn asset(&self, did: &str) -> Result<Asset, ResearcherError> {
        for nft in catalog::data_nfts(&self.provider, &self.addresses, None).await? {
            if did_for(nft, self.addresses.chain_id) == did {
                return catalog::read_asset(&self.provider, &self.addresses, nft)
                    .await?
                    .ok_or_else(|| ResearcherError::UnknownDid(did.to_owned()));
            }
        }
        Err(ResearcherError::UnknownDid(did.to_owned()))
    }

    /// Buys one datatoken of `did` on its fixed-rate exchange: approves the exact price in the
    /// base token when the allowance is short, then `buyDT` with that price as the maximum.
    pub async fn buy(&self, did: &str) -> Result<Purchase, ResearcherError> {
        let asset = self.asset(did).await?;
        let datatoken: Address = asset.ddo.services[0].datatoken_address.parse().unwrap_or_default();
        let pricing = pricing(&self.provider, datatoken)
            .await?
            .filter(|p| p.active)
            .ok_or_else(|| ResearcherError::NotForSale(did.to_owned()))?;
        let me = self.address();
        let base = IERC20::new(pricing.base_token, &self.provider);
        let base_before = self.balance(pricing.base_token).await?;
        let dt_before = self.balance(datatoken).await?;
        if base_before < pricing.price {
            let fmt = |v: U256| {
                alloy::primitives::utils::format_units(v, pricing.base_decimals).unwrap_or_default()
            };
            return Err(ResearcherError::InsufficientFunds {
                need: fmt(pricing.price),
                have: fmt(base_before),
                symbol: pricing.base_symbol.clone(),
            });
        }
        let allowance = base
            .allowance(me, pricing.exchange_contract)
            .call()
            .await
            .map_err(|e| call_error("allowance", e))?;
        let (approve_tx, approve_gas) = if allowance < pricing.price {
            let r =
                send(base.approve(pricing.exchange_contract, pricing.price), "approve base token").await?;
            (Some(r.transaction_hash), r.gas_used)
        } else {
            (None, 0)
        };
        let fre = FixedRateExchange::new(pricing.exchange_contract, &self.provider);
        let buy = send(
            fre.buyDT(pricing.exchange_id, ONE_DATATOKEN, pricing.price, Address::ZERO, U256::ZERO),
            "FixedRateExchange.buyDT",
        )
        .await?;
        let base_after = self.balance(pricing.base_token).await?;
        let dt_after = self.balance(datatoken).await?;
        tracing::info!(target: "crypdoc::ocean", %did, price = %pricing.price_decimal(), gas = buy.gas_used, "datatoken bought");
        Ok(Purchase {
            did: did.to_owned(),
            datatoken,
            pricing,
            approve_tx,
            approve_gas,
            buy_tx: buy.transaction_hash,
            buy_gas: buy.gas_used,
            base_balance: (base_before, base_after),
            datatoken_balance: (dt_before, dt_after),
        })
    }

    async fn get_json(&self, url: &str) -> Result<serde_json::Value, ResearcherError> {
        let http = |reason: String| ResearcherError::Http { url: url.to_owned(), reason };
        let response = self.http.get(url).send().await.map_err(|e| http(e.to_string()))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| http(e.to_string()))?;
        if !status.is_success() {
            return Err(refusal(status.as_u16(), &body));
        }
        serde_json::from_slice(&body).map_err(|e| http(format!("not JSON: {e}")))
    }

    /// Orders `did` (spending one datatoken) unless `reuse_order` names an earlier order still
    /// valid, downloads file `file_index` (0 = CSV, 1 = JSON) through the dataset's Provider, and
    /// checks it against the SHA-256 in the DDO.
    pub async fn download(
        &self,
        did: &str,
        file_index: usize,
        reuse_order: Option<B256>,
    ) -> Result<Download, ResearcherError> {
        let asset = self.asset(did).await?;
        let service = asset.ddo.services[0].clone();
        let datatoken: Address = service.datatoken_address.parse().unwrap_or_default();
        let published =
            crypdoc_info(&asset)["files"][file_index]["sha256"].as_str().unwrap_or_default().to_owned();
        let me = self.address();
        let dt_before = self.balance(datatoken).await?;
        let base_url = service.service_endpoint.trim_end_matches('/').to_owned();
        let root = self.get_json(&base_url).await?;
        let path = |name: &str| -> Result<String, ResearcherError> {
            root["serviceEndpoints"][name][1]
                .as_str()
                .map(|p| format!("{base_url}/{}", p.trim_start_matches('/')))
                .ok_or_else(|| ResearcherError::Http {
                    url: base_url.clone(),
                    reason: format!("no {name} endpoint"),
                })
        };

        let (order_tx, order_gas) = match reuse_order {
            Some(tx) => (tx, 0),
            None => {
                if dt_before < ONE_DATATOKEN {
                    return Err(ResearcherError::NoDatatoken(did.to_owned()));
                }
                let url = format!(
                    "{}?documentId={did}&serviceId={}&fileIndex={file_index}&consumerAddress={}",
                    path("initialize")?,
                    service.id,
                    me.to_checksum(None)
                );
                let init = self.get_json(&url).await?;
                let fee: ProviderFee = serde_json::from_value(init["providerFee"].clone())
                    .map_err(|e| ResearcherError::Fee(e.to_string()))?;
                let fee = fee.to_sol().map_err(|e| ResearcherError::Fee(e.to_string()))?;
                let market_fee = Template::consumeMarketFee {
                    consumeMarketFeeAddress: Address::ZERO,
                    consumeMarketFeeToken: Address::ZERO,
                    consumeMarketFeeAmount: U256::ZERO,
                };
                let (index, _) = asset.ddo.service(&service.id).unwrap_or((0, &service));
                let dt = ERC20Template::new(datatoken, &self.provider);
                let receipt =
                    send(dt.startOrder(me, U256::from(index), fee, market_fee), "ERC20Template.startOrder")
                        .await?;
                tracing::info!(target: "crypdoc::ocean", %did, tx = %receipt.transaction_hash, gas = receipt.gas_used, "order started");
                (receipt.transaction_hash, receipt.gas_used)
            }
        };

        let nonce_url = format!("{}?userAddress={}", path("nonce")?, me.to_checksum(None));
        let nonce = self.get_json(&nonce_url).await?;
        let next = nonce["nonce"]
            .as_str()
            .and_then(|n| n.parse::<u64>().ok())
            .or_else(|| nonce["nonce"].as_u64())
            .unwrap_or(0)
            + 1;
        let signature = sign_request(&self.signer, &next.to_string(), command::DOWNLOAD);
        let url = format!(
            "{}?fileIndex={file_index}&documentId={did}&transferTxId={order_tx}&serviceId={}&consumerAddress={}&nonce={next}&signature={signature}",
            path("download")?,
            service.id,
            me.to_checksum(None),
        );
        let started = Instant::now();
        let http = |reason: String| ResearcherError::Http { url: url.clone(), reason };
        let response = self.http.get(&url).send().await.map_err(|e| http(e.to_string()))?;
        let status = response.status();
        let file_name = response
            .headers()
            .get(reqwest::header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split("filename=").nth(1))
            .unwrap_or("dataset")
            .to_owned();
        let bytes = response.bytes().await.map_err(|e| http(e.to_string()))?;
        let latency = started.elapsed();
        if !status.is_success() {
            return Err(refusal(status.as_u16(), &bytes));
        }
        let sha256 = sha256_hex(&bytes);
        if sha256 != published {
            return Err(ResearcherError::HashMismatch { published, got: sha256 });
        }
        Ok(Download {
            did: did.to_owned(),
            order_tx,
            order_gas,
            release: crypdoc_info(&asset)["release"].as_u64().unwrap_or(0),
            file_name,
            sha256,
            bytes: bytes.to_vec(),
            latency,
            datatoken_balance: (dt_before, self.balance(datatoken).await?),
        })
    }
}

fn refusal(status: u16, body: &[u8]) -> ResearcherError {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    ResearcherError::Refused {
        status,
        code: json["error"].as_str().unwrap_or("unknown").to_owned(),
        message: json["message"]
            .as_str()
            .map_or_else(|| String::from_utf8_lossy(body).into_owned(), str::to_owned),
    }
}
