//! The node's dataset against a real anvil with the market and Ocean's contracts: a finalized
//! task's record is published by the node (k = 1) and bought, ordered and downloaded through the
//! node's Provider routes with the Rust researcher client; the store holds only ciphertext; a
//! restarted node serves the same release without publishing it again.

mod common;

use alloy::{primitives::U256, signers::local::PrivateKeySigner};
use common::{funded, sample, Chain};
use crypdoc_contracts::{devnet::ANVIL_DEPLOYER_KEY, wallet_provider};
use crypdoc_hospital::{
    config::NodeConfig,
    node::{open_hospital, start},
    JobState,
};
use crypdoc_ocean::{deploy::DEV_NETWORK, deploy_ocean, Month, OceanAddresses, Researcher};
use crypdoc_storage::BlobStore;
use std::time::{Duration, Instant};

async fn wait_for(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finalized_task_is_published_and_downloadable_through_the_node() {
    let chain = Chain::start(3).await;
    let deployer: PrivateKeySigner = ANVIL_DEPLOYER_KEY.parse().unwrap();
    let provider = wallet_provider(&chain.url, deployer.clone()).unwrap();
    let addresses = deploy_ocean(&provider, deployer.address(), &[]).await.unwrap();
    let ocean_file = chain.path("ocean-addresses.json");
    addresses.write(&ocean_file, DEV_NETWORK).unwrap();
    let datasets = format!(
        "[datasets]\nk = 1\nprice = \"2.5\"\nocean = \"{}\"\nauthor = \"Test Hospital\"\n",
        ocean_file.display()
    );
    let config = NodeConfig::load(&chain.write_config("node", &datasets, "")).unwrap();
    assert_eq!(config.datasets.as_ref().map(|d| d.k), Some(1));
    let hospital = open_hospital(&config, chain.hospital.clone()).await.unwrap();
    let node = start(&config, hospital).await.unwrap();
    let datasets = node.datasets.clone().expect("[datasets] configured");
    assert_eq!(datasets.status().service_endpoint, format!("http://{}/ocean", node.addr));

    // A task through its whole life: posted, claimed, keys released, voted, finalized by the node.
    let scan_id = node.hospital.submit(&sample("yes/y2.jpg")).await.unwrap().scan_id;
    let jobs = node.hospital.jobs().clone();
    wait_for("the task to be posted", Duration::from_secs(120), async || {
        jobs.get(&scan_id).await.unwrap().unwrap().state == JobState::Posted
    })
    .await;
    let task: U256 = jobs.get(&scan_id).await.unwrap().unwrap().task_id.unwrap().parse().unwrap();
    for doctor in &chain.doctors {
        doctor.claim_seat(task).await.unwrap();
    }
    let reader = &chain.doctors[0];
    wait_for("three key releases", Duration::from_secs(30), async || {
        reader.released_keys(task).await.unwrap().len() == 3
    })
    .await;
    let mut salts = Vec::new();
    for (doctor, vote) in chain.doctors.iter().zip([1u8, 1, 0]) {
        salts.push((vote, doctor.commit(task, vote).await.unwrap().0));
    }
    assert!(datasets.status().waiting.is_empty() && datasets.status().releases.is_empty());
    for (doctor, (vote, salt)) in chain.doctors.iter().zip(salts) {
        doctor.reveal(task, vote, salt).await.unwrap();
    }
    wait_for("the finalized report", Duration::from_secs(30), async || {
        jobs.get(&scan_id).await.unwrap().unwrap().state == JobState::Finalized
    })
    .await;
    let finalized = Instant::now();

    // The record is published with k = 1 and served: finalization to a downloadable release.
    wait_for("the release", Duration::from_secs(30), async || !datasets.status().releases.is_empty()).await;
    let to_downloadable = finalized.elapsed();
    let status = datasets.status();
    let published = status.last_publish.clone().unwrap();
    let did = status.did.clone().unwrap();
    assert_eq!((published.version, published.records, published.did.as_str()), (1, 1, did.as_str()));
    assert!(published.create_gas.is_some() && published.metadata_gas.is_some());
    assert!(status.waiting.is_empty());
    assert!(datasets.catalog().get(&did).is_some());

    // A researcher with nothing but the chain: list, buy, order, download through the node.
    let signer = PrivateKeySigner::random();
    funded(&chain.admin, &chain.url, &signer).await;
    let researcher = Researcher::new(
        wallet_provider(&chain.url, signer.clone()).unwrap(),
        signer,
        OceanAddresses::read(&ocean_file, DEV_NETWORK).unwrap(),
    )
    .await
    .unwrap();
    let listed = researcher.list(Some(chain.hospital_address())).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].did.as_str(), listed[0].release, listed[0].records), (did.as_str(), 1, 1));
    assert_eq!(listed[0].service_endpoint, format!("http://{}/ocean", node.addr));
    let purchase = researcher.buy(&did).await.unwrap();
    assert_eq!(purchase.pricing.base_token, chain.deployment.stablecoin.unwrap(), "priced in tUSD");
    assert_eq!(purchase.pricing.price - purchase.pricing.ocean_fee, U256::from(2_500_000u64));
    let csv = researcher.download(&did, 0, None).await.unwrap();
    let month = Month::from_unix(chain.admin.chain_time().await.unwrap());
    let expected = format!("month,code_set,code,diagnosis\n{month},binary,1,tumor\n");
    assert_eq!(String::from_utf8(csv.bytes.clone()).unwrap(), expected);
    assert_eq!(csv.file_name, "crypdoc-diagnoses-v1.csv");
    // The JSON file on the same order (a second signed request: the node's nonce moved on).
    let json = researcher.download(&did, 1, Some(csv.order_tx)).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.bytes).unwrap();
    assert_eq!(json["records"][0]["diagnosis"], "tumor");
    assert_eq!(json["k"], 1);
    println!(
        "finalization -> downloadable: {:.0} ms (publish {:.0} ms, create {} gas + setMetaData {} gas); download latency {:.1} ms; buy {} + {} gas, order {} gas",
        to_downloadable.as_secs_f64() * 1000.0,
        published.seconds * 1000.0,
        published.create_gas.unwrap(),
        published.metadata_gas.unwrap(),
        csv.latency.as_secs_f64() * 1000.0,
        purchase.approve_gas,
        purchase.buy_gas,
        csv.order_gas,
    );

    // The node's store holds the release only as ciphertext.
    let state = crypdoc_hospital::datasets::state_dir(&config.state_dir);
    let store = crypdoc_storage::EmbeddedStore::open(chain.path("store")).unwrap();
    let mut sealed = 0;
    for entry in std::fs::read_dir(state.join("keys")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(cid) = name.strip_suffix(".key") else { continue };
        let bytes = store.get(&cid.parse().unwrap()).await.unwrap();
        assert!(!bytes.windows(5).any(|w| w == b"tumor"), "plaintext in the store");
        sealed += 1;
    }
    assert_eq!(sealed, 2, "CSV and JSON sealed once each");
    node.shutdown().await;

    // Restarted: the ledger and the chain agree, nothing is published again, the catalog is
    // loaded from chain.
    let hospital = open_hospital(&config, chain.hospital.clone()).await.unwrap();
    let node = start(&config, hospital).await.unwrap();
    let datasets = node.datasets.clone().unwrap();
    assert!(datasets.catalog().get(&did).is_some(), "catalog loaded at start");
    let sync = datasets.sync(&node.hospital).await.unwrap();
    assert!(sync.is_none(), "nothing new to publish: {sync:?}");
    assert_eq!(datasets.status().releases.len(), 1);
    node.shutdown().await;
}
