//! `crypdoc demo`: the whole lifecycle on a fresh local chain, as the hospital, five doctors and
//! anyone finalizing would run it, with every step printed.
//!
//! Everything is real: the shipped classifier evaluated on the encrypted scan (tfhe-rs, server
//! key only), which prices the bounty, with its plaintext reference beside it as a check, anvil and the deployed contracts, the sealed scan in the
//! embedded content-addressed store, wallet-derived doctor keys, HPKE-wrapped scan keys released
//! by the hospital's agent node, commit-reveal with wallet-derived salts, payouts and
//! reputation (the task meets the market's reputation minimums: 5 seats, a bounty above the
//! stablecoin's minimum, an hour's commit window). Only the doctors' readings are simulated.

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
    config::NodeConfig,
    node::{open_hospital, start},
    Hospital, Job, JobState,
};
use crypdoc_model::{preprocess_bytes, InputSpec, QuantizedModel};
use crypdoc_types::{ConfidenceBps, DiagnosisSet, DEFAULT_MIN_REPUTATION_WINDOW_SECS};
use serde_json::json;
use std::{path::PathBuf, time::Instant};

use crate::{
    args::GlobalArgs,
    commands::{dev::DEV_DOCTORS, store::open_store_at, task::TOKEN_DECIMALS},
    output::{emit, units},
};

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// The scan to submit.
    #[arg(long, default_value = "samples/br35h/yes/y9.jpg")]
    scan: PathBuf,
    /// The classifier (also run on the encrypted scan).
    #[arg(long, default_value = "models/br35h-mlp.json")]
    model: PathBuf,
    /// The five doctors' readings, comma separated; defaults to the scan's folder label for four
    /// of them and the other diagnosis for the fifth.
    #[arg(long, value_delimiter = ',')]
    votes: Vec<String>,
}

fn step(json: bool, started: Instant, text: &str) {
    if !json {
        println!("[{:>6.2}s] {text}", started.elapsed().as_secs_f64());
    }
}

impl DemoArgs {
    /// The readings: explicit, or four doctors agreeing with the scan's folder label (`yes`/`no`
    /// as in the data sets) and one dissenting.
    fn votes(&self) -> anyhow::Result<Vec<u8>> {
        let set = DiagnosisSet::Binary;
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
                format!("{} is not in a yes/ or no/ folder: pass --votes", self.scan.display())
            })?;
        Ok(vec![label, label, label, label, 1 - label])
    }

    pub(crate) async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        let started = Instant::now();
        let json_out = global.json;
        let votes = self.votes()?;
        let scan = std::fs::read(&self.scan)
            .with_context(|| format!("cannot read the scan {}", self.scan.display()))?;

        std::fs::create_dir_all(&global.state_dir)?;
        let anvil = Anvil::spawn(&global.state_dir.join("anvil.log"), true)?;
        let url = anvil.endpoint();
        let deployer: PrivateKeySigner = ANVIL_DEPLOYER_KEY.parse()?;
        let provider = wallet_provider(&url, deployer.clone()).map_err(anyhow::Error::msg)?;
        let deployment = deploy_as(&provider, deployer.address(), true).await?;
        step(json_out, started, &format!("anvil at {url}; market {} deployed", deployment.market));

        let admin = MarketClient::connect(&url, deployer, deployment.clone()).await?;
        let token = admin.token(None)?;
        let unit =
            |n: u64| -> anyhow::Result<U256> { Ok(parse_units(&n.to_string(), TOKEN_DECIMALS)?.into()) };
        // The demo keeps its own state beside the command line's, fresh every run (its chain is).
        let dir = global.state_dir.join("demo");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir)?;
        deployment.save(&dir.join("deployment.json"))?;
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
        let model = QuantizedModel::load(&self.model)?;
        let reference = model.infer(&preprocess_bytes(&scan, InputSpec::of(&model))?)?;
        let (reference_class, reference_probability) = model.predict(&reference.logits);
        let set = DiagnosisSet::Binary;
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
        ensure!(
            hospital.task(task_id).await?.earnsReputation,
            "task {task_id} does not earn reputation: the market's minimums changed?"
        );
        step(
            json_out,
            started,
            &format!(
                "task {task_id} posted: {} at {confidence} -> bounty {} tUSD escrowed, earns reputation",
                prediction.label,
                units(U256::from(bounty), TOKEN_DECIMALS)
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
            "5 seats claimed (5 tUSD stake each); the hospital node saw them and released 5 wrapped keys",
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
        std::fs::write(dir.join("report.html"), crypdoc_hospital::report::render_html(&report))?;
        std::fs::write(dir.join("report.pdf"), crypdoc_hospital::report::render_pdf(&report))?;
        node.shutdown().await;
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
            "seconds": started.elapsed().as_secs_f64(),
        });
        emit(json_out, &value, || {
            let mut lines = vec![String::new(), "payouts (bounty share + stake back):".to_owned()];
            lines.extend(payouts.iter().map(|(n, a, c, r)| {
                format!("  {n:<8} {a}  {:>10} tUSD  reputation {r}", units(*c, TOKEN_DECIMALS))
            }));
            lines.push(format!(
                "hospital credit (rounding dust) {} tUSD; escrow left {} tUSD",
                units(hospital_credit, TOKEN_DECIMALS),
                units(escrow_left, TOKEN_DECIMALS)
            ));
            lines.join("\n")
        });
        drop(anvil);
        Ok(())
    }
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
