//! The whole flow on a real anvil with Ocean's contracts deployed from the npm artifacts: publish,
//! list, buy, order, download through the Provider routes, a second release; and every refusal of
//! the download route.

mod common;

use alloy::{
    primitives::{Address, B256, U256},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use common::{record, tusd, wallet, world, World};
use crypdoc_ocean::{
    artifacts::{erc20_template::ERC20Template as Template, ERC20Template, FixedRateExchange, IERC20},
    catalog::{self, ONE_DATATOKEN},
    ddo::{self, metadata_hash},
    did::did_for,
    signing::{command, sign_provider_fee, sign_request, ProviderFee},
    Researcher, ResearcherError,
};
use serde_json::Value;

async fn researcher(w: &World, signer: PrivateKeySigner) -> Researcher {
    Researcher::new(wallet(&w.rpc, signer.clone()), signer, w.addresses.clone()).await.unwrap()
}

#[tokio::test]
async fn publish_list_buy_order_download_and_a_second_release() {
    let mut w = world(86_400).await;
    let handle = w.published.handle.clone();

    // The DDO on chain: valid 4.1.0, DID of the NFT, hash as ocean.js computes it, files sealed.
    let asset = w.published.asset.clone();
    let asset = &asset;
    ddo::validate(&asset.ddo.to_value()).unwrap();
    assert_eq!(asset.ddo.id, did_for(handle.nft, w.addresses.chain_id));
    assert_eq!(asset.ddo.services[0].service_endpoint, w.node_url);
    assert!(!asset.ddo.services[0].files.contains("crypdoc-release"), "files are sealed");
    let info = &asset.ddo.metadata.additional_information["crypdoc"];
    assert_eq!(info["release"], 1);
    assert_eq!(info["records"], 4);
    assert_eq!(info["files"][0]["sha256"], w.release.info.csv_sha256.as_str());
    assert_eq!(asset.datatokens[0]["address"], asset.ddo.services[0].datatoken_address.as_str());
    assert_eq!(asset.indexed_metadata["nft"]["owner"], w.hospital.address().to_checksum(None));
    let events = catalog::metadata_events(&w.reader(), handle.nft, 0).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(metadata_hash(&events[0].data), events[0].hash);
    let gas_create = w.published.created.as_ref().unwrap().gas_used;
    let gas_metadata = w.published.metadata.as_ref().unwrap().gas_used;

    // The node's DDO route serves the same asset.
    let served = json(&format!("{}/api/aquarius/assets/ddo/{}", w.node_url, handle.did)).await;
    assert_eq!(served["id"], handle.did.as_str());
    assert_eq!(served["services"][0]["files"], asset.ddo.services[0].files.as_str());

    // List.
    let r = researcher(&w, w.researcher.clone()).await;
    let listed = r.list(Some(w.hospital.address())).await.unwrap();
    assert_eq!(listed.len(), 1);
    let listing = &listed[0];
    assert_eq!((listing.did.as_str(), listing.release, listing.records), (handle.did.as_str(), 1, 4));
    let pricing = listing.pricing.clone().unwrap();
    assert_eq!(pricing.base_symbol, "tUSD");
    // 10 tUSD plus Ocean's 0.2% community fee for a non-approved base token, no market fee.
    assert_eq!(pricing.price, tusd("10.02"));
    assert_eq!(pricing.market_fee, U256::ZERO);
    let as_json = serde_json::to_value(listing).unwrap();
    assert_eq!(as_json["pricing"]["price"], "10020000", "amounts in base units, decimal");
    assert_eq!(as_json["owner"], w.hospital.address().to_checksum(None));
    assert!(r.list(Some(w.other.address())).await.unwrap().is_empty());

    // Downloading without a datatoken is refused before anything is sent.
    assert!(matches!(r.download(&handle.did, 0, None).await, Err(ResearcherError::NoDatatoken(_))));

    // Buy.
    let hospital_before = w.base_balance(w.hospital.address()).await;
    let bought = r.buy(&handle.did).await.unwrap();
    assert_eq!(bought.base_balance.0 - bought.base_balance.1, tusd("10.02"));
    assert_eq!(bought.datatoken_balance, (U256::ZERO, ONE_DATATOKEN));
    assert_eq!(
        w.base_balance(w.hospital.address()).await,
        hospital_before,
        "the price waits in the exchange"
    );

    // Order and download the CSV.
    let got = r.download(&handle.did, 0, None).await.unwrap();
    assert_eq!(got.bytes, w.release.csv);
    assert_eq!(got.file_name, "crypdoc-diagnoses-v1.csv");
    assert_eq!(got.datatoken_balance, (ONE_DATATOKEN, U256::ZERO));
    let text = String::from_utf8(got.bytes.clone()).unwrap();
    assert_eq!(
        text,
        "month,code_set,code,diagnosis\n2026-01,binary,0,no-tumor\n2026-01,binary,0,no-tumor\n\
         2026-01,binary,1,tumor\n2026-01,binary,1,tumor\n"
    );
    // The order paid the hospital (payment collector) one datatoken less Ocean's consume fee.
    let dt = IERC20::new(bought.datatoken, w.reader());
    assert!(dt.balanceOf(w.hospital.address()).call().await.unwrap() > U256::ZERO);
    // The same order also serves the JSON file (new nonce, same order).
    let json = r.download(&handle.did, 1, Some(got.order_tx)).await.unwrap();
    assert_eq!(json.bytes, w.release.json);

    // A second release: 2026-02 reaches k; the metadata is updated, the same order still serves.
    let started = std::time::Instant::now();
    w.ledger.lock().unwrap().add("task-5", record("2026-02", 1)).unwrap();
    let second = w.publish_next().await;
    let release_to_published = started.elapsed();
    assert!(second.created.is_none());
    let gas_update = second.metadata.as_ref().unwrap().gas_used;
    assert_eq!(second.handle, handle);
    assert_eq!(second.asset.ddo.metadata.additional_information["crypdoc"]["release"], 2);
    assert_eq!(second.asset.ddo.metadata.created, asset.ddo.metadata.created, "created is kept");
    let v2 = r.download(&handle.did, 0, Some(got.order_tx)).await.unwrap();
    let record_to_downloaded = started.elapsed();
    assert_eq!(v2.bytes, w.release.csv);
    assert!(String::from_utf8(v2.bytes)
        .unwrap()
        .ends_with("2026-02,binary,1,tumor\n2026-02,binary,1,tumor\n"));
    assert_eq!(catalog::metadata_events(&w.reader(), handle.nft, 0).await.unwrap().len(), 2);

    // Publishing the same release again sends nothing; the handle is found again on chain.
    let again = w
        .publisher
        .publish_release(&w.config, None, &w.release, &crypdoc_ocean::DatasetFile::for_release(&w.release))
        .await
        .unwrap();
    assert!(again.created.is_none() && again.metadata.is_none());
    assert_eq!(w.publisher.find(&w.config).await.unwrap(), Some(handle.clone()));

    println!(
        "figures: publish {gas_create} gas (createNftWithErc20WithFixedRate) + {gas_metadata} gas (setMetaData), \
         metadata update {gas_update} gas, buy {} gas (approve) + {} gas (buyDT), order {} gas (startOrder), \
         download {:?} (CSV, {} bytes, through the node on loopback); a new record to a published \
         release {release_to_published:?}, to its file downloaded {record_to_downloaded:?}",
        bought.approve_gas,
        bought.buy_gas,
        got.order_gas,
        got.latency,
        got.bytes.len(),
    );
}

/// The signed download URL of ocean.js, built by hand so that each part can be wrong.
struct Req<'a> {
    w: &'a World,
    signer: PrivateKeySigner,
    consumer: String,
    did: String,
    service: String,
    file_index: String,
    tx: String,
    nonce: Option<u64>,
    signature: Option<String>,
}

