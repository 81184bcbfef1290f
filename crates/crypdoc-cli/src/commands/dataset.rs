//! `crypdoc dataset`: the researcher's side of the hospitals' Ocean datasets (list, buy,
//! download), thin adapters over `crypdoc_ocean::Researcher`; and deploying Ocean's own contracts
//! on a dev chain.

use alloy::primitives::{Address, B256};
use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use crypdoc_ocean::{deploy::DEV_NETWORK, OceanAddresses, Researcher};
use serde_json::json;
use std::path::{Path, PathBuf};

use crate::{
    args::GlobalArgs,
    context::write_atomic,
    output::{emit, units},
};

/// Where `dataset` commands find Ocean's addresses unless `--ocean` says otherwise.
pub(crate) fn default_ocean_path(state_dir: &Path) -> PathBuf {
    state_dir.join("ocean-addresses.json")
}

#[derive(Debug, Args)]
pub(crate) struct OceanArgs {
    /// Ocean address file (Ocean's `address.json` shape); defaults to
    /// `<state-dir>/ocean-addresses.json`, written by `crypdoc dataset deploy-ocean`.
    #[arg(long)]
    ocean: Option<PathBuf>,
    /// Network entry of the address file.
    #[arg(long, default_value = DEV_NETWORK)]
    network: String,
}

impl OceanArgs {
    fn path(&self, global: &GlobalArgs) -> PathBuf {
        self.ocean.clone().unwrap_or_else(|| default_ocean_path(&global.state_dir))
    }

    fn load(&self, global: &GlobalArgs) -> anyhow::Result<OceanAddresses> {
        let path = self.path(global);
        OceanAddresses::read(&path, &self.network).with_context(|| {
            "no Ocean deployment: run `crypdoc dataset deploy-ocean` on a dev chain, or pass --ocean with Ocean's address file".to_owned()
        })
    }

    async fn researcher(&self, global: &GlobalArgs) -> anyhow::Result<Researcher> {
        let addresses = self.load(global)?;
        let signer = global.signer().await?;
        let url = global.resolve_rpc_url()?;
        let provider = crypdoc_contracts::wallet_provider(&url, signer.clone())
            .with_context(|| format!("RPC URL {url}"))?;
        Ok(Researcher::new(provider, signer, addresses).await?)
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Csv,
    Json,
}

/// Researchers' access to the hospitals' anonymised diagnosis datasets (Ocean Protocol).
#[derive(Debug, Subcommand)]
pub(crate) enum DatasetCommand {
    /// The datasets on chain: release, records, months, price, your datatokens.
    List {
        /// Only datasets published by this account.
        #[arg(long)]
        publisher: Option<Address>,
        #[command(flatten)]
        ocean: OceanArgs,
    },
    /// Buy one datatoken of DID on its fixed-rate exchange (approves the exact price).
    Buy {
        /// `did:op:...` (see `crypdoc dataset list`).
        did: String,
        #[command(flatten)]
        ocean: OceanArgs,
    },
    /// Order DID (spends one datatoken), download through the hospital node, check the file
    /// against the SHA-256 in the DDO, write it.
    Download {
        /// `did:op:...`.
        did: String,
        /// Where to write the file.
        #[arg(long)]
        out: PathBuf,
        /// CSV (file 0) or JSON (file 1).
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Reuse an earlier order (its transaction) instead of spending a datatoken.
        #[arg(long)]
        order: Option<B256>,
        #[command(flatten)]
        ocean: OceanArgs,
    },
    /// Dev chains: deploy Ocean v4's own contracts (npm artifacts, unchanged) and write the
    /// address file.
    DeployOcean {
        #[command(flatten)]
        ocean: OceanArgs,
    },
}

/// Deploys Ocean with `signer` (the dev chain's admin) and writes the address file at `path`.
pub(crate) async fn deploy_dev_ocean(
    url: &str,
    signer: alloy::signers::local::PrivateKeySigner,
    path: &Path,
    network: &str,
) -> anyhow::Result<OceanAddresses> {
    let owner = signer.address();
    let provider =
        crypdoc_contracts::wallet_provider(url, signer).with_context(|| format!("RPC URL {url}"))?;
    let addresses = crypdoc_ocean::deploy_ocean(&provider, owner, &[]).await?;
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.with_context(|| format!("cannot create {}", dir.display()))?;
    }
    addresses.write(path, network)?;
    Ok(addresses)
}

