//! `crypdoc task post|list|show|release-keys|finalize`.

use alloy::primitives::{Address, U256};
use clap::{Args, Subcommand};
use crypdoc_contracts::{bindings::IDiagnosisMarket::Phase, revert::phase_name, TaskView, TokenInfo};
use crypdoc_types::{BountyPolicy, ConfidenceBps, DiagnosisSet, TaskSpec, MIN_REPUTATION_SEATS};
use serde_json::{json, Value};
use std::path::PathBuf;

use crate::{args::GlobalArgs, output::emit};

#[derive(Debug, Subcommand)]
pub(crate) enum TaskCommand {
    /// Post a task (hospital): seal and store the scan, escrow the bounty.
    Post(Box<PostArgs>),
    /// List every task with its phase and bounty.
    List,
    /// Show one task: phase, deadlines, seats and votes.
    Show {
        /// Task id.
        id: U256,
    },
    /// Wrap the scan key to every seated doctor that has not received it (poster only).
    ReleaseKeys {
        /// Task id.
        id: U256,
    },
    /// Finalize a task (anyone, once finalizable).
    Finalize {
        /// Task id.
        id: U256,
    },
}

#[derive(Debug, Args)]
pub(crate) struct PostArgs {
    /// The scan to seal, store and post (JPEG or PNG as read by doctors).
    #[arg(long, conflicts_with = "scan_cid", required_unless_present = "scan_cid")]
    pub(crate) scan: Option<PathBuf>,
    /// A sealed scan already in the store.
    #[arg(long)]
    pub(crate) scan_cid: Option<String>,
    /// Diagnosis set: binary or four-class (default binary). With --model the model's classes
    /// decide it, and a different --set is refused.
    #[arg(long)]
    pub(crate) set: Option<DiagnosisSet>,
    /// The model's predicted diagnosis (name or code), when not running `--model` here.
    #[arg(long, required_unless_present = "model", conflicts_with = "model")]
    pub(crate) predicted: Option<String>,
    /// The model's calibrated confidence in the prediction, 0..1, when not running `--model`.
    #[arg(long, required_unless_present = "model", conflicts_with = "model")]
    pub(crate) confidence: Option<f64>,
    /// Run this classifier on the encrypted scan (FHE: encrypted here, evaluated with the server
    /// key alone, decrypted here) and price the bounty from its prediction.
    #[arg(long, requires = "scan")]
    pub(crate) model: Option<PathBuf>,
    /// Have the encrypted evaluation done by this inference worker instead of in this process.
    #[arg(long, requires = "model")]
    pub(crate) worker: Option<String>,
    /// Number of doctors.
    #[arg(long, default_value_t = 5)]
    pub(crate) seats: u8,
    /// Agreeing votes needed; defaults to a strict majority of the seats.
    #[arg(long)]
    pub(crate) quorum: Option<u8>,
    /// Bounty in tokens; defaults to the price the confidence earns under the dev policy.
    #[arg(long)]
    pub(crate) bounty: Option<String>,
    /// Stake per seat in tokens.
    #[arg(long, default_value = "5")]
    pub(crate) stake: String,
    /// Reputation needed to claim a seat; defaults to the dev policy's tier for the bounty.
    #[arg(long)]
    pub(crate) min_reputation: Option<u32>,
    /// Commit phase length in seconds, at most 30 days (2592000). Agreeing doctors earn
    /// reputation only on tasks with at least 3 seats, a bounty at or above the token's minimum
    /// and a commit window at or above the market's minimum (1 hour by default).
    #[arg(long, default_value_t = 3600)]
    pub(crate) commit_window: u64,
    /// Reveal phase length in seconds, at most 30 days (2592000).
    #[arg(long, default_value_t = 3600)]
    pub(crate) reveal_window: u64,
    /// Bounty token; defaults to the deployment's stablecoin.
    #[arg(long)]
    pub(crate) token: Option<Address>,
}

/// An amount on the command line, in whole or decimal tokens of `token`.
pub(crate) fn parse_tokens(text: &str, token: &TokenInfo) -> anyhow::Result<u128> {
    Ok(crypdoc_hospital::config::parse_token_amount(text, token.decimals)?)
}

impl PostArgs {
    /// The task this post asks for, for the model's `predicted` diagnosis at `confidence`, priced
    /// by the dev policy unless given explicitly.
    pub(crate) fn spec(
        &self,
        scan_cid: String,
        predicted: &str,
        confidence: f64,
        token: &TokenInfo,
    ) -> anyhow::Result<TaskSpec> {
        let confidence = ConfidenceBps::from_probability(confidence)?;
        let set = self.set.unwrap_or(DiagnosisSet::Binary);
        let policy = BountyPolicy::dev_for_decimals(token.decimals)?;
        let bounty = match &self.bounty {
            Some(text) => parse_tokens(text, token)?,
            None => policy.bounty(confidence, set.len())?,
        };
        let spec = TaskSpec {
            scan_cid,
            diagnosis_set: set,
            predicted_class: set.code(predicted)?,
            confidence,
            seats: self.seats,
            quorum: self.quorum.unwrap_or(TaskSpec::majority(self.seats)),
            bounty,
            stake_per_seat: parse_tokens(&self.stake, token)?,
            min_reputation: self.min_reputation.unwrap_or_else(|| policy.min_reputation(bounty)),
            commit_window_secs: self.commit_window,
            reveal_window_secs: self.reveal_window,
        };
        spec.validate()?;
        Ok(spec)
    }
}

