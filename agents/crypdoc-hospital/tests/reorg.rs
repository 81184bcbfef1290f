//! Reorgs on a real anvil (`anvil_reorg`): a `SeatClaimed` or a `TaskFinalized` that a reorg
//! removes is never acted on when the node waits for at least the reorg's depth; a reorg deeper
//! than the confirmation depth is detected by the cursor's block hash and replayed safely.

mod common;

use alloy::{primitives::U256, providers::Provider};
use common::{sample, Chain};
use crypdoc_contracts::MarketClient;
use crypdoc_hospital::{config::Confirmations, seal_and_store, HospitalAgent, ScanKeys};
use crypdoc_storage::EmbeddedStore;
use crypdoc_types::{ConfidenceBps, DiagnosisSet, TaskSpec};

fn spec(cid: String) -> TaskSpec {
    TaskSpec {
        scan_cid: cid,
        diagnosis_set: DiagnosisSet::Binary,
        predicted_class: 1,
        confidence: ConfidenceBps::new(9_000).unwrap(),
        seats: 2,
        quorum: 2,
        bounty: 30_000_000,
        stake_per_seat: 1_000_000,
        min_reputation: 0,
        commit_window_secs: 3600,
        reveal_window_secs: 3600,
    }
}

async fn mine(client: &MarketClient, blocks: u64) {
    client.provider().raw_request::<_, serde_json::Value>("anvil_mine".into(), (blocks,)).await.unwrap();
}

async fn reorg(client: &MarketClient, depth: u64) {
    client
        .provider()
        .raw_request::<_, serde_json::Value>("anvil_reorg".into(), (depth, Vec::<serde_json::Value>::new()))
        .await
        .unwrap();
}

struct Setup {
    chain: Chain,
    hospital: MarketClient,
    keys: ScanKeys,
    task: U256,
}

async fn setup() -> Setup {
    let chain = Chain::start(2).await;
    let hospital =
        MarketClient::connect(&chain.url, chain.hospital.clone(), chain.deployment.clone()).await.unwrap();
    let store = EmbeddedStore::open(chain.path("store")).unwrap();
    let keys = ScanKeys::new(chain.path("scan-keys"));
    let cid = seal_and_store(&store, &keys, &sample("yes/y2.jpg")).await.unwrap();
    let token = hospital.token(None).unwrap();
    let (task, _) = hospital.post_task(&spec(cid.to_string()), token).await.unwrap();
    Setup { chain, hospital, keys, task }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_removed_by_a_reorg_within_the_depth_are_never_acted_on() {
    let Setup { chain, hospital, keys, task } = setup().await;
    let mut agent = HospitalAgent::open(hospital.clone(), keys, &chain.path("agent.sqlite"))
        .await
        .unwrap()
        .with_confirmations(Confirmations::Depth(3));
    mine(&hospital, 3).await;
    assert_eq!(agent.step().await.unwrap().tasks_posted, vec![task]);

    // A claim, reorged away before it is 3 blocks deep: no key for that seat, ever.
    let (doctor1, doctor2) = (&chain.doctors[0], &chain.doctors[1]);
    doctor1.claim_seat(task).await.unwrap();
    let report = agent.step().await.unwrap();
    assert!(report.keys_released.is_empty(), "acted on an unconfirmed claim");
    reorg(&hospital, 1).await;
    mine(&hospital, 5).await;
    let report = agent.step().await.unwrap();
    assert!(report.keys_released.is_empty(), "released a key for a reorged-away seat");
    assert!(hospital.market().seatsOf(task).call().await.unwrap().is_empty());
    assert!(hospital.released_keys(task).await.unwrap().is_empty());

    // The seats again, confirmed this time: keys go out once.
    doctor1.claim_seat(task).await.unwrap();
    doctor2.claim_seat(task).await.unwrap();
    mine(&hospital, 3).await;
    assert_eq!(agent.step().await.unwrap().keys_released.len(), 2);
    let mut salts = Vec::new();
    for doctor in [doctor1, doctor2] {
        salts.push(doctor.commit(task, 1).await.unwrap().0);
    }
    for (doctor, salt) in [doctor1, doctor2].into_iter().zip(salts) {
        doctor.reveal(task, 1, salt).await.unwrap();
    }

    // A finalize, reorged away before it is confirmed: no outcome, no report.
    hospital.finalize(task).await.unwrap();
    assert!(agent.step().await.unwrap().finalized.is_empty());
    reorg(&hospital, 1).await;
    mine(&hospital, 5).await;
    let report = agent.step().await.unwrap();
    assert!(report.finalized.is_empty(), "reported a finalize that a reorg removed");
    assert_eq!(agent.state().task(task).unwrap().unwrap().status, "active");

    // Finalized for real: reported once it is deep enough.
    hospital.finalize(task).await.unwrap();
    mine(&hospital, 3).await;
    let report = agent.step().await.unwrap();
    assert_eq!(report.finalized, vec![(task, "resolved".to_owned(), Some(1))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_deeper_than_the_depth_is_detected_and_replayed_without_duplicates() {
    let Setup { chain, hospital, keys, task } = setup().await;
    let mut agent = HospitalAgent::open(hospital.clone(), keys, &chain.path("agent.sqlite"))
        .await
        .unwrap()
        .with_page(10_000);
    agent.step().await.unwrap();
    let doctor = &chain.doctors[0];
    doctor.claim_seat(task).await.unwrap();
    // Depth 0: the claim is acted on at once (the release is mined in the next block).
    assert_eq!(agent.step().await.unwrap().keys_released.len(), 1);
    agent.step().await.unwrap();

    // Both the claim and the release disappear.
    reorg(&hospital, 2).await;
    mine(&hospital, 1).await;
    let report = agent.step().await.unwrap();
    assert!(report.reorg_from.is_some(), "the replaced cursor block went unnoticed");
    assert!(report.keys_released.is_empty());
    assert!(hospital.market().seatsOf(task).call().await.unwrap().is_empty());
    assert!(hospital.released_keys(task).await.unwrap().is_empty());

    // Claimed again: exactly one release.
    doctor.claim_seat(task).await.unwrap();
    assert_eq!(agent.step().await.unwrap().keys_released.len(), 1);
    assert!(agent.step().await.unwrap().keys_released.is_empty());
    assert_eq!(hospital.released_keys(task).await.unwrap().len(), 1);
}
