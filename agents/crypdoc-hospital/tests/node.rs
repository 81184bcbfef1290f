//! The hospital node as a service, against a real anvil and the embedded store: intake over
//! HTTP with every refusal, the job pipeline to a posted task, key releases, finalize when due,
//! the patient report, and the gateway.

mod common;

use alloy::primitives::U256;
use common::{keypair, sample, Chain};
use crypdoc_hospital::{
    config::NodeConfig,
    node::{open_hospital, start},
};
use crypdoc_storage::{open_scan_for_doctor, BlobStore, WrappedKey};
use serde_json::Value;
use std::time::{Duration, Instant};

async fn wait_for(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_goes_from_intake_to_a_final_report() {
    let chain = Chain::start(3).await;
    let config = NodeConfig::load(&chain.write_config("node", "", "")).unwrap();
    let hospital = open_hospital(&config, chain.hospital.clone()).await.unwrap();
    let node = start(&config, hospital).await.unwrap();
    let base = format!("http://{}", node.addr);
    let http = reqwest::Client::new();
    let scan = sample("yes/y2.jpg");

    // Refusals: nothing is kept for any of them.
    let post = |body: Vec<u8>| http.post(format!("{base}/v1/scans")).body(body).send();
    let refusal = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        (status, body["error"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(refusal(post(Vec::new()).await.unwrap()).await, (400, "empty_body".into()));
    assert_eq!(refusal(post(b"GIF89a....".to_vec()).await.unwrap()).await, (415, "not_an_image".into()));
    let mut garbage_jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    garbage_jpeg.extend_from_slice(&[0x42; 512]);
    assert_eq!(refusal(post(garbage_jpeg).await.unwrap()).await, (422, "unreadable_scan".into()));
    // Its own connection: the server closes a connection whose body it refused to read.
    let too_big = reqwest::Client::new()
        .post(format!("{base}/v1/scans"))
        .body(vec![0xFF; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status().as_u16(), 413);
    let listed: Value = http.get(format!("{base}/v1/scans")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["scans"].as_array().unwrap().len(), 0, "a refused scan left a job behind");

    // Intake, then the same bytes again: one job.
    let first = post(scan.clone()).await.unwrap();
    assert_eq!(first.status().as_u16(), 202);
    let first: Value = first.json().await.unwrap();
    let id = first["scan_id"].as_str().unwrap().to_owned();
    let again: Value = post(scan.clone()).await.unwrap().json().await.unwrap();
    assert_eq!((again["scan_id"].as_str(), again["duplicate"].as_bool()), (Some(id.as_str()), Some(true)));

    let job = |id: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.get(format!("{base}/v1/scans/{id}")).send().await.unwrap().json::<Value>().await.unwrap()
        }
    };
    wait_for("the task to be posted", Duration::from_secs(120), async || {
        job(id.clone()).await["state"] == "posted"
    })
    .await;
    let posted = job(id.clone()).await;
    let task: U256 = posted["task_id"].as_str().unwrap().parse().unwrap();
    let cid = posted["scan_cid"].as_str().unwrap().to_owned();
    assert_eq!(posted["prediction"]["label"], "tumor");
    let bounty: u128 = posted["bounty"].as_str().unwrap().parse().unwrap();
    assert!((20_000_000..=200_000_000).contains(&bounty), "{bounty}");

    // Gateway: the ciphertext, and clear refusals.
    let sealed = http.get(format!("{base}/ipfs/{cid}")).send().await.unwrap();
    assert_eq!(sealed.status().as_u16(), 200);
    let sealed = sealed.bytes().await.unwrap();
    assert_ne!(&sealed[..], &scan[..]);
    let unknown = crypdoc_storage::compute_cid(b"not stored");
    assert_eq!(http.get(format!("{base}/ipfs/{unknown}")).send().await.unwrap().status().as_u16(), 404);
    assert_eq!(http.get(format!("{base}/ipfs/not-a-cid")).send().await.unwrap().status().as_u16(), 400);
    assert_eq!(http.get(format!("{base}/v1/scans/nope")).send().await.unwrap().status().as_u16(), 404);
    assert_eq!(http.get(format!("{base}/v1/scans/{id}/report")).send().await.unwrap().status().as_u16(), 409);

    // Doctors claim; the node releases each of them the key; they read and vote.
    for doctor in &chain.doctors {
        doctor.claim_seat(task).await.unwrap();
    }
    let client = &chain.doctors[0];
    wait_for("three key releases", Duration::from_secs(30), async || {
        client.released_keys(task).await.unwrap().len() == 3
    })
    .await;
    for doctor in &chain.doctors {
        let wrapped = client
            .released_keys(task)
            .await
            .unwrap()
            .into_iter()
            .find(|(d, _)| *d == doctor.address())
            .unwrap()
            .1;
        let opened =
            open_scan_for_doctor(&sealed, &WrappedKey::from_bytes(&wrapped).unwrap(), &keypair(doctor).await)
                .unwrap();
        assert_eq!(opened.plaintext, scan);
    }
    let mut salts = Vec::new();
    for (doctor, vote) in chain.doctors.iter().zip([1u8, 1, 0]) {
        salts.push((vote, doctor.commit(task, vote).await.unwrap().0));
    }
    for (doctor, (vote, salt)) in chain.doctors.iter().zip(salts) {
        doctor.reveal(task, vote, salt).await.unwrap();
    }

    // Every seat revealed: the node finalizes by itself and writes the report.
    wait_for("the report", Duration::from_secs(30), async || job(id.clone()).await["state"] == "finalized")
        .await;
    let done = job(id.clone()).await;
    assert_eq!((done["outcome_status"].as_str(), done["outcome"].as_u64()), (Some("resolved"), Some(1)));
    assert!(done["finalize_tx"].as_str().is_some(), "the node finalized the task itself");
    let html = http.get(format!("{base}/v1/scans/{id}/report")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&task.to_string()) && html.contains(&cid), "report lacks task or CID");
    let pdf = http.get(format!("{base}/v1/scans/{id}/report.pdf")).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));

    // The page's deployment file, health and metrics.
    let deployment: Value =
        http.get(format!("{base}/deployment.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(deployment["chainId"].as_u64(), Some(chain.deployment.chain_id));
    assert_eq!(deployment["gateway"], "/ipfs/");
    let health: Value = http.get(format!("{base}/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["ok"], true);
    assert_eq!(health["jobs"]["finalized"].as_u64(), Some(1));
    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("crypdoc_hospital_scans_submitted_total 1"), "{metrics}");
    assert!(metrics.contains("crypdoc_hospital_scans_duplicate_total 1"), "{metrics}");

    node.shutdown().await;
    // The store holds only ciphertext: the plaintext intake copy is gone once posted.
    let store = crypdoc_storage::EmbeddedStore::open(chain.path("store")).unwrap();
    assert!(store.has(&cid.parse().unwrap()).await.unwrap());
    assert_eq!(std::fs::read_dir(chain.path("node-state/intake")).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_needs_the_token_when_one_is_configured() {
    let chain = Chain::start(0).await;
    std::env::set_var("CRYPDOC_TEST_INTAKE_TOKEN", "s3cret");
    let config =
        NodeConfig::load(&chain.write_config("token", "api_token_env = \"CRYPDOC_TEST_INTAKE_TOKEN\"", ""))
            .unwrap();
    let hospital = open_hospital(&config, chain.hospital.clone()).await.unwrap();
    let node = start(&config, hospital).await.unwrap();
    let url = format!("http://{}/v1/scans", node.addr);
    let http = reqwest::Client::new();
    let scan = sample("no/no6.jpg");
    let denied = http.post(&url).body(scan.clone()).send().await.unwrap();
    assert_eq!(denied.status().as_u16(), 401);
    let wrong = http.post(&url).bearer_auth("guess").body(scan.clone()).send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let ok = http.post(&url).bearer_auth("s3cret").body(scan).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 202);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_folder_is_a_second_intake_that_loses_nothing() {
    let chain = Chain::start(0).await;
    let inbox = chain.path("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let config =
        NodeConfig::load(&chain.write_config("inbox", &format!("inbox_dir = \"{}\"", inbox.display()), ""))
            .unwrap();
    let hospital = open_hospital(&config, chain.hospital.clone()).await.unwrap();
    std::fs::write(inbox.join("a.jpg"), sample("no/no6.jpg")).unwrap();
    std::fs::write(inbox.join("same-again.jpg"), sample("no/no6.jpg")).unwrap();
    std::fs::write(inbox.join("notes.txt"), b"not a scan").unwrap();
    std::fs::write(inbox.join("b.jpg.part"), b"still being written").unwrap();

    let report = crypdoc_hospital::inbox::scan_inbox(&hospital, &inbox).await.unwrap();
    assert_eq!(report.accepted.len(), 2);
    assert_eq!(report.accepted[0].1.scan_id, report.accepted[1].1.scan_id, "same bytes, same job");
    assert!(report.accepted[1].1.duplicate);
    assert_eq!(report.refused.len(), 1);
    assert!(report.refused[0].1.contains("not a JPEG or PNG"), "{:?}", report.refused);
    let why = std::fs::read_to_string(inbox.join("refused/notes.txt.why.txt")).unwrap();
    assert!(why.contains("not a JPEG or PNG"));
    // The partial file is left for its writer; nothing else remains at the top.
    let left: Vec<String> = std::fs::read_dir(&inbox)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec!["b.jpg.part".to_owned()]);
    assert_eq!(hospital.jobs().list().await.unwrap().len(), 1);

    // Run as part of the node: a dropped file becomes a posted task.
    let node = start(&config, hospital).await.unwrap();
    std::fs::write(inbox.join("c.jpg"), sample("yes/y9.jpg")).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let jobs = node.hospital.jobs().list().await.unwrap();
        if jobs.len() == 2 && jobs.iter().all(|j| j.state == crypdoc_hospital::JobState::Posted) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the inbox scan was not posted: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_post_waits_with_its_reason_and_goes_on_once_fixed() {
    let chain = Chain::start(0).await;
    let config = NodeConfig::load(&chain.write_config("refused", "", "")).unwrap();
    // The hospital's accreditation is revoked: the chain would refuse its post.
    let registry = chain.admin.registry();
    registry.revoke(chain.hospital_address()).send().await.unwrap().get_receipt().await.unwrap();
    let node = start(&config, open_hospital(&config, chain.hospital.clone()).await.unwrap()).await.unwrap();
    let id = node.hospital.submit(&sample("yes/y2.jpg")).await.unwrap().scan_id;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let job = loop {
        let job = node.hospital.jobs().get(&id).await.unwrap().unwrap();
        if job.error.is_some() {
            break job;
        }
        assert!(std::time::Instant::now() < deadline, "no reason recorded: {job:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(job.state, crypdoc_hospital::JobState::Posting, "kept, not dropped");
    assert!(job.error.as_deref().unwrap().contains("hospital accredit"), "{job:?}");
    assert_eq!(chain.admin.task_count().await.unwrap(), U256::ZERO);

    // Accredited again: the job goes on, without waiting for its minute.
    let now = chain.admin.chain_time().await.unwrap();
    chain
        .admin
        .accredit_hospital(chain.hospital_address(), alloy::primitives::keccak256(b"again"), now + 86_400)
        .await
        .unwrap();
    node.hospital.wake();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let job = node.hospital.jobs().get(&id).await.unwrap().unwrap();
        if job.state == crypdoc_hospital::JobState::Posted {
            assert_eq!(job.error, None);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the job did not go on: {job:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(chain.admin.task_count().await.unwrap(), U256::from(1));
    node.shutdown().await;
}
