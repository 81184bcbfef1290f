//! The node's configuration: one TOML file (`crypdoc-hospital --config FILE`; an annotated
//! example is `agents/crypdoc-hospital/hospital.example.toml`). Relative paths are resolved from
//! the file's folder.

use alloy::primitives::Address;
use crypdoc_types::{BountyPolicy, ReputationTier};
use serde::Deserialize;
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use crate::TaskPolicy;

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration {path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("configuration {path}: {cause}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: toml::de::Error,
    },
    /// A value is out of range or inconsistent.
    #[error("configuration: {0}")]
    Invalid(String),
}

/// How many blocks deep an event must be before the node acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmations {
    /// The chain's `finalized` block tag (real networks).
    Finalized,
    /// A fixed depth below the latest block (0 on the dev chain: it never reorganises by itself).
    Depth(u64),
}

impl<'de> Deserialize<'de> for Confirmations {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Depth(u64),
            Tag(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Depth(n) => Ok(Self::Depth(n)),
            Raw::Tag(tag) if tag == "finalized" => Ok(Self::Finalized),
            Raw::Tag(other) => Err(serde::de::Error::custom(format!(
                "confirmations must be a block count or \"finalized\", not {other:?}"
            ))),
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Where the node keeps its jobs, keys, intake and watcher state.
    pub state_dir: PathBuf,
    /// HTTP listen address (loopback by default).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Environment variable holding the intake API token; required when `listen` is not loopback.
    #[serde(default)]
    pub api_token_env: Option<String>,
    /// The built doctors' page (`web/dist`), served at `/` when set.
    #[serde(default)]
    pub web_dir: Option<PathBuf>,
    /// A folder watched for scans (a second intake beside the API); none when absent.
    #[serde(default)]
    pub inbox_dir: Option<PathBuf>,
    /// Largest scan upload in bytes.
    #[serde(default = "default_max_scan_bytes")]
    pub max_scan_bytes: usize,
    /// How often the chain and the jobs are polled, in milliseconds.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// The chain.
    pub chain: ChainConfig,
    /// The hospital's wallet.
    pub wallet: WalletConfig,
    /// Where ciphertext is stored.
    #[serde(default)]
    pub store: StoreConfig,
    /// The classifier and where it runs.
    pub inference: InferenceConfig,
    /// What tasks ask and pay.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// The anonymised diagnosis dataset sold on Ocean Protocol (absent: no dataset).
    #[serde(default)]
    pub datasets: Option<DatasetsConfig>,
}

/// Where `crypdoc dev up` and `crypdoc dataset deploy-ocean` write Ocean's address file, in the
/// state folder; [`NodeConfig::dev`] publishes datasets when it exists.
pub const DEV_OCEAN_FILE: &str = "ocean-addresses.json";

/// The `[datasets]` section: one record (month of the final diagnosis, diagnosis, code set) per
/// resolved task, released k-anonymously as an Ocean dataset that this node serves as Provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetsConfig {
    /// Every published (month, diagnosis) group holds at least this many records.
    #[serde(default = "default_k")]
    pub k: u32,
    /// Price of one datatoken in base-token units, as a decimal (`"10"`, `"2.5"`).
    #[serde(default = "default_price")]
    pub price: String,
    /// The token the datatoken is priced in (default: the deployment's stablecoin).
    #[serde(default)]
    pub base_token: Option<Address>,
    /// Ocean's address file (`crypdoc dev up` writes one; on a real network, Ocean's own).
    pub ocean: PathBuf,
    /// The network entry of the address file.
    #[serde(default = "default_network")]
    pub network: String,
    /// The node's URL as researchers reach it; the DDO's `serviceEndpoint` is this plus
    /// `/ocean`, where the Provider routes are mounted (default: `http://` + the bound address).
    #[serde(default)]
    pub public_url: Option<String>,
    /// The hospital's name, the dataset's author.
    #[serde(default = "default_author")]
    pub author: String,
}

impl DatasetsConfig {
    /// Defaults with Ocean's address file at `ocean`.
    pub fn with_ocean(ocean: PathBuf) -> Self {
        Self {
            k: default_k(),
            price: default_price(),
            base_token: None,
            ocean,
            network: default_network(),
            public_url: None,
            author: default_author(),
        }
    }
}

const fn default_k() -> u32 {
    crypdoc_ocean::DEFAULT_K
}
fn default_price() -> String {
    "10".into()
}
fn default_network() -> String {
    crypdoc_ocean::deploy::DEV_NETWORK.into()
}
fn default_author() -> String {
    "CrypDoc hospital".into()
}

/// The chain and the deployment on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// JSON-RPC endpoint the node uses.
    pub rpc_url: String,
    /// Endpoint the doctors' page uses (defaults to `rpc_url`).
    #[serde(default)]
    pub public_rpc_url: Option<String>,
    /// Expected chain id; the node refuses to start on another chain.
    pub chain_id: u64,
    /// The deployment file (`crypdoc dev up` writes one).
    pub deployment: PathBuf,
    /// Confirmation depth (default: 0 on the dev chain 31337, the `finalized` tag elsewhere).
    #[serde(default)]
    pub confirmations: Option<Confirmations>,
}