impl<'a> Req<'a> {
    fn new(w: &'a World, signer: &PrivateKeySigner, tx: B256) -> Self {
        Self {
            w,
            signer: signer.clone(),
            consumer: signer.address().to_checksum(None),
            did: w.did().to_owned(),
            service: w.published.asset.ddo.services[0].id.clone(),
            file_index: "0".into(),
            tx: tx.to_string(),
            nonce: None,
            signature: None,
        }
    }

    async fn url(&self) -> String {
        let nonce = match self.nonce {
            Some(n) => n,
            None => {
                let v =
                    json(&format!("{}/api/services/nonce?userAddress={}", self.w.node_url, self.consumer))
                        .await;
                v["nonce"].as_str().unwrap().parse::<u64>().unwrap() + 1
            }
        };
        let signature = self
            .signature
            .clone()
            .unwrap_or_else(|| sign_request(&self.signer, &nonce.to_string(), command::DOWNLOAD).to_string());
        format!(
            "{}/api/services/download?fileIndex={}&documentId={}&transferTxId={}&serviceId={}&consumerAddress={}&nonce={nonce}&signature={signature}",
            self.w.node_url, self.file_index, self.did, self.tx, self.service, self.consumer
        )
    }

    /// (status, error code or "ok").
    async fn send(&self) -> (u16, String) {
        get(&self.url().await).await
    }
}

