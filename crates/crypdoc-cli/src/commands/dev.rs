//! `crypdoc dev up|down`: a local anvil with the contracts deployed and demo accounts funded
//! and accredited (`hospital` as a hospital, `doctor1`..`doctor5` as doctors), Ocean's contracts
//! beside them and the `researcher` funded to buy datasets.

use alloy::{
    primitives::{keccak256, utils::parse_units, Address, U256},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use crypdoc_contracts::{
    deploy::deploy_as,
    devnet::{Anvil, ANVIL_DEPLOYER_KEY},
    wallet_provider, MarketClient,
};
use crypdoc_doctor::Doctor;
use serde_json::json;
use tracing::info;

use crate::{
    args::GlobalArgs,
    commands::{
        account::{load_index, store_account},
        dataset::{default_ocean_path, deploy_dev_ocean},
        doctor::salt_store,
    },
    context::{record_dev_accounts, write_atomic, DevnetState, DEV_PASSWORD, PASSWORD_ENV},
    output::emit,
};

/// The demo doctors created by `dev up`.
pub(crate) const DEV_DOCTORS: [&str; 5] = ["doctor1", "doctor2", "doctor3", "doctor4", "doctor5"];

#[derive(Debug, Subcommand)]
pub(crate) enum DevCommand {
    /// Start anvil (or use --rpc-url), deploy, create, fund and accredit demo accounts.
    Up(UpArgs),
    /// Stop the anvil that `dev up` started.
    Down,
}

#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// Test stablecoins minted to the hospital.
    #[arg(long, default_value = "10000")]
    hospital_funds: u64,
    /// Test stablecoins minted to each doctor (for stakes).
    #[arg(long, default_value = "1000")]
    doctor_funds: u64,
    /// Test stablecoins minted to the researcher (to buy datasets).
    #[arg(long, default_value = "1000")]
    researcher_funds: u64,
    /// Leave the demo doctors' encryption keys unpublished (to publish them from the web page
    /// or with `crypdoc doctor set-key`).
    #[arg(long)]
    no_encryption_keys: bool,
}

impl DevCommand {
    pub(crate) async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        match self {
            Self::Up(args) => args.run(global).await,
            Self::Down => down(global).await,
        }
    }
}

impl UpArgs {
    async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        tokio::fs::create_dir_all(&global.state_dir)
            .await
            .with_context(|| format!("cannot create {}", global.state_dir.display()))?;

        // A second `dev up` reuses a live chain whose deployment still answers.
        if global.rpc_url.is_none() {
            if let (Some(state), Ok(deployment)) =
                (DevnetState::load(&global.state_dir), global.load_deployment())
            {
                let deployer: PrivateKeySigner = ANVIL_DEPLOYER_KEY.parse()?;
                if MarketClient::connect(&state.rpc_url, deployer, deployment.clone()).await.is_ok() {
                    emit(
                        global.json,
                        &json!({ "rpc_url": state.rpc_url, "deployment": deployment, "reused": true }),
                        || {
                            format!(
                                "dev chain already running at {} (market {})",
                                state.rpc_url, deployment.market
                            )
                        },
                    );
                    return Ok(());
                }
            }
        }

        let (rpc_url, pid) = match &global.rpc_url {
            Some(url) => (url.clone(), None),
            None => {
                let log = global.state_dir.join("anvil.log");
                let anvil = Anvil::spawn(&log, true).await?;
                let url = anvil.endpoint();
                // Record the chain before deploying so that `dev down` can stop it even if
                // deployment fails half way.
                let state = DevnetState { rpc_url: url.clone(), pid: anvil.pid(), log };
                write_atomic(&DevnetState::path(&global.state_dir), serde_json::to_vec_pretty(&state)?)
                    .await?;
                let pid = anvil.detach();
                (url, Some(pid))
            }
        };

        let deployer: PrivateKeySigner = ANVIL_DEPLOYER_KEY.parse()?;
        let admin = deployer.address();
        let provider =
            wallet_provider(&rpc_url, deployer.clone()).with_context(|| format!("RPC URL {rpc_url}"))?;
        provider
            .get_chain_id()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach the chain at {rpc_url}: {e}"))?;
        info!(target: "crypdoc::cli", %rpc_url, "deploying");
        let deployment = deploy_as(&provider, admin, true).await?;
        deployment.save(&global.deployment_path())?;

        // Keystores made with the dev password open without asking later (`GlobalArgs::open_account`);
        // with $CRYPDOC_PASSWORD set they are the user's own and keep asking.
        let explicit_password = std::env::var(PASSWORD_ENV).ok();
        let password = explicit_password.clone().unwrap_or_else(|| DEV_PASSWORD.to_owned());
        let mut created = Vec::new();
        let mut signers = std::collections::BTreeMap::new();
        let mut accounts = Vec::new();
        for name in std::iter::once("admin")
            .chain(std::iter::once("hospital"))
            .chain(DEV_DOCTORS)
            .chain(std::iter::once("researcher"))
        {
            let address = match load_index(global)?.get(name) {
                Some(address) => *address,
                None => {
                    let signer = if name == "admin" { deployer.clone() } else { PrivateKeySigner::random() };
                    // Encrypting is a deliberately slow scrypt: off the async runtime.
                    let (global_args, account, key, secret) =
                        (global.clone(), name.to_owned(), signer.clone(), password.clone());
                    let address = tokio::task::spawn_blocking(move || {
                        store_account(&global_args, &account, &key, Some(&secret))
                    })
                    .await??;
                    created.push(name);
                    signers.insert(name, signer);
                    address
                }
            };
            accounts.push((name.to_owned(), address));
        }
        if explicit_password.is_none() {
            record_dev_accounts(&global.keystore_dir(), created.iter().copied()).await?;
        }