fn diagnosis_name(num_classes: u8, code: u8) -> String {
    DiagnosisSet::from_class_count(num_classes)
        .and_then(|set| set.name(code))
        .map_or_else(|_| code.to_string(), str::to_owned)
}

pub(crate) fn task_json(view: &TaskView) -> Value {
    let t = &view.task;
    json!({
        "id": view.id.to_string(),
        "phase": phase_name(view.phase),
        "poster": t.poster,
        "token": t.token,
        "bounty": t.bounty.to_string(),
        "stake_per_seat": t.stakePerSeat.to_string(),
        "min_reputation": t.minReputation,
        "predicted": diagnosis_name(t.numClasses, t.predictedClass),
        "confidence_bps": t.confidenceBps,
        "num_classes": t.numClasses,
        "seats": t.seats,
        "quorum": t.quorum,
        "filled": t.filled,
        "committed": t.committed,
        "revealed": t.revealed,
        "commit_deadline": t.commitDeadline.to::<u64>(),
        "reveal_deadline": t.revealDeadline.to::<u64>(),
        "fill_deadline": t.fillDeadline.to::<u64>(),
        "earns_reputation": t.earnsReputation,
        "outcome": (view.phase == Phase::Resolved).then(|| diagnosis_name(t.numClasses, t.outcome)),
        "agreeing": t.agreeing,
        "scan_digest": t.scanDigest,
        "votes": view.votes.iter().map(|(doctor, vote)| json!({
            "doctor": doctor,
            "seat": vote.seat,
            "committed": vote.commitment != alloy::primitives::B256::ZERO,
            "revealed": vote.revealed,
            "diagnosis": vote.revealed.then(|| diagnosis_name(t.numClasses, vote.diagnosis)),
        })).collect::<Vec<_>>(),
    })
}

fn task_text(view: &TaskView, token: &TokenInfo, now: u64) -> String {
    let t = &view.task;
    let until = |deadline: u64| {
        if deadline > now {
            format!("in {}s", deadline - now)
        } else {
            format!("{}s ago", now - deadline)
        }
    };
    let mut lines = vec![
        format!("task {}  [{}]", view.id, phase_name(view.phase)),
        format!(
            "  model: {} at {}  |  bounty {}, stake {}, min reputation {}",
            diagnosis_name(t.numClasses, t.predictedClass),
            ConfidenceBps::new(t.confidenceBps).map_or_else(|_| "?".into(), |c| c.to_string()),
            token.format(U256::from(t.bounty)),
            token.format(U256::from(t.stakePerSeat)),
            t.minReputation
        ),
        format!(
            "  seats {}/{} filled, {} committed, {} revealed, quorum {}",
            t.filled, t.seats, t.committed, t.revealed, t.quorum
        ),
        format!(
            "  commit deadline {}, reveal deadline {}, fill deadline {}",
            until(t.commitDeadline.to::<u64>()),
            until(t.revealDeadline.to::<u64>()),
            until(t.fillDeadline.to::<u64>())
        ),
        if t.earnsReputation {
            "  earns reputation: agreeing doctors still accredited at finalize get 1 point each".to_owned()
        } else {
            format!(
                "  earns no reputation (fewer than {MIN_REPUTATION_SEATS} seats, a bounty below the token's \
                 minimum or a commit window below the market's minimum)"
            )
        },
    ];
    if view.phase == Phase::Resolved {
        lines.push(format!(
            "  final diagnosis: {} ({} agreeing)",
            diagnosis_name(t.numClasses, t.outcome),
            t.agreeing
        ));
    }
    for (doctor, vote) in &view.votes {
        let state = if vote.revealed {
            format!("revealed {}", diagnosis_name(t.numClasses, vote.diagnosis))
        } else if vote.commitment != alloy::primitives::B256::ZERO {
            "committed".into()
        } else {
            "seated".into()
        };
        lines.push(format!("  seat {} {doctor}: {state}", vote.seat));
    }
    lines.join("\n")
}

impl TaskCommand {
    pub(crate) async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        match self {
            Self::Post(args) => crate::commands::store::post_task(global, &args).await?,
            Self::List => {
                let client = global.connect_as(alloy::signers::local::PrivateKeySigner::random()).await?;
                let count = client.task_count().await?.to::<u64>();
                let mut views = Vec::new();
                for id in 1..=count {
                    let view = client.task_view(U256::from(id)).await?;
                    let token = client.token_info(view.task.token).await?;
                    views.push((view, token));
                }
                let now = client.chain_time().await?;
                emit(
                    global.json,
                    &json!(views.iter().map(|(v, _)| task_json(v)).collect::<Vec<_>>()),
                    || {
                        if views.is_empty() {
                            return "no tasks yet".into();
                        }
                        views.iter().map(|(v, token)| task_text(v, token, now)).collect::<Vec<_>>().join("\n")
                    },
                );
            }
            Self::Show { id } => {
                let client = global.connect_as(alloy::signers::local::PrivateKeySigner::random()).await?;
                let view = client.task_view(id).await?;
                let token = client.token_info(view.task.token).await?;
                let now = client.chain_time().await?;
                emit(global.json, &task_json(&view), || task_text(&view, &token, now));
            }
            Self::ReleaseKeys { id } => crate::commands::store::release_keys(global, id).await?,
            Self::Finalize { id } => {
                let client = global.connect().await?;
                let tx = client.finalize(id).await?;
                let view = client.task_view(id).await?;
                let value = json!({ "tx": tx, "task": task_json(&view) });
                emit(global.json, &value, || {
                    format!("finalized task {id}: {} (tx {tx})", phase_name(view.phase))
                });
            }
        }
        Ok(())
    }
}
