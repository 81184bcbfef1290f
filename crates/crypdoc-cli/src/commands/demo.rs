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
use crypdoc_hospital::{seal_and_store, HospitalAgent};
use crypdoc_model::{preprocess_bytes, InputSpec, QuantizedModel};
use crypdoc_types::{
    BountyPolicy, ConfidenceBps, DiagnosisSet, TaskSpec, DEFAULT_MIN_REPUTATION_WINDOW_SECS,
};
use serde_json::json;
use std::{path::PathBuf, time::Instant};

use crate::{
    args::GlobalArgs,
    commands::{
        dev::DEV_DOCTORS,
        store::{doctor_keypair, open_store, read_task_scan, scan_keys},
        task::TOKEN_DECIMALS,
    },
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
        let mut wallets = Vec::new();
        for _ in 0..=DEV_DOCTORS.len() {
            let signer = PrivateKeySigner::random();
            provider
                .raw_request::<_, ()>(
                    "anvil_setBalance".into(),
                    (signer.address(), unit(1)? * U256::from(10u64).pow(U256::from(14u64))),
                )
                .await?;
            wallets.push(MarketClient::connect(&url, signer, deployment.clone()).await?);
        }
        let hospital = wallets.remove(0);
        let doctors = wallets;
        admin.mint_stablecoin(hospital.address(), unit(1_000)?).await?;
        let now = admin.chain_time().await?;
        // Only accredited hospitals may post tasks.
        admin
            .accredit_hospital(hospital.address(), keccak256("demo hospital licence"), now + 365 * 86_400)
            .await?;
        for (name, doctor) in DEV_DOCTORS.iter().zip(&doctors) {
            admin.mint_stablecoin(doctor.address(), unit(100)?).await?;
            admin
                .accredit(doctor.address(), keccak256(format!("demo licence {name}")), now + 365 * 86_400)
                .await?;
            let public = doctor_keypair(doctor).await?.public_key().to_bytes();
            doctor.set_encryption_key(public.into()).await?;
        }
        step(
            json_out,
            started,
            "hospital and 5 doctors funded and accredited; wallet-derived X25519 keys published",
        );

        let store = open_store(global, None)?;
        let keys = scan_keys(global);
        let cid = seal_and_store(&store, &keys, &scan).await?;
        step(
            json_out,
            started,
            &format!("scan sealed (XChaCha20-Poly1305) and stored: {cid} ({} bytes plaintext)", scan.len()),
        );

        // The model runs on the encrypted scan (encrypt, evaluate with the server key alone,
        // decrypt) and its result prices the bounty. The plaintext reference is printed beside
        // it: the class agrees on 99.5% of validation scans, the exact logits on 86% (a unit
        // within the bootstrap's noise of its sign boundary can flip, see crypdoc-fhe).
        let model = QuantizedModel::load(&self.model)?;
        let pixels = preprocess_bytes(&scan, InputSpec::of(&model))?;
        let reference = model.infer(&pixels)?;
        let (reference_class, reference_probability) = model.predict(&reference.logits);
        let fhe = crypdoc_fhe::predict_encrypted(&model, &pixels, &global.state_dir.join("fhe-keys"))?;
        let logits_match = fhe.logits == reference.logits;
        step(
            json_out,
            started,
            &format!(
                "model on the encrypted scan: {} at {:.1}% (encrypt {:.0} ms, evaluate {:.0} ms, upload {} KB); plaintext reference: {} at {:.1}%, logits {}",
                fhe.label,
                fhe.confidence * 100.0,
                fhe.timings_ms.encrypt,
                fhe.timings_ms.evaluate,
                fhe.sizes_bytes.input / 1024,
                model.classes[reference_class],
                reference_probability * 100.0,
                if logits_match { "identical" } else { "differ" },
            ),
        );
        let set = DiagnosisSet::Binary;
        let predicted = set.code(&fhe.label)?;
        let confidence = ConfidenceBps::from_probability(fhe.confidence)?;
        let policy = BountyPolicy::dev_default();
        let bounty = policy.bounty(confidence, set.len())?;
        let spec = TaskSpec {
            scan_cid: cid.to_string(),
            diagnosis_set: set,
            predicted_class: predicted,
            confidence,
            seats: 5,
            quorum: 3,
            bounty,
            stake_per_seat: 5 * 10u128.pow(TOKEN_DECIMALS.into()),
            min_reputation: policy.min_reputation(bounty),
            // The reputation minimum: every doctor commits at once, so the reveal phase opens
            // long before the commit deadline and the demo never waits for it.
            commit_window_secs: DEFAULT_MIN_REPUTATION_WINDOW_SECS,
            reveal_window_secs: 3600,
        };
        let (task_id, _) = hospital.post_task(&spec, token).await?;
        // Five seats, a bounty above the stablecoin's minimum and an hour's commit window: the
        // market must have promised reputation, or the demo's last line would not hold.
        ensure!(
            hospital.task(task_id).await?.earnsReputation,
            "task {task_id} does not earn reputation: the market's minimums changed?"
        );
        step(
            json_out,
            started,
            &format!(
                "task {task_id} posted: {} at {confidence} -> bounty {} tUSD escrowed, earns reputation",
                set.name(predicted)?,
                units(U256::from(bounty), TOKEN_DECIMALS)
            ),
        );

        // The hospital's agent node watches the chain from here on, with durable state.
        let agent_state = global.state_dir.join("hospital.sqlite");
        for stale in ["", "-wal", "-shm"] {
            // A demo chain is new every run; an old agent state would point past its blocks.
            std::fs::remove_file(format!("{}{stale}", agent_state.display())).ok();
        }
        let mut agent = HospitalAgent::open(hospital.clone(), keys.clone(), &agent_state)?;
        for doctor in &doctors {
            doctor.claim_seat(task_id).await?;
        }
        let released = agent.step().await?.keys_released;
        step(
            json_out,
            started,
            &format!(
                "5 seats claimed (5 tUSD stake each); the hospital agent saw them and released {} wrapped keys",
                released.len()
            ),
        );

        for doctor in &doctors {
            let (_, opened) = read_task_scan(doctor, &store, task_id).await?;
            ensure!(opened == scan, "doctor {} decrypted a different scan", doctor.address());
        }
        step(
            json_out,
            started,
            "each doctor fetched, unwrapped and decrypted the scan: identical to the original",
        );

        let mut salts = Vec::new();
        for (doctor, vote) in doctors.iter().zip(&votes) {
            salts.push(doctor.commit(task_id, *vote).await?.0);
        }
        ensure!(
            hospital.task_view(task_id).await?.phase == Phase::Reveal,
            "all committed, reveal should be open"
        );
        for ((doctor, vote), salt) in doctors.iter().zip(&votes).zip(&salts) {
            doctor.reveal(task_id, *vote, *salt).await?;
        }
        let names: Vec<&str> = votes.iter().map(|v| set.name(*v)).collect::<Result<_, _>>()?;
        step(json_out, started, &format!("blind votes committed, then revealed: {}", names.join(", ")));

        hospital.finalize(task_id).await?;
        let seen = agent.step().await?.finalized;
        ensure!(seen.iter().any(|(id, _, _)| *id == task_id), "the hospital agent did not see the outcome");
        let view = hospital.task_view(task_id).await?;
        let mut payouts = Vec::new();
        for (name, doctor) in DEV_DOCTORS.iter().zip(&doctors) {
            let credit = doctor.credit_of(doctor.address(), token).await?;
            if !credit.is_zero() {
                doctor.withdraw(token).await?;
            }
            let reputation = doctor.reputation_of(doctor.address()).await?;
            payouts.push((name, doctor.address(), credit, reputation));
        }
        let outcome = match view.phase {
            Phase::Resolved => {
                format!("resolved: {} ({} of 5 agreeing)", set.name(view.task.outcome)?, view.task.agreeing)
            }
            Phase::Unresolved => "no quorum: bounty refunded to the hospital".into(),
            _ => "unexpected phase".into(),
        };
        step(json_out, started, &format!("finalized, {outcome}"));

        let escrow_left = hospital.token_balance(token, deployment.market).await?;
        let hospital_credit = hospital.credit_of(hospital.address(), token).await?;
        let value = json!({
            "rpc_url": url,
            "earns_reputation": view.task.earnsReputation,
            "deployment": deployment,
            "scan_cid": cid.to_string(),
            "task": task_id.to_string(),
            "model": {
                "model_id": model.model_id,
                "predicted": set.name(predicted)?,
                "confidence_bps": confidence.get(),
                "encrypted": {
                    "class": fhe.label,
                    "confidence": fhe.confidence,
                    "logits": fhe.logits,
                    "reference_class": model.classes[reference_class],
                    "reference_confidence": reference_probability,
                    "logits_match_reference": logits_match,
                    "timings_ms": fhe.timings_ms,
                    "sizes_bytes": fhe.sizes_bytes,
                },
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