async fn json(url: &str) -> Value {
    let body = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    serde_json::from_slice(&body).unwrap()
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    if status == 200 {
        return (status, "ok".into());
    }
    let json: Value = serde_json::from_slice(&body).unwrap_or_else(|_| panic!("refusals are JSON: {body:?}"));
    assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()), "{json}");
    (status, json["error"].as_str().unwrap().to_owned())
}

/// `startOrder` from `who` with a provider fee signed by `fee_signer`, for `service_index`.
async fn order_with(
    w: &World,
    who: &PrivateKeySigner,
    fee_signer: &PrivateKeySigner,
    service_index: u64,
) -> B256 {
    let service = &w.published.asset.ddo.services[0];
    let fee: ProviderFee =
        sign_provider_fee(fee_signer, &service.datatoken_address, &service.id, Address::ZERO, U256::ZERO, 0);
    let dt = ERC20Template::new(w.published.handle.datatoken, wallet(&w.rpc, who.clone()));
    let zero = Template::consumeMarketFee {
        consumeMarketFeeAddress: Address::ZERO,
        consumeMarketFeeToken: Address::ZERO,
        consumeMarketFeeAmount: U256::ZERO,
    };
    let receipt = dt
        .startOrder(who.address(), U256::from(service_index), fee.to_sol().unwrap(), zero)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    receipt.transaction_hash
}