/// The hospital's wallet: an encrypted JSON keystore.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletConfig {
    /// The keystore file.
    pub keystore: PathBuf,
    /// Environment variable holding its password.
    #[serde(default = "default_password_env")]
    pub password_env: String,
}

/// Embedded store or a Kubo RPC API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Kubo RPC API URL; the embedded store is used when absent.
    #[serde(default)]
    pub ipfs_api: Option<String>,
    /// The embedded store's folder (default: `<state_dir>/store`).
    #[serde(default)]
    pub embedded_dir: Option<PathBuf>,
}

/// The classifier.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferenceConfig {
    /// The integer model file.
    pub model: PathBuf,
    /// FHE client and server keys (default: `<state_dir>/fhe-keys`; generated on first start).
    #[serde(default)]
    pub key_dir: Option<PathBuf>,
    /// Inference worker URL; evaluation runs in this process when absent.
    #[serde(default)]
    pub worker: Option<String>,
}

/// Task parameters and pricing, in whole tokens (decimal strings).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Doctors per task.
    pub seats: u8,
    /// Agreeing votes needed (default: a strict majority).
    pub quorum: Option<u8>,
    /// Stake per seat.
    pub stake: String,
    /// Bounty of a fully confident prediction.
    pub min_bounty: String,
    /// Bounty of a prediction no better than chance.
    pub max_bounty: String,
    /// `[bounty, reputation]` pairs: from that bounty up, doctors need that reputation.
    pub reputation_tiers: Vec<(String, u32)>,
    /// Commit window in seconds.
    pub commit_window_secs: u64,
    /// Reveal window in seconds.
    pub reveal_window_secs: u64,
    /// The bounty token (default: the deployment's stablecoin).
    pub token: Option<Address>,
    /// The token's decimals, when given checked against the token's own `decimals()` (which is
    /// what amounts are parsed with).
    pub token_decimals: Option<u8>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            seats: 5,
            quorum: None,
            stake: "5".into(),
            min_bounty: "20".into(),
            max_bounty: "200".into(),
            reputation_tiers: vec![("0".into(), 0), ("120".into(), 2), ("170".into(), 5)],
            commit_window_secs: 24 * 3600,
            reveal_window_secs: 24 * 3600,
            token: None,
            token_decimals: None,
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8480))
}
const fn default_max_scan_bytes() -> usize {
    20 * 1024 * 1024
}
const fn default_poll_ms() -> u64 {
    1_000
}
fn default_password_env() -> String {
    "CRYPDOC_PASSWORD".into()
}

/// Parses a decimal token amount (`"12.5"`) into units of `decimals`.
pub fn parse_token_amount(text: &str, decimals: u8) -> Result<u128, ConfigError> {
    let bad =
        || ConfigError::Invalid(format!("{text:?} is not a token amount with at most {decimals} decimals"));
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty() && fraction.is_empty() || fraction.len() > usize::from(decimals) {
        return Err(bad());
    }
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(bad());
    }
    let scale = 10u128.checked_pow(u32::from(decimals)).ok_or_else(bad)?;
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    let padded = format!("{fraction:0<width$}", width = usize::from(decimals));
    let fraction: u128 = if padded.is_empty() { 0 } else { padded.parse().map_err(|_| bad())? };
    whole.checked_mul(scale).and_then(|w| w.checked_add(fraction)).ok_or_else(bad)
}

impl NodeConfig {
    /// The dev chain's node, laid out as the `crypdoc` command line keeps its state under
    /// `state_dir` (deployment file, `hospital` keystore, embedded store, scan keys, FHE keys), so
    /// the node and the CLI on one machine share them. Policy and limits are the defaults; the
    /// dataset is published (default `[datasets]`) when Ocean's address file is in `state_dir`.
    pub fn dev(state_dir: &Path, rpc_url: &str, chain_id: u64, model: &Path, listen: SocketAddr) -> Self {
        Self {
            state_dir: state_dir.to_owned(),
            listen,
            api_token_env: None,
            web_dir: None,
            inbox_dir: None,
            max_scan_bytes: default_max_scan_bytes(),
            poll_ms: 250,
            chain: ChainConfig {
                rpc_url: rpc_url.to_owned(),
                public_rpc_url: None,
                chain_id,
                deployment: state_dir.join("deployment.json"),
                confirmations: None,
            },
            wallet: WalletConfig {
                keystore: state_dir.join("keystores").join("hospital.json"),
                password_env: default_password_env(),
            },
            store: StoreConfig::default(),
            inference: InferenceConfig { model: model.to_owned(), key_dir: None, worker: None },
            policy: PolicyConfig::default(),
            datasets: Some(state_dir.join(DEV_OCEAN_FILE))
                .filter(|p| p.exists())
                .map(DatasetsConfig::with_ocean),
        }
    }