impl DatasetCommand {
    pub(crate) async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        match self {
            Self::List { publisher, ocean } => {
                let r = ocean.researcher(global).await?;
                let listings = r.list(publisher).await?;
                emit(global.json, &json!({ "datasets": listings }), || {
                    if listings.is_empty() {
                        return "no datasets on this chain yet".to_owned();
                    }
                    let mut out = String::new();
                    for l in &listings {
                        let price = l.pricing.as_ref().map_or_else(
                            || "not for sale".to_owned(),
                            |p| {
                                format!("{} {} per datatoken", units(p.price, p.base_decimals), p.base_symbol)
                            },
                        );
                        out += &format!(
                            "{}\n  {} (publisher {})\n  release {}: {} records, months {}\n  {price}; you hold {} datatokens; {} orders so far\n  csv sha256 {}\n  provider {}\n",
                            l.did,
                            l.name,
                            l.owner,
                            l.release,
                            l.records,
                            l.months.join(", "),
                            units(l.datatoken_balance, 18),
                            l.orders,
                            l.csv_sha256,
                            l.service_endpoint,
                        );
                    }
                    out.trim_end().to_owned()
                });
            }
            Self::Buy { did, ocean } => {
                let r = ocean.researcher(global).await?;
                let p = r.buy(&did).await?;
                let d = p.pricing.base_decimals;
                let symbol = p.pricing.base_symbol.clone();
                emit(global.json, &serde_json::to_value(&p)?, || {
                    format!(
                        "bought 1 datatoken of {did}\n  paid {} {symbol} (price {} + Ocean fee {}), gas {} (approve) + {} (buyDT), tx {}\n  {symbol}: {} -> {}\n  datatokens: {} -> {}",
                        units(p.base_balance.0 - p.base_balance.1, d),
                        units(p.pricing.price - p.pricing.ocean_fee - p.pricing.market_fee, d),
                        units(p.pricing.ocean_fee, d),
                        p.approve_gas,
                        p.buy_gas,
                        p.buy_tx,
                        units(p.base_balance.0, d),
                        units(p.base_balance.1, d),
                        units(p.datatoken_balance.0, 18),
                        units(p.datatoken_balance.1, 18),
                    )
                });
            }
            Self::Download { did, out, format, order, ocean } => {
                let r = ocean.researcher(global).await?;
                let index = match format {
                    Format::Csv => 0,
                    Format::Json => 1,
                };
                let d = r.download(&did, index, order).await?;
                write_atomic(&out, d.bytes.to_vec()).await?;
                emit(global.json, &json!({ "download": d, "out": out, "bytes": d.bytes.len() }), || {
                    format!(
                            "{} (release {}, {} bytes) written to {}; sha256 {} matches the DDO\n  order tx {}{}; download {:.1} ms; datatokens: {} -> {}",
                            d.file_name,
                            d.release,
                            d.bytes.len(),
                            out.display(),
                            d.sha256,
                            d.order_tx,
                            if d.order_gas > 0 { format!(" ({} gas)", d.order_gas) } else { " (reused)".to_owned() },
                            d.latency.as_secs_f64() * 1000.0,
                            units(d.datatoken_balance.0, 18),
                            units(d.datatoken_balance.1, 18),
                        )
                });
            }
            Self::DeployOcean { ocean } => {
                let url = global.resolve_rpc_url()?;
                let signer = global.signer().await?;
                let path = ocean.path(global);
                let a = deploy_dev_ocean(&url, signer, &path, &ocean.network).await?;
                emit(global.json, &json!({ "addresses": a, "file": path }), || {
                    format!(
                        "Ocean v4 deployed on chain {}: ERC721Factory {}, FixedPrice {}, Router {}; address file {}",
                        a.chain_id,
                        a.erc721_factory,
                        a.fixed_price,
                        a.router,
                        path.display()
                    )
                });
            }
        }
        Ok(())
    }
}
