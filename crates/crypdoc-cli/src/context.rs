//! What most commands need: the deployment, the RPC endpoint, a decrypted keystore account, and
//! a connected [`MarketClient`].

use alloy::signers::local::PrivateKeySigner;
use anyhow::{bail, Context as _};
use crypdoc_contracts::{Deployment, MarketClient};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::args::GlobalArgs;

/// Environment variable holding the keystore password (otherwise it is prompted for).
pub(crate) const PASSWORD_ENV: &str = "CRYPDOC_PASSWORD";

/// Password of the accounts `dev up` creates when $CRYPDOC_PASSWORD is unset: they hold dev-chain
/// funds only.
pub(crate) const DEV_PASSWORD: &str = "crypdoc-dev";

/// The accounts whose keystores `dev up` encrypted with [`DEV_PASSWORD`], listed in
/// `<keystores>/dev-accounts.json` so that later commands open them without asking.
pub(crate) fn dev_accounts(keystore_dir: &Path) -> std::collections::BTreeSet<String> {
    std::fs::read(keystore_dir.join(DEV_ACCOUNTS_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Records that `names` were encrypted with [`DEV_PASSWORD`].
pub(crate) async fn record_dev_accounts<'a>(
    keystore_dir: &Path,
    names: impl IntoIterator<Item = &'a str>,
) -> anyhow::Result<()> {
    let mut all = dev_accounts(keystore_dir);
    all.extend(names.into_iter().map(str::to_owned));
    write_atomic(&keystore_dir.join(DEV_ACCOUNTS_FILE), serde_json::to_vec_pretty(&all)?).await
}

const DEV_ACCOUNTS_FILE: &str = "dev-accounts.json";

/// What `dev up` started, so that later commands find the chain and `dev down` can stop it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DevnetState {
    pub(crate) rpc_url: String,
    pub(crate) pid: Option<u32>,
    pub(crate) log: PathBuf,
}

impl DevnetState {
    pub(crate) fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("devnet.json")
    }

    pub(crate) fn load(state_dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(Self::path(state_dir)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// The chain time `days` days from now, as an accreditation expiry. Checked: `--days` is user
/// input, and an overflow would otherwise panic or wrap to a date in the past.
pub(crate) async fn expiry_in_days(client: &MarketClient, days: u64) -> anyhow::Result<u64> {
    let now = client.chain_time().await?;
    days.checked_mul(24 * 3600)
        .and_then(|secs| now.checked_add(secs))
        .with_context(|| format!("--days {days} is too far in the future"))
}

/// Writes `bytes` to `path` whole or not at all (see `crypdoc_fs`), off the async runtime.
pub(crate) async fn write_atomic(path: &Path, bytes: Vec<u8>) -> anyhow::Result<()> {
    crypdoc_fs::write_async(path.to_owned(), bytes, crypdoc_fs::Access::Shared)
        .await
        .with_context(|| format!("cannot write {}", path.display()))
}

impl GlobalArgs {
    pub(crate) fn load_deployment(&self) -> anyhow::Result<Deployment> {
        Ok(Deployment::load(&self.deployment_path())?)
    }

    pub(crate) fn resolve_rpc_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.rpc_url {
            return Ok(url.clone());
        }
        match DevnetState::load(&self.state_dir) {
            Some(state) => Ok(state.rpc_url),
            None => bail!(
                "no RPC endpoint: pass --rpc-url (or CRYPDOC_RPC_URL), or start a dev chain with `crypdoc dev up`"
            ),
        }
    }

    pub(crate) fn account_name(&self) -> anyhow::Result<&str> {
        self.account.as_deref().context("no account chosen: pass --account NAME (see `crypdoc account list`)")
    }

    /// The password from `$CRYPDOC_PASSWORD`, or a hidden prompt on the terminal.
    pub(crate) fn password(&self, prompt: &str) -> anyhow::Result<String> {
        if let Ok(password) = std::env::var(PASSWORD_ENV) {
            return Ok(password);
        }
        // rpassword's own error (ENXIO from /dev/tty) says nothing a user can act on.
        rpassword::prompt_password(prompt)
            .map_err(|_| anyhow::anyhow!("no terminal to ask for a password on: set {PASSWORD_ENV}"))
    }

    /// The password of account `name`: `$CRYPDOC_PASSWORD`; else the dev password for the
    /// accounts `dev up` created with it while the dev chain it started is recorded; else a prompt.
    fn account_password(&self, name: &str) -> anyhow::Result<String> {
        if std::env::var_os(PASSWORD_ENV).is_none()
            && DevnetState::load(&self.state_dir).is_some()
            && dev_accounts(&self.keystore_dir()).contains(name)
        {
            static NOTICE: std::sync::Once = std::sync::Once::new();
            NOTICE.call_once(|| {
                eprintln!("note: opening dev-chain accounts with the dev password (set {PASSWORD_ENV} to use another)");
            });
            return Ok(DEV_PASSWORD.to_owned());
        }
        self.password(&format!("password for account {name}: "))
    }

    pub(crate) fn keystore_path(&self, name: &str) -> PathBuf {
        self.keystore_dir().join(format!("{name}.json"))
    }

    /// Opens keystore `name` off the async runtime: decrypting is a deliberately slow scrypt,
    /// and the password may be asked on the terminal.
    pub(crate) async fn open_account(&self, name: &str) -> anyhow::Result<PrivateKeySigner> {
        let (global, name) = (self.clone(), name.to_owned());
        tokio::task::spawn_blocking(move || global.open_account_blocking(&name)).await?
    }

    fn open_account_blocking(&self, name: &str) -> anyhow::Result<PrivateKeySigner> {
        let path = self.keystore_path(name);
        if !path.is_file() {
            bail!(
                "no account named {name:?} in {} (see `crypdoc account list`)",
                self.keystore_dir().display()
            );
        }
        let password = self.account_password(name)?;
        PrivateKeySigner::decrypt_keystore(&path, password)
            .map_err(|e| anyhow::anyhow!("cannot open account {name:?}: {e} (wrong password?)"))
    }

    pub(crate) async fn signer(&self) -> anyhow::Result<PrivateKeySigner> {
        self.open_account(self.account_name()?).await
    }

    pub(crate) async fn connect_as(&self, signer: PrivateKeySigner) -> anyhow::Result<MarketClient> {
        let deployment = self.load_deployment()?;
        let url = self.resolve_rpc_url()?;
        Ok(MarketClient::connect(&url, signer, deployment).await?)
    }

    pub(crate) async fn connect(&self) -> anyhow::Result<MarketClient> {
        let signer = self.signer().await?;
        self.connect_as(signer).await
    }
}
