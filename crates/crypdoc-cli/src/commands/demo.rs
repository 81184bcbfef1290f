//! `crypdoc demo`: the whole lifecycle on a fresh local chain, as the hospital, five doctors and
//! anyone finalizing would run it, with every step printed.
//!
//! Everything is real: the shipped classifier evaluated on the encrypted scan (tfhe-rs, server
//! key only), which prices the bounty, with its plaintext reference beside it as a check, anvil and the deployed contracts, the sealed scan in the
//! embedded content-addressed store, wallet-derived doctor keys, HPKE-wrapped scan keys released
//! by the hospital's agent node, commit-reveal with wallet-derived salts, payouts and
//! reputation (the task meets the market's reputation minimums: 5 seats, a bounty above the
//! stablecoin's minimum, an hour's commit window). Only the doctors' readings are simulated.
//!
//! It ends with the dataset: Ocean's contracts deployed beside the market, the finalized task's
//! record waiting in the node's ledger for k-anonymity (the node's default k = 5), then, with the
//! demo's k (`--dataset-k`, default 1), published by the node as an Ocean asset, bought by a
//! researcher wallet and downloaded through the node's Provider routes.

use alloy::{
    primitives::{keccak256, utils::parse_units, U256},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use anyhow::{ensure, Context as _};
use clap::Args;
use crypdoc_contracts::{
    bindings::IDiagnosisMarket::Phase,
    deploy::deploy_as,
    devnet::{Anvil, ANVIL_DEPLOYER_KEY},
    wallet_provider, MarketClient,
};
use crypdoc_doctor::{Doctor, SaltStore};
use crypdoc_hospital::{
    config::{NodeConfig, DEV_OCEAN_FILE},
    datasets::NodeDatasets,
    node::{open_hospital, start},
    Hospital, Job, JobState,
};
use crypdoc_model::{preprocess_bytes, InputSpec, QuantizedModel};
use crypdoc_types::{ConfidenceBps, DiagnosisSet, DEFAULT_MIN_REPUTATION_WINDOW_SECS};
use serde_json::json;
use std::{path::PathBuf, time::Instant};

use crate::{
    args::GlobalArgs,
    commands::{dataset::deploy_dev_ocean, dev::DEV_DOCTORS, store::open_store_at},
    context::write_atomic,
    output::{emit, units},
};

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// The scan to submit.
    #[arg(long, default_value = "samples/br35h/yes/y9.jpg")]
    scan: PathBuf,
    /// The classifier (also run on the encrypted scan).
    #[arg(long, default_value = "models/crypdoc-binary-v2.json")]
    model: PathBuf,
    /// The five doctors' readings (names or codes of the model's diagnosis set), comma
    /// separated; defaults to the scan's folder label for four of them and a different
    /// diagnosis for the fifth.
    #[arg(long, value_delimiter = ',')]
    votes: Vec<String>,
    /// The dataset's k for the demo: the node starts with its default (5), where one finalized
    /// task's record waits, then the demo lowers it to this so the record is published.
    #[arg(long, default_value_t = 1)]
    dataset_k: u32,
}

fn step(json: bool, started: Instant, text: &str) {
    if !json {
        println!("[{:>6.2}s] {text}", started.elapsed().as_secs_f64());
    }
}

impl DemoArgs {
    /// The readings: explicit, or four doctors agreeing with the scan's folder label (`yes`/`no`
    /// as in Br35H, or a Nickparvar tumor type for a four-class model) and one dissenting.
    fn votes(&self, set: DiagnosisSet) -> anyhow::Result<Vec<u8>> {
        if !self.votes.is_empty() {
            ensure!(self.votes.len() == DEV_DOCTORS.len(), "--votes needs {} readings", DEV_DOCTORS.len());
            return self.votes.iter().map(|v| Ok(set.code(v)?)).collect();
        }
        let label = self
            .scan
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .and_then(|n| set.code(n).ok())
            .with_context(|| {
                format!(
                    "{} is not in a folder named after a {set} diagnosis ({}): pass --votes",
                    self.scan.display(),
                    set.names().join(", ")
                )
            })?;
        // The dissent: "no tumor" against a tumor, the first tumor class against no tumor.
        let dissent = if label == 0 { 1 } else { 0 };
        Ok(vec![label, label, label, label, dissent])
    }

