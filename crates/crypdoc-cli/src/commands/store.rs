//! `crypdoc store put|get|pin`, and the storage side of other commands: sealing a scan before
//! posting, wrapping its key to seated doctors, reading it back as a doctor.

use alloy::primitives::{Address, TxHash, U256};
use anyhow::{bail, Context as _};
use clap::Subcommand;
use crypdoc_contracts::MarketClient;
use crypdoc_hospital::{
    config::NodeConfig, node::open_hospital, release_scan_key, seal_and_store, JobState, ScanKeys,
};
use crypdoc_model::{preprocess_bytes, InputSpec, QuantizedModel};
use crypdoc_storage::{BlobStore, Cid, Store};
use crypdoc_types::{ConfidenceBps, DiagnosisSet};
use serde_json::json;
use std::path::{Path, PathBuf};

use crate::{args::GlobalArgs, commands::task::PostArgs, output::emit};

#[derive(Debug, Subcommand)]
pub(crate) enum StoreCommand {
    /// Store a file; prints its CID.
    Put {
        /// The file.
        file: PathBuf,
        /// IPFS RPC API (e.g. http://127.0.0.1:5001) instead of the embedded store.
        #[arg(long, env = "CRYPDOC_IPFS_API")]
        ipfs_api: Option<String>,
    },
    /// Fetch a CID, verified against its hash.
    Get {
        /// The CID.
        cid: Cid,
        /// Output file (written atomically); standard output when absent.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// IPFS RPC API instead of the embedded store.
        #[arg(long, env = "CRYPDOC_IPFS_API")]
        ipfs_api: Option<String>,
    },
    /// Pin a CID so it is kept.
    Pin {
        /// The CID.
        cid: Cid,
        /// IPFS RPC API instead of the embedded store.
        #[arg(long, env = "CRYPDOC_IPFS_API")]
        ipfs_api: Option<String>,
    },
}

/// The embedded store in `dir`.
pub(crate) fn open_store_at(dir: &Path) -> anyhow::Result<Store> {
    Store::open(None, dir).with_context(|| format!("cannot open the embedded store in {}", dir.display()))
}

/// The embedded store lives in the state directory.
pub(crate) fn open_store(global: &GlobalArgs, ipfs_api: Option<&str>) -> anyhow::Result<Store> {
    let dir = global.state_dir.join("store");
    Store::open(ipfs_api, &dir).with_context(|| match ipfs_api {
        Some(url) => format!("cannot use the IPFS API at {url}"),
        None => format!("cannot open the embedded store in {}", dir.display()),
    })
}

impl StoreCommand {
    pub(crate) async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        match self {
            Self::Put { file, ipfs_api } => {
                let store = open_store(global, ipfs_api.as_deref())?;
                if !file.is_file() {
                    anyhow::bail!("{} is not a readable file", file.display());
                }
                let cid = store.put_file(&file).await?;
                emit(global.json, &json!({ "cid": cid.to_string(), "file": file }), || cid.to_string());
            }
            Self::Get { cid, out, ipfs_api } => {
                let store = open_store(global, ipfs_api.as_deref())?;
                match out {
                    Some(path) => {
                        let len = store.get_to_file(&cid, &path).await?;
                        if global.json {
                            emit(
                                true,
                                &json!({ "cid": cid.to_string(), "out": path, "bytes": len }),
                                String::new,
                            );
                        } else {
                            eprintln!("wrote {len} bytes to {}", path.display());
                        }
                    }
                    None => {
                        use std::io::Write;
                        let data = store.get(&cid).await?;
                        std::io::stdout().write_all(&data).context("cannot write to standard output")?;
                    }
                }
            }
            Self::Pin { cid, ipfs_api } => {
                let store = open_store(global, ipfs_api.as_deref())?;
                store.pin(&cid).await?;
                emit(global.json, &json!({ "pinned": cid.to_string() }), || format!("pinned {cid}"));
            }
        }
        Ok(())
    }
}