#[tokio::test]
async fn every_refusal_is_a_clear_4xx() {
    let w = world(3_600).await;
    let me = w.researcher.clone();
    let r = researcher(&w, me.clone()).await;
    let did = w.did().to_owned();
    let node = w.node_url.clone();

    // Unknown DID on every route.
    let unknown = format!("did:op:{}", "ab".repeat(32));
    assert_eq!(get(&format!("{node}/api/aquarius/assets/ddo/{unknown}")).await, (404, "unknown_did".into()));
    let service = w.published.asset.ddo.services[0].id.clone();
    let init = format!(
        "{node}/api/services/initialize?documentId={unknown}&serviceId={service}&consumerAddress={}",
        me.address()
    );
    assert_eq!(get(&init).await, (404, "unknown_did".into()));
    let bought = r.buy(&did).await.unwrap();
    let mut req = Req::new(&w, &me, bought.buy_tx);
    req.did = unknown;
    assert_eq!(req.send().await, (404, "unknown_did".into()));

    // Malformed requests.
    assert_eq!(get(&format!("{node}/api/services/nonce")).await, (400, "invalid_request".into()));
    assert_eq!(
        get(&format!("{node}/api/services/nonce?userAddress=bob")).await,
        (400, "invalid_request".into())
    );
    assert_eq!(
        get(&format!("{node}/api/services/download?documentId={did}")).await,
        (400, "invalid_request".into())
    );
    let mut req = Req::new(&w, &me, bought.buy_tx);
    req.service = "no-such-service".into();
    assert_eq!(req.send().await, (404, "unknown_service".into()));
    let mut req = Req::new(&w, &me, bought.buy_tx);
    req.tx = "0x1234".into();
    assert_eq!(req.send().await, (400, "invalid_request".into()));

    // Bad signature: signed by someone else, or over another nonce.
    let mut req = Req::new(&w, &me, bought.buy_tx);
    req.signer = w.other.clone();
    assert_eq!(req.send().await, (401, "invalid_signature".into()));
    let mut req = Req::new(&w, &me, bought.buy_tx);
    req.nonce = Some(7);
    req.signature = Some(sign_request(&me, "8", command::DOWNLOAD).to_string());
    assert_eq!(req.send().await, (401, "invalid_signature".into()));

    // A transaction that is not an order (the purchase), or unknown to the chain.
    assert_eq!(Req::new(&w, &me, bought.buy_tx).send().await, (402, "no_order".into()));
    assert_eq!(Req::new(&w, &me, B256::repeat_byte(9)).send().await, (404, "order_not_found".into()));

    // A reverted order (no datatoken left to pay with, sent without estimation).
    let service_data = &w.published.asset.ddo.services[0];
    let fee = sign_provider_fee(
        &w.provider_key,
        &service_data.datatoken_address,
        &service_data.id,
        Address::ZERO,
        U256::ZERO,
        0,
    );
    let dt = ERC20Template::new(w.published.handle.datatoken, wallet(&w.rpc, w.other.clone()));
    let zero = Template::consumeMarketFee {
        consumeMarketFeeAddress: Address::ZERO,
        consumeMarketFeeToken: Address::ZERO,
        consumeMarketFeeAmount: U256::ZERO,
    };
    let reverted = dt
        .startOrder(w.other.address(), U256::ZERO, fee.to_sol().unwrap(), zero)
        .gas(400_000)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(!reverted.status());
    assert_eq!(Req::new(&w, &w.other, reverted.transaction_hash).send().await, (402, "order_failed".into()));

    // A real order, then the download works once; the same signed URL replayed is refused.
    let order = order_with(&w, &me, &w.provider_key, 0).await;
    let req = Req::new(&w, &me, order);
    let url = req.url().await;
    assert_eq!(get(&url).await, (200, "ok".into()));
    assert_eq!(get(&url).await, (409, "stale_nonce".into()));
    let mut low = Req::new(&w, &me, order);
    low.nonce = Some(1);
    assert_eq!(low.send().await, (409, "stale_nonce".into()));

    // Someone else's order.
    assert_eq!(Req::new(&w, &w.other, order).send().await, (403, "not_your_order".into()));

    // A file index that does not exist.
    let mut req = Req::new(&w, &me, order);
    req.file_index = "2".into();
    assert_eq!(req.send().await, (404, "unknown_file".into()));

    // An order whose provider fee another provider signed, and one for another service index.
    let other_dt = researcher(&w, w.other.clone()).await;
    other_dt.buy(&did).await.unwrap();
    let foreign = order_with(&w, &w.other, &PrivateKeySigner::random(), 0).await;
    assert_eq!(Req::new(&w, &w.other, foreign).send().await, (403, "foreign_provider_fee".into()));
    other_dt.buy(&did).await.unwrap();
    let wrong_index = order_with(&w, &w.other, &w.provider_key, 1).await;
    assert_eq!(Req::new(&w, &w.other, wrong_index).send().await, (403, "wrong_service".into()));

    // The order expires with the service timeout (chain time).
    assert_eq!(Req::new(&w, &me, order).send().await, (200, "ok".into()));
    w.warp(3_601).await;
    assert_eq!(Req::new(&w, &me, order).send().await, (410, "order_expired".into()));

    // initialize refuses a validUntil beyond the service timeout.
    let init = format!(
        "{node}/api/services/initialize?documentId={did}&serviceId={service}&consumerAddress={}&validUntil=99999999999",
        me.address()
    );
    assert_eq!(get(&init).await, (400, "invalid_request".into()));

    // The researcher's client reports the node's refusal with its code.
    let err = r.download(&did, 0, Some(B256::repeat_byte(9))).await.unwrap_err();
    assert!(
        matches!(err, ResearcherError::Refused { status: 404, ref code, .. } if code == "order_not_found"),
        "{err}"
    );
}