        // Ocean v4's own contracts, for the hospital's dataset (`crypdoc dataset ...`).
        let ocean_path = default_ocean_path(&global.state_dir);
        let ocean =
            deploy_dev_ocean(&rpc_url, deployer.clone(), &ocean_path, crypdoc_ocean::deploy::DEV_NETWORK)
                .await?;

        let client = MarketClient::connect(&rpc_url, deployer, deployment.clone()).await?;
        let stablecoin = client.token(None)?;
        let stablecoin_info = client.token_info(stablecoin).await?;
        let unit = |n: u64| -> anyhow::Result<U256> {
            Ok(parse_units(&n.to_string(), stablecoin_info.decimals)?.into())
        };
        let now = client.chain_time().await?;
        for (name, address) in &accounts {
            fund_gas(&provider, *address).await?;
            if name == "hospital" {
                client.mint_stablecoin(*address, unit(self.hospital_funds)?).await?;
                // Only accredited hospitals may post tasks.
                let licence = keccak256(format!("CrypDoc dev hospital licence for {name}"));
                client.accredit_hospital(*address, licence, now + 365 * 24 * 3600).await?;
            }
            if name.starts_with("doctor") {
                client.mint_stablecoin(*address, unit(self.doctor_funds)?).await?;
                let licence = keccak256(format!("CrypDoc dev licence for {name}"));
                client.accredit(*address, licence, now + 365 * 24 * 3600).await?;
            }
            if name == "researcher" {
                client.mint_stablecoin(*address, unit(self.researcher_funds)?).await?;
            }
        }

        // The demo doctors publish their encryption keys, so they can take seats right away.
        for name in DEV_DOCTORS.into_iter().filter(|_| !self.no_encryption_keys) {
            let signer = match signers.remove(name) {
                Some(signer) => signer,
                None => global.open_account(name).await?,
            };
            let doctor_client = MarketClient::connect(&rpc_url, signer, deployment.clone()).await?;
            if doctor_client.encryption_key_of(doctor_client.address()).await?.is_none() {
                Doctor::new(doctor_client, salt_store(global)).publish_key().await?;
            }
        }

        let value = json!({
            "rpc_url": rpc_url,
            "anvil_pid": pid,
            "deployment": deployment,
            "ocean": { "file": ocean_path, "addresses": ocean },
            "accounts": accounts.iter().map(|(n, a)| json!({ "name": n, "address": a })).collect::<Vec<_>>(),
            "password_env": PASSWORD_ENV,
            "dev_password": explicit_password.is_none(),
        });
        emit(global.json, &value, || {
            let mut lines = vec![
                format!("dev chain   {rpc_url} (chain {})", deployment.chain_id),
                format!("registry    {}", deployment.registry),
                format!("reputation  {}", deployment.reputation),
                format!("market      {}", deployment.market),
                format!(
                    "stablecoin  {stablecoin} ({}, {} decimals)",
                    stablecoin_info.symbol, stablecoin_info.decimals
                ),
                format!(
                    "ocean       ERC721Factory {}, FixedPrice {} (address file {})",
                    ocean.erc721_factory,
                    ocean.fixed_price,
                    ocean_path.display()
                ),
                String::new(),
                match &explicit_password {
                    None => format!(
                        "accounts (keystores in {}, dev password {DEV_PASSWORD:?}: later commands open them without asking):",
                        global.keystore_dir().display()
                    ),
                    Some(_) => format!(
                        "accounts (keystores in {}, encrypted with ${PASSWORD_ENV}):",
                        global.keystore_dir().display()
                    ),
                },
            ];
            lines.extend(accounts.iter().map(|(n, a)| {
                let role = match n.as_str() {
                    "admin" => "admin and credential issuer",
                    "hospital" => "accredited hospital, funded",
                    "researcher" => "funded to buy datasets",
                    _ if self.no_encryption_keys => "accredited doctor, funded",
                    _ => "accredited doctor, funded, encryption key published",
                };
                format!("  {n:<11} {a}  {role}")
            }));
            lines.join("\n")
        });
        Ok(())
    }
}

/// Gives `address` 100 ETH for gas through anvil's cheat RPC (dev chains only).
async fn fund_gas(provider: &alloy::providers::DynProvider, address: Address) -> anyhow::Result<()> {
    let amount = U256::from(100u64) * U256::from(10u64).pow(U256::from(18u64));
    provider
        .raw_request::<_, ()>("anvil_setBalance".into(), (address, amount))
        .await
        .context("anvil_setBalance failed: `dev up --rpc-url` needs an anvil endpoint")?;
    Ok(())
}

async fn down(global: &GlobalArgs) -> anyhow::Result<()> {
    let Some(state) = DevnetState::load(&global.state_dir) else {
        bail!("no dev chain recorded in {} (nothing to stop)", global.state_dir.display());
    };
    let mut stopped = false;
    if let Some(pid) = state.pid {
        stopped = tokio::process::Command::new("kill")
            .arg(pid.to_string())
            .status()
            .await
            .is_ok_and(|status| status.success());
    }
    // The chain's state died with it, so its deployment file would only mislead.
    for path in [
        DevnetState::path(&global.state_dir),
        global.deployment_path(),
        default_ocean_path(&global.state_dir),
    ] {
        tokio::fs::remove_file(path).await.ok();
    }
    emit(global.json, &json!({ "stopped": stopped, "pid": state.pid }), || match (stopped, state.pid) {
        (true, Some(pid)) => format!("stopped anvil (pid {pid})"),
        (false, Some(pid)) => format!("anvil (pid {pid}) was not running; state cleared"),
        _ => "external chain: nothing to stop; state cleared".into(),
    });
    Ok(())
}