pub(crate) async fn post_task(global: &GlobalArgs, args: &PostArgs) -> anyhow::Result<()> {
    let client = global.connect().await?;
    // Nothing is evaluated, sealed or stored for an account that could not post it.
    client.ensure_can_post().await?;
    if let (Some(model), Some(scan)) = (&args.model, &args.scan) {
        return post_through_hospital(global, args, client, model, scan).await;
    }
    let scan = match &args.scan {
        Some(path) => {
            Some(tokio::fs::read(path).await.with_context(|| format!("cannot read {}", path.display()))?)
        }
        None => None,
    };
    let (predicted, confidence) = match (&args.predicted, args.confidence) {
        (Some(predicted), Some(confidence)) => (predicted.clone(), confidence),
        _ => bail!("pass --model MODEL with --scan FILE, or --predicted and --confidence"),
    };
    let model: Option<serde_json::Value> = None;
    let cid = match (&scan, &args.scan_cid) {
        (Some(scan), _) => {
            let store = open_store(global, None)?;
            seal_and_store(&store, &scan_keys(global), scan).await?.to_string()
        }
        (None, Some(cid)) => cid.parse::<Cid>()?.to_string(),
        (None, None) => bail!("pass --scan FILE or --scan-cid CID"),
    };
    let token = client.token(args.token)?;
    let token_info = client.token_info(token).await?;
    let spec = args.spec(cid.clone(), &predicted, confidence, &token_info)?;
    let diagnosis = spec.diagnosis_set.name(spec.predicted_class)?;
    let (id, tx) = client.post_task(&spec, token).await?;
    // The market decides at posting whether the task earns reputation; read its verdict back.
    let task = client.task(id).await?;
    let earns = task.earnsReputation;
    let mut value = json!({
        "task": id.to_string(), "scan_cid": cid, "bounty": spec.bounty.to_string(),
        "predicted": diagnosis, "confidence_bps": spec.confidence.get(),
        "min_reputation": spec.min_reputation, "earns_reputation": earns,
        "fill_deadline": task.fillDeadline.to::<u64>(), "tx": tx,
    });
    if let Some(model) = model {
        value["model"] = model;
    }
    emit(global.json, &value, || {
        format!(
            "posted task {id}: {diagnosis} at {}, bounty {}, {} seats, quorum {}, min reputation {}, {} (scan {cid}, tx {tx})",
            spec.confidence,
            token_info.format(U256::from(spec.bounty)),
            spec.seats,
            spec.quorum,
            spec.min_reputation,
            if earns { "earns reputation" } else { "earns no reputation" }
        )
    });
    Ok(())
}