#[tokio::test]
async fn initialize_returns_a_fee_that_start_order_accepts() {
    let w = world(0).await;
    let service = &w.published.asset.ddo.services[0];
    let url = format!(
        "{}/api/services/initialize?documentId={}&serviceId={}&fileIndex=0&consumerAddress={}",
        w.node_url,
        w.did(),
        service.id,
        w.researcher.address()
    );
    let init = json(&url).await;
    assert_eq!(init["datatoken"], service.datatoken_address.as_str());
    assert_eq!(init["nonce"], "0");
    let fee: ProviderFee = serde_json::from_value(init["providerFee"].clone()).unwrap();
    assert_eq!(fee.provider_fee_address, w.provider_key.address().to_checksum(None));
    assert_eq!(fee.provider_fee_amount, "0");
    assert_eq!(fee.valid_until, 0, "timeout 0: no limit");
    let root = json(&w.node_url).await;
    assert_eq!(root["providerAddress"], fee.provider_fee_address.as_str());
    assert_eq!(root["chainIds"][0], w.addresses.chain_id.to_string());
    assert_eq!(root["serviceEndpoints"]["download"][1], "/api/services/download");

    // The contract accepts it; a tampered one reverts with Ocean's reason.
    let r = researcher(&w, w.researcher.clone()).await;
    r.buy(w.did()).await.unwrap();
    let dt = ERC20Template::new(w.published.handle.datatoken, wallet(&w.rpc, w.researcher.clone()));
    let zero = Template::consumeMarketFee {
        consumeMarketFeeAddress: Address::ZERO,
        consumeMarketFeeToken: Address::ZERO,
        consumeMarketFeeAmount: U256::ZERO,
    };
    let mut tampered = fee.to_sol().unwrap();
    tampered.validUntil = U256::from(1);
    let err =
        dt.startOrder(w.researcher.address(), U256::ZERO, tampered, zero.clone()).send().await.unwrap_err();
    assert!(format!("{err}").contains("Invalid provider fee"), "{err}");
    let ok =
        dt.startOrder(w.researcher.address(), U256::ZERO, fee.to_sol().unwrap(), zero).send().await.unwrap();
    let ok = ok.get_receipt().await.unwrap();
    assert!(ok.status());
    // A zero timeout never expires.
    w.warp(10 * 365 * 86_400).await;
    let got = r.download(w.did(), 0, Some(ok.transaction_hash)).await;
    assert!(got.is_ok(), "{got:?}");

    // The exchange's price is what was configured.
    let fre = FixedRateExchange::new(w.addresses.fixed_price, w.reader());
    let ex = fre.getExchange(w.published.handle.exchange_id).call().await.unwrap();
    assert_eq!(ex.baseToken, w.base_token);
    assert_eq!(ex.btDecimals, U256::from(6));
    let _ = w.reader().get_block_number().await.unwrap();
}

/// A source that returns bytes that are not the published file.
struct Tampered;

impl crypdoc_ocean::ReleaseSource for Tampered {
    fn fetch<'a>(
        &'a self,
        _file: &'a crypdoc_ocean::DatasetFile,
    ) -> crypdoc_ocean::files::BoxFuture<'a, Result<Vec<u8>, crypdoc_ocean::files::SourceError>> {
        Box::pin(async { Ok(b"month,code_set,code,diagnosis\n".to_vec()) })
    }
}

/// The Provider routes over the world's catalog with another source and confirmation depth.
async fn serve(
    w: &World,
    source: std::sync::Arc<dyn crypdoc_ocean::ReleaseSource>,
    confirmations: u64,
) -> String {
    let mut state = crypdoc_ocean::ProviderState::new(
        w.reader(),
        w.addresses.chain_id,
        w.provider_key.clone(),
        w.catalog.clone(),
        source,
    );
    state.confirmations = confirmations;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = crypdoc_ocean::provider_router(state);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

#[tokio::test]
async fn unconfirmed_orders_and_bad_stored_files_are_refused() {
    let mut w = world(3_600).await;
    let me = w.researcher.clone();
    researcher(&w, me.clone()).await.buy(w.did()).await.unwrap();
    let order = order_with(&w, &me, &w.provider_key, 0).await;

    let main_node = w.node_url.clone();
    w.node_url = serve(&w, std::sync::Arc::new(Tampered), 3).await;
    assert_eq!(Req::new(&w, &me, order).send().await, (425, "order_unconfirmed".into()));
    for _ in 0..2 {
        let _: Value = w.reader().raw_request("evm_mine".into(), ()).await.unwrap();
    }
    assert_eq!(Req::new(&w, &me, order).send().await, (502, "file_corrupt".into()), "3 confirmations now");
    w.node_url = serve(&w, std::sync::Arc::new(crypdoc_ocean::MemorySource::new()), 0).await;
    assert_eq!(Req::new(&w, &me, order).send().await, (502, "file_unavailable".into()));
    w.node_url = main_node;
    assert_eq!(Req::new(&w, &me, order).send().await, (200, "ok".into()));

    // An asset whose metadata state is neither active nor unlisted is not served.
    let mut revoked = w.published.asset.clone();
    revoked.indexed_metadata["nft"]["state"] = 3.into();
    w.catalog.insert(revoked);
    assert_eq!(Req::new(&w, &me, order).send().await, (410, "asset_not_orderable".into()));
}
