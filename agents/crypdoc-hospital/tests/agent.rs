//! The hospital agent against a real anvil: keys are released once per seated doctor, across
//! restarts and even after its state file is lost, and only for this hospital's own tasks.

use alloy::{
    primitives::{keccak256, U256},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use crypdoc_contracts::{
    deploy::deploy_as,
    devnet::{Anvil, ANVIL_DEPLOYER_KEY},
    wallet_provider, MarketClient,
};
use crypdoc_hospital::{seal_and_store, HospitalAgent, ScanKeys};
use crypdoc_storage::{open_scan_for_doctor, DoctorKeyPair, EmbeddedStore, WrappedKey, DOCTOR_KEY_MESSAGE};
use crypdoc_types::{ConfidenceBps, DiagnosisSet, TaskSpec};

async fn keypair(client: &MarketClient) -> DoctorKeyPair {
    DoctorKeyPair::from_wallet_signature(&client.sign_message(DOCTOR_KEY_MESSAGE.as_bytes()).await.unwrap())
        .unwrap()
}

fn spec(cid: String) -> TaskSpec {
    TaskSpec {
        scan_cid: cid,
        diagnosis_set: DiagnosisSet::Binary,
        predicted_class: 0,
        confidence: ConfidenceBps::new(9_000).unwrap(),
        seats: 2,
        quorum: 2,
        bounty: 10_000_000,
        stake_per_seat: 1_000_000,
        min_reputation: 0,
        commit_window_secs: 3600,
        reveal_window_secs: 3600,
    }
}

#[tokio::test]
async fn releases_each_key_once_across_restarts_and_lost_state() {
    let dir = tempfile::tempdir().unwrap();
    let anvil = Anvil::spawn(&dir.path().join("anvil.log"), true).await.unwrap();
    let url = anvil.endpoint();
    let deployer: PrivateKeySigner = ANVIL_DEPLOYER_KEY.parse().unwrap();
    let provider = wallet_provider(&url, deployer.clone()).unwrap();
    let deployment = deploy_as(&provider, deployer.address(), true).await.unwrap();
    let admin = MarketClient::connect(&url, deployer, deployment.clone()).await.unwrap();
    let token = admin.token(None).unwrap();
    let now = admin.chain_time().await.unwrap();

    let mut clients = Vec::new();
    for i in 0..4 {
        let signer = PrivateKeySigner::random();
        provider
            .raw_request::<_, ()>("anvil_setBalance".into(), (signer.address(), U256::from(10u128.pow(20))))
            .await
            .unwrap();
        admin.mint_stablecoin(signer.address(), U256::from(100_000_000u64)).await.unwrap();
        let client = MarketClient::connect(&url, signer, deployment.clone()).await.unwrap();
        // Two hospitals (only accredited ones may post) and two doctors.
        if i < 2 {
            admin.accredit_hospital(client.address(), keccak256([b'h', i]), now + 86_400).await.unwrap();
        } else {
            admin.accredit(client.address(), keccak256([i]), now + 86_400).await.unwrap();
            client.set_encryption_key(keypair(&client).await.public_key().to_bytes().into()).await.unwrap();
        }
        clients.push(client);
    }
    let (hospital, other_hospital, doctor1, doctor2) = (&clients[0], &clients[1], &clients[2], &clients[3]);

    let store = EmbeddedStore::open(dir.path().join("store")).unwrap();
    let keys = ScanKeys::new(dir.path().join("scan-keys"));
    let scan = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/br35h/no/no6.jpg")).unwrap();
    let cid = seal_and_store(&store, &keys, &scan).await.unwrap();
    let state = dir.path().join("hospital.sqlite");

    let mut agent = HospitalAgent::open(hospital.clone(), keys.clone(), &state).await.unwrap();
    let (task, _) = hospital.post_task(&spec(cid.to_string()), token).await.unwrap();
    // Another hospital's task: its seats are none of this agent's business.
    let other_cid =
        seal_and_store(&store, &ScanKeys::new(dir.path().join("other-keys")), &scan).await.unwrap();
    let (other_task, _) = other_hospital.post_task(&spec(other_cid.to_string()), token).await.unwrap();
    doctor1.claim_seat(task).await.unwrap();
    doctor1.claim_seat(other_task).await.unwrap();

    let report = agent.step().await.unwrap();
    assert_eq!(report.tasks_posted, vec![task]);
    assert_eq!(
        report.keys_released.iter().map(|(t, d, _)| (*t, *d)).collect::<Vec<_>>(),
        vec![(task, doctor1.address())]
    );
    assert!(hospital.released_keys(other_task).await.unwrap().is_empty());

    // The doctor can open the scan with the released key.
    let (_, wrapped) = hospital.released_keys(task).await.unwrap().remove(0);
    let opened = open_scan_for_doctor(
        &crypdoc_storage::BlobStore::get(&store, &cid).await.unwrap(),
        &WrappedKey::from_bytes(&wrapped).unwrap(),
        &keypair(doctor1).await,
    )
    .unwrap();
    assert_eq!(opened.plaintext, scan);

    // Restart: nothing is done twice; the second doctor's seat gets its key.
    drop(agent);
    let mut agent = HospitalAgent::open(hospital.clone(), keys.clone(), &state).await.unwrap();
    assert!(agent.step().await.unwrap().keys_released.is_empty());
    doctor2.claim_seat(task).await.unwrap();
    let report = agent.step().await.unwrap();
    assert_eq!(report.keys_released.len(), 1);
    assert_eq!(report.keys_released[0].1, doctor2.address());

    // Lost state: replaying every block from the deployment finds both releases on chain.
    drop(agent);
    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", state.display())).ok();
    }
    let mut agent = HospitalAgent::open(hospital.clone(), keys.clone(), &state).await.unwrap();
    let report = agent.step().await.unwrap();
    assert_eq!(report.tasks_posted, vec![task]);
    assert!(report.keys_released.is_empty());
    assert_eq!(hospital.released_keys(task).await.unwrap().len(), 2);

    // Outcomes are recorded for this hospital's tasks.
    let mut salts = Vec::new();
    for doctor in [doctor1, doctor2] {
        salts.push(doctor.commit(task, 0).await.unwrap().0);
    }
    for (doctor, salt) in [doctor1, doctor2].into_iter().zip(salts) {
        doctor.reveal(task, 0, salt).await.unwrap();
    }
    hospital.finalize(task).await.unwrap();
    let report = agent.step().await.unwrap();
    assert_eq!(report.finalized, vec![(task, "resolved".to_owned(), Some(0))]);
    let known = agent.state().task(task).unwrap().unwrap();
    assert_eq!((known.status.as_str(), known.outcome), ("resolved", Some(0)));
}