/// `task post --scan FILE --model MODEL`: the hospital's own pipeline, in this process, on this
/// command line's state (the same jobs a node on this state directory runs): the scan becomes a
/// durable job, evaluated encrypted, priced, sealed, stored and posted. Run twice with the same
/// image, it returns the same task instead of posting again.
async fn post_through_hospital(
    global: &GlobalArgs,
    args: &PostArgs,
    client: MarketClient,
    model: &Path,
    scan_path: &Path,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.bounty.is_none() && args.min_reputation.is_none() && args.scan_cid.is_none(),
        "with --model the hospital's policy prices the task: drop --bounty and --min-reputation"
    );
    let image =
        tokio::fs::read(scan_path).await.with_context(|| format!("cannot read {}", scan_path.display()))?;
    let deployment = client.deployment().clone();
    let mut config = NodeConfig::dev(
        &global.state_dir,
        &global.resolve_rpc_url()?,
        deployment.chain_id,
        model,
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    );
    config.chain.deployment = global.deployment_path();
    config.inference.worker.clone_from(&args.worker);
    let policy = &mut config.policy;
    policy.seats = args.seats;
    policy.quorum = args.quorum;
    policy.stake.clone_from(&args.stake);
    policy.commit_window_secs = args.commit_window;
    policy.reveal_window_secs = args.reveal_window;
    policy.token = args.token;
    // Read before anything else so that an unreadable scan is refused before keys are made.
    let hospital_model = QuantizedModel::load(model)?;
    let model_set =
        DiagnosisSet::from_class_count(u8::try_from(hospital_model.classes.len()).unwrap_or(u8::MAX))?;
    if let Some(set) = args.set.filter(|set| *set != model_set) {
        bail!(
            "--set {set} contradicts the model {}, whose {} classes make a {model_set} task: drop --set",
            model.display(),
            hospital_model.classes.len()
        );
    }
    preprocess_bytes(&image, InputSpec::of(&hospital_model))
        .with_context(|| format!("cannot read {} as a scan", scan_path.display()))?;
    let hospital = open_hospital(&config, client.signer().clone()).await?;
    let submitted = hospital.submit(&image).await?;
    let job = hospital.process_job(&submitted.scan_id).await?;
    anyhow::ensure!(
        job.state != JobState::Failed,
        "scan {} failed: {}",
        job.id,
        job.error.unwrap_or_default()
    );
    let prediction = job.prediction.context("a posted job has a prediction")?;
    let id: U256 = job.task_id.as_deref().context("a posted job has a task")?.parse()?;
    let cid = job.scan_cid.unwrap_or_default();
    let bounty: u128 = job.bounty.as_deref().unwrap_or("0").parse()?;
    let task = client.task(id).await?;
    let token = client.token_info(task.token).await?;
    let set = DiagnosisSet::from_class_count(task.numClasses)?;
    let class = hospital_model
        .classes
        .iter()
        .find(|c| set.code(c).ok() == Some(prediction.class))
        .cloned()
        .unwrap_or_else(|| prediction.label.clone());
    let earns = task.earnsReputation;
    let (diagnosis, confidence) = (&prediction.label, ConfidenceBps::new(prediction.confidence_bps)?);
    let tx = job.post_tx.unwrap_or_default();
    let value = json!({
        "task": id.to_string(), "scan_cid": cid, "scan_id": job.id, "duplicate": submitted.duplicate,
        "bounty": bounty.to_string(), "predicted": diagnosis, "confidence_bps": prediction.confidence_bps,
        "min_reputation": task.minReputation, "earns_reputation": earns,
        "fill_deadline": task.fillDeadline.to::<u64>(), "tx": tx,
        "model": {
            "encrypted": true, "class": class, "confidence": f64::from(prediction.confidence_bps) / 10_000.0,
            "model_id": prediction.model_id, "encrypted_ms": prediction.encrypted_ms,
        },
    });
    emit(global.json, &value, || {
        let again = if submitted.duplicate { " (this image was submitted before: its task)" } else { "" };
        format!(
            "posted task {id}{again}: {diagnosis} at {confidence} (on the encrypted scan), bounty {}, {} seats, quorum {}, min reputation {}, {} (scan {cid}, tx {tx})",
            token.format(U256::from(bounty)),
            task.seats,
            task.quorum,
            task.minReputation,
            if earns { "earns reputation" } else { "earns no reputation" }
        )
    });
    Ok(())
}

/// The hospital's scan data keys live in the state directory.
pub(crate) fn scan_keys(global: &GlobalArgs) -> ScanKeys {
    ScanKeys::new(global.state_dir.join("scan-keys"))
}

/// Wraps the scan key of `task_id` to every seated doctor who has not received it yet.
pub(crate) async fn release_pending_keys(
    client: &MarketClient,
    keys: &ScanKeys,
    task_id: U256,
) -> anyhow::Result<Vec<(Address, TxHash)>> {
    let view = client.task_view(task_id).await?;
    let cid = client.scan_cid(task_id).await?;
    let mut sent = Vec::new();
    for (doctor, _) in &view.votes {
        if let Some(tx) = release_scan_key(client, keys, task_id, *doctor, &cid).await? {
            sent.push((*doctor, tx));
        }
    }
    Ok(sent)
}

pub(crate) async fn release_keys(global: &GlobalArgs, task_id: U256) -> anyhow::Result<()> {
    let client = global.connect().await?;
    let sent = release_pending_keys(&client, &scan_keys(global), task_id).await?;
    let value = json!(sent.iter().map(|(d, tx)| json!({ "doctor": d, "tx": tx })).collect::<Vec<_>>());
    emit(global.json, &value, || {
        if sent.is_empty() {
            return format!("every seated doctor on task {task_id} already has the scan key");
        }
        sent.iter()
            .map(|(d, tx)| format!("released the scan key to {d} (tx {tx})"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