    pub(crate) async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        let started = Instant::now();
        let json_out = global.json;
        // The model's classes decide the task's diagnosis set (two: binary, four: tumor type).
        let model = QuantizedModel::load(&self.model)?;
        let set = DiagnosisSet::from_class_count(u8::try_from(model.classes.len()).unwrap_or(u8::MAX))?;
        let votes = self.votes(set)?;
        let scan = tokio::fs::read(&self.scan)
            .await
            .with_context(|| format!("cannot read the scan {}", self.scan.display()))?;

        tokio::fs::create_dir_all(&global.state_dir)
            .await
            .with_context(|| format!("cannot create {}", global.state_dir.display()))?;
        let anvil = Anvil::spawn(&global.state_dir.join("anvil.log"), true).await?;
        let url = anvil.endpoint();
        let deployer: PrivateKeySigner = ANVIL_DEPLOYER_KEY.parse()?;
        let provider = wallet_provider(&url, deployer.clone())?;
        let deployment = deploy_as(&provider, deployer.address(), true).await?;
        step(json_out, started, &format!("anvil at {url}; market {} deployed", deployment.market));

        let admin = MarketClient::connect(&url, deployer.clone(), deployment.clone()).await?;
        let token = admin.token(None)?;
        let token_info = admin.token_info(token).await?;
        let unit =
            |n: u64| -> anyhow::Result<U256> { Ok(parse_units(&n.to_string(), token_info.decimals)?.into()) };
        // The demo keeps its own state beside the command line's, fresh every run (its chain is).
        let dir = global.state_dir.join("demo");
        if dir.exists() {
            tokio::fs::remove_dir_all(&dir)
                .await
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        tokio::fs::create_dir_all(&dir).await.with_context(|| format!("cannot create {}", dir.display()))?;
        deployment.save(&dir.join("deployment.json"))?;
        // Ocean's own contracts beside the market: with their address file in its state folder,
        // the node publishes the dataset and serves it as Provider.
        let ocean =
            deploy_dev_ocean(&url, deployer, &dir.join(DEV_OCEAN_FILE), crypdoc_ocean::deploy::DEV_NETWORK)
                .await?;
        step(
            json_out,
            started,
            &format!("Ocean v4 contracts deployed (ERC721Factory {})", ocean.erc721_factory),
        );
        let mut signers = Vec::new();
        for _ in 0..=DEV_DOCTORS.len() {
            let signer = PrivateKeySigner::random();
            provider
                .raw_request::<_, ()>(
                    "anvil_setBalance".into(),
                    (signer.address(), unit(1)? * U256::from(10u64).pow(U256::from(14u64))),
                )
                .await?;
            signers.push(signer);
        }
        let hospital_signer = signers.remove(0);
        let hospital = MarketClient::connect(&url, hospital_signer.clone(), deployment.clone()).await?;
        admin.mint_stablecoin(hospital.address(), unit(1_000)?).await?;
        let now = admin.chain_time().await?;
        // Only accredited hospitals may post tasks.
        admin
            .accredit_hospital(hospital.address(), keccak256("demo hospital licence"), now + 365 * 86_400)
            .await?;
        let mut doctors = Vec::new();
        for (name, signer) in DEV_DOCTORS.iter().zip(signers) {
            admin.mint_stablecoin(signer.address(), unit(100)?).await?;
            admin
                .accredit(signer.address(), keccak256(format!("demo licence {name}")), now + 365 * 86_400)
                .await?;
            let doctor = Doctor::new(
                MarketClient::connect(&url, signer, deployment.clone()).await?,
                SaltStore::new(dir.join("salts")),
            );
            doctor.publish_key().await?;
            doctors.push(doctor);
        }
        step(
            json_out,
            started,
            "hospital and 5 doctors funded and accredited; wallet-derived X25519 keys published",
        );

        // The hospital node: the same service as `crypdoc-hospital`, in this process. Five seats,
        // a bounty above the stablecoin's minimum and the reputation window: the task earns
        // reputation; every doctor commits at once, so the reveal phase opens without waiting.
        let mut config = NodeConfig::dev(
            &dir,
            &url,
            deployment.chain_id,
            &self.model,
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        );
        config.poll_ms = 100;
        config.policy.commit_window_secs = DEFAULT_MIN_REPUTATION_WINDOW_SECS;
        config.policy.reveal_window_secs = 3600;
        let node = start(&config, open_hospital(&config, hospital_signer).await?).await?;
        let submitted = node.hospital.submit(&scan).await?;
        step(
            json_out,
            started,
            &format!(
                "hospital node on http://{}; scan {} accepted ({} bytes)",
                node.addr,
                submitted.scan_id,
                scan.len()
            ),
        );
        let job = wait_for_job(&node.hospital, &submitted.scan_id, JobState::Posted).await?;
        let prediction = job.prediction.clone().context("a posted job has a prediction")?;
        let cid = job.scan_cid.clone().context("a posted job has a scan CID")?;
        let task_id: U256 = job.task_id.as_deref().context("a posted job has a task")?.parse()?;
        let bounty: u128 = job.bounty.as_deref().context("a posted job has a bounty")?.parse()?;

        // The node ran the model on the encrypted scan; its plaintext reference is printed
        // beside it as a check (the class agrees on 99.5% of validation scans, the exact logits
        // on 86%: a unit within the bootstrap's noise of its sign boundary can flip).
        let reference = model.infer(&preprocess_bytes(&scan, InputSpec::of(&model))?)?;
        let (reference_class, reference_probability) = model.predict(&reference.logits);
        let confidence = ConfidenceBps::new(prediction.confidence_bps)?;
        step(
            json_out,
            started,
            &format!(
                "model on the encrypted scan: {} at {confidence} ({:.0} ms encrypted); plaintext reference: {} at {:.1}%; sealed and stored: {cid}",
                prediction.label,
                prediction.encrypted_ms,
                model.classes[reference_class],
                reference_probability * 100.0,
            ),
        );
        let task = hospital.task(task_id).await?;
        ensure!(
            task.earnsReputation,
            "task {task_id} does not earn reputation: the market's minimums changed?"
        );
        step(
            json_out,
            started,
            &format!(
                "task {task_id} posted: {} at {confidence} -> bounty {} escrowed, earns reputation",
                prediction.label,
                token_info.format(U256::from(bounty))
            ),
        );

        for doctor in &doctors {
            doctor.claim(task_id).await?;
        }
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        while hospital.released_keys(task_id).await?.len() < doctors.len() {
            ensure!(Instant::now() < deadline, "the hospital node did not release the scan keys");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        step(
            json_out,
            started,
            &format!(
                "5 seats claimed ({} stake each); the hospital node saw them and released 5 wrapped keys",
                token_info.format(U256::from(task.stakePerSeat))
            ),
        );

        let store = open_store_at(&dir.join("store"))?;
        for doctor in &doctors {
            let read = doctor.read(&store, task_id).await?;
            ensure!(read.image == scan, "doctor {} decrypted a different scan", doctor.address());
        }
        step(
            json_out,
            started,
            "each doctor fetched, unwrapped and decrypted the scan: identical to the original",
        );

        for (doctor, vote) in doctors.iter().zip(&votes) {
            doctor.commit(task_id, &vote.to_string()).await?;
        }
        ensure!(
            hospital.task_view(task_id).await?.phase == Phase::Reveal,
            "all committed, reveal should be open"
        );
        let mut names = Vec::new();
        for doctor in &doctors {
            names.push(doctor.reveal(task_id).await?.name);
        }
        step(json_out, started, &format!("blind votes committed, then revealed: {}", names.join(", ")));

        // Every seat revealed: the node finalizes by itself and writes the patient's report.
        let job = wait_for_job(&node.hospital, &submitted.scan_id, JobState::Finalized).await?;
        let report = node.hospital.jobs().report(&job.id).await?.context("a finalized job has a report")?;
        let report: crypdoc_hospital::report::ReportData = serde_json::from_str(&report)?;
        write_atomic(&dir.join("report.html"), crypdoc_hospital::report::render_html(&report).into_bytes())
            .await?;
        write_atomic(&dir.join("report.pdf"), crypdoc_hospital::report::render_pdf(&report)).await?;
        let view = hospital.task_view(task_id).await?;
        let mut payouts = Vec::new();
        for (name, doctor) in DEV_DOCTORS.iter().zip(&doctors) {
            let client = doctor.client();
            let credit = client.credit_of(doctor.address(), token).await?;
            if !credit.is_zero() {
                doctor.withdraw(token).await?;
            }
            let reputation = client.reputation_of(doctor.address()).await?;
            payouts.push((name, doctor.address(), credit, reputation));
        }
        let outcome = match view.phase {
            Phase::Resolved => {
                format!("resolved: {} ({} of 5 agreeing)", set.name(view.task.outcome)?, view.task.agreeing)
            }
            Phase::Unresolved => "no quorum: bounty refunded to the hospital".into(),
            _ => "unexpected phase".into(),
        };
        step(
            json_out,
            started,
            &format!(
                "finalized by the hospital node, {outcome}; patient report {}",
                dir.join("report.pdf").display()
            ),
        );

        let escrow_left = hospital.token_balance(token, deployment.market).await?;
        let hospital_credit = hospital.credit_of(hospital.address(), token).await?;
        if !json_out {
            println!("\npayouts (bounty share + stake back):");
            for (n, a, c, r) in &payouts {
                println!("  {n:<8} {a}  {:>15}  reputation {r}", token_info.format(*c));
            }
            println!(
                "hospital credit (rounding dust) {}; escrow left {}\n",
                token_info.format(hospital_credit),
                token_info.format(escrow_left)
            );
        }

        let datasets = node.datasets.clone().context("the demo node publishes datasets")?;
        let researcher = PrivateKeySigner::random();
        provider
            .raw_request::<_, ()>(
                "anvil_setBalance".into(),
                (researcher.address(), unit(1)? * U256::from(10u64).pow(U256::from(14u64))),
            )
            .await?;
        admin.mint_stablecoin(researcher.address(), unit(100)?).await?;
        let researcher =
            crypdoc_ocean::Researcher::new(wallet_provider(&url, researcher.clone())?, researcher, ocean)
                .await?;
        let dataset = dataset_flow(&datasets, &researcher, self.dataset_k, json_out, started).await?;
        node.shutdown().await;

        let value = json!({
            "rpc_url": url,
            "earns_reputation": view.task.earnsReputation,
            "deployment": deployment,
            "scan_cid": cid,
            "scan_id": job.id,
            "report": { "html": dir.join("report.html"), "pdf": dir.join("report.pdf") },
            "task": task_id.to_string(),
            "model": {
                "model_id": model.model_id,
                "predicted": prediction.label,
                "confidence_bps": confidence.get(),
                "encrypted_ms": prediction.encrypted_ms,
                "reference_class": model.classes[reference_class],
                "reference_confidence": reference_probability,
            },
            "bounty": bounty.to_string(),
            "outcome": outcome,
            "doctors": payouts.iter().map(|(n, a, c, r)| json!({ "name": n, "address": a, "paid": c.to_string(), "reputation": r.to_string() })).collect::<Vec<_>>(),
            "hospital_credit": hospital_credit.to_string(),
            "escrow_left": escrow_left.to_string(),
            "dataset": dataset.json,
            "seconds": started.elapsed().as_secs_f64(),
        });
        emit(json_out, &value, || dataset.text.clone());
        drop(anvil);
        Ok(())
    }
}

/// What the dataset part of the demo shows at the end.
struct DatasetOutcome {
    json: serde_json::Value,
    text: String,
}

/// Waits (a minute at most) until `check` holds on the node's dataset status.
async fn wait_for_dataset(
    datasets: &NodeDatasets,
    what: &str,
    check: impl Fn(&crypdoc_hospital::datasets::DatasetStatus) -> bool,
) -> anyhow::Result<crypdoc_hospital::datasets::DatasetStatus> {
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let status = datasets.status();
        if check(&status) {
            return Ok(status);
        }
        ensure!(Instant::now() < deadline, "the hospital node did not {what} within a minute");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The finalized task's record waiting in the node's ledger, then published with the demo's k,
/// bought and downloaded by `researcher` through the node.
async fn dataset_flow(
    datasets: &NodeDatasets,
    researcher: &crypdoc_ocean::Researcher,
    demo_k: u32,
    json_out: bool,
    started: Instant,
) -> anyhow::Result<DatasetOutcome> {
    let status = wait_for_dataset(datasets, "add the task's dataset record", |s| {
        !s.waiting.is_empty() || !s.releases.is_empty()
    })
    .await?;
    let node_k = status.k;
    if let Some(group) = status.waiting.first() {
        step(
            json_out,
            started,
            &format!(
                "dataset: the task's record ({}, {} code {} {}) waits in the node's ledger for k-anonymity: its group has {} of k = {node_k} records, nothing published",
                group.month, group.code_set, group.code, group.diagnosis, group.waiting
            ),
        );
    }
    datasets.set_k(demo_k)?;
    let lowered_at = Instant::now();
    let status = datasets.status();
    if status.waiting.iter().any(|g| g.missing > 0) {
        step(
            json_out,
            started,
            &format!("dataset: with --dataset-k {demo_k} the record still waits; nothing to buy"),
        );
        return Ok(DatasetOutcome {
            json: json!({ "k": demo_k, "node_default_k": node_k, "waiting": status.waiting }),
            text: String::new(),
        });
    }
    let status = wait_for_dataset(datasets, "publish the dataset", |s| !s.releases.is_empty()).await?;
    let published = status.last_publish.clone().context("the node published a release")?;
    let did = published.did.clone();
    step(
        json_out,
        started,
        &format!(
            "dataset: demo k = {demo_k} (--dataset-k, not the node's default {node_k}; a real node keeps k >= 5): release {} ({} record) published by the node as {did}: data NFT + datatoken + fixed-rate exchange ({} gas), DDO via setMetaData ({} gas), files sealed on the node's store; served {:.0} ms after k was lowered",
            published.version,
            published.records,
            published.create_gas.unwrap_or_default(),
            published.metadata_gas.unwrap_or_default(),
            lowered_at.elapsed().as_secs_f64() * 1000.0,
        ),
    );

    let purchase = researcher.buy(&did).await?;
    let p = &purchase.pricing;
    let d = p.base_decimals;
    step(
        json_out,
        started,
        &format!(
            "researcher {} bought 1 datatoken: paid {} {} (price {} + Ocean fee {}), gas {} (approve) + {} (buyDT)",
            researcher.address(),
            units(purchase.base_balance.0 - purchase.base_balance.1, d),
            p.base_symbol,
            units(p.price - p.ocean_fee - p.market_fee, d),
            units(p.ocean_fee, d),
            purchase.approve_gas,
            purchase.buy_gas,
        ),
    );
    let download = researcher.download(&did, 0, None).await?;
    let text = String::from_utf8_lossy(&download.bytes).into_owned();
    step(
        json_out,
        started,
        &format!(
            "ordered (startOrder, {} gas) and downloaded {} through the node's Provider route (GET /ocean/api/services/download) in {:.1} ms; sha256 {} matches the DDO",
            download.order_gas,
            download.file_name,
            download.latency.as_secs_f64() * 1000.0,
            download.sha256,
        ),
    );
    let mut lines =
        vec![format!("downloaded dataset ({}, release {}):", download.file_name, download.release)];
    lines.extend(text.lines().map(|l| format!("  {l}")));
    Ok(DatasetOutcome {
        json: json!({
            "did": did,
            "k": demo_k,
            "node_default_k": node_k,
            "release": published,
            "service_endpoint": status.service_endpoint,
            "purchase": purchase,
            "download": {
                "file": download.file_name,
                "sha256": download.sha256,
                "order_tx": download.order_tx,
                "order_gas": download.order_gas,
                "latency_ms": download.latency.as_secs_f64() * 1000.0,
                "csv": text,
            },
        }),
        text: lines.join("\n"),
    })
}

/// Waits until the node's job `id` reaches `state` (a minute at most).
async fn wait_for_job(hospital: &Hospital, id: &str, state: JobState) -> anyhow::Result<Job> {
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let job = hospital.jobs().get(id).await?.context("the node lost the scan's job")?;
        if job.state == state {
            return Ok(job);
        }
        ensure!(job.state != JobState::Failed, "the scan's job failed: {}", job.error.unwrap_or_default());
        ensure!(Instant::now() < deadline, "the scan's job is still {} after a minute", job.state);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