    /// Reads `path`, resolves relative paths against its folder, and checks the values.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|cause| ConfigError::Read { path: path.into(), cause })?;
        let mut config: Self =
            toml::from_str(&text).map_err(|cause| ConfigError::Parse { path: path.into(), cause })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        config.resolve(base);
        // The token's decimals are known once the node reaches the chain; until then check the
        // amounts' form (18 decimals accept any amount a token can hold).
        config.policy(config.policy.token_decimals.unwrap_or(18))?;
        if config.datasets.as_ref().is_some_and(|d| d.k == 0) {
            return Err(ConfigError::Invalid("datasets.k must be at least 1".into()));
        }
        if !config.listen.ip().is_loopback() && config.api_token_env.is_none() {
            return Err(ConfigError::Invalid(format!(
                "listen = {} is not a loopback address: set api_token_env so intake needs a token",
                config.listen
            )));
        }
        Ok(config)
    }

    fn resolve(&mut self, base: &Path) {
        let at = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        at(&mut self.state_dir);
        at(&mut self.chain.deployment);
        at(&mut self.wallet.keystore);
        at(&mut self.inference.model);
        for p in [
            &mut self.web_dir,
            &mut self.inbox_dir,
            &mut self.store.embedded_dir,
            &mut self.inference.key_dir,
        ]
        .into_iter()
        .flatten()
        {
            at(p);
        }
        if let Some(datasets) = &mut self.datasets {
            at(&mut datasets.ocean);
        }
    }

    /// The confirmation depth: configured, or 0 on the dev chain and `finalized` elsewhere.
    pub fn confirmations(&self) -> Confirmations {
        self.chain.confirmations.unwrap_or(if self.chain.chain_id == 31337 {
            Confirmations::Depth(0)
        } else {
            Confirmations::Finalized
        })
    }

    /// The task policy in units of a token with `decimals` (the token's own `decimals()`).
    pub fn policy(&self, decimals: u8) -> Result<TaskPolicy, ConfigError> {
        let p = &self.policy;
        if let Some(configured) = p.token_decimals.filter(|configured| *configured != decimals) {
            return Err(ConfigError::Invalid(format!(
                "policy.token_decimals = {configured} but the bounty token has {decimals} decimals: remove the line"
            )));
        }
        let amount = |text: &str| parse_token_amount(text, decimals);
        let tiers = p
            .reputation_tiers
            .iter()
            .map(|(from, min_reputation)| {
                Ok(ReputationTier { from_bounty: amount(from)?, min_reputation: *min_reputation })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let pricing =
            BountyPolicy { min_bounty: amount(&p.min_bounty)?, max_bounty: amount(&p.max_bounty)?, tiers };
        pricing.validate().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        Ok(TaskPolicy {
            pricing,
            seats: p.seats,
            quorum: p.quorum,
            stake_per_seat: amount(&p.stake)?,
            commit_window_secs: p.commit_window_secs,
            reveal_window_secs: p.reveal_window_secs,
            token: p.token,
        })
    }

    /// Where the embedded store lives.
    pub fn embedded_dir(&self) -> PathBuf {
        self.store.embedded_dir.clone().unwrap_or_else(|| self.state_dir.join("store"))
    }

    /// Where the FHE keys live.
    pub fn key_dir(&self) -> PathBuf {
        self.inference.key_dir.clone().unwrap_or_else(|| self.state_dir.join("fhe-keys"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_amounts_parse_exactly_and_refuse_garbage() {
        assert_eq!(parse_token_amount("20", 6).unwrap(), 20_000_000);
        assert_eq!(parse_token_amount("0.5", 6).unwrap(), 500_000);
        assert_eq!(parse_token_amount("82.532", 6).unwrap(), 82_532_000);
        for bad in ["", ".", "1.2345678", "-1", "1e3", "abc", "1.2.3"] {
            assert!(parse_token_amount(bad, 6).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_example_config_loads_and_relative_paths_resolve() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("hospital.example.toml");
        let config = NodeConfig::load(&path).unwrap();
        assert!(config.state_dir.is_absolute() || config.state_dir.starts_with(env!("CARGO_MANIFEST_DIR")));
        assert_eq!(config.confirmations(), Confirmations::Depth(0));
        let policy = config.policy(6).unwrap();
        let mut pinned = config;
        pinned.policy.token_decimals = Some(6);
        assert!(pinned.policy(18).unwrap_err().to_string().contains("token has 18 decimals"));
        assert_eq!(policy.pricing.min_bounty, 20_000_000);
        assert_eq!(policy.seats, 5);
    }

    #[test]
    fn bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "state_dir = \"s\"\nlisten = \"0.0.0.0:80\"\n[chain]\nrpc_url = \"x\"\nchain_id = 1\ndeployment = \"d\"\n[wallet]\nkeystore = \"k\"\n[inference]\nmodel = \"m\"\n").unwrap();
        let err = NodeConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("api_token_env"), "{err}");
        std::fs::write(&path, "state_dir = 1").unwrap();
        assert!(NodeConfig::load(&path).unwrap_err().to_string().contains("c.toml"));
        std::fs::write(&path, "state_dir = \"s\"\nbogus = 1\n").unwrap();
        assert!(NodeConfig::load(&path).unwrap_err().to_string().contains("bogus"));
    }
}
