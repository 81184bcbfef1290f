//! `crypdoc account new|list|import`: encrypted JSON keystores (scrypt + AES, the Ethereum
//! keystore v3 format). Private keys are never printed.

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use anyhow::{bail, Context as _};
use clap::Subcommand;
use serde_json::json;
use std::collections::BTreeMap;

use crate::{args::GlobalArgs, output::emit};

/// Environment variable `account import` reads the private key from (otherwise prompted).
const PRIVATE_KEY_ENV: &str = "CRYPDOC_PRIVATE_KEY";

#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Create a new random account.
    New {
        /// Account name (letters, digits, `-`, `_`).
        name: String,
    },
    /// List accounts and their addresses.
    List,
    /// Import a private key (from $CRYPDOC_PRIVATE_KEY or a hidden prompt).
    Import {
        /// Account name.
        name: String,
    },
}

impl AccountCommand {
    pub(crate) fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        match self {
            Self::New { name } => {
                let signer = PrivateKeySigner::random();
                let address = store_account(global, &name, &signer, None)?;
                emit(global.json, &json!({ "name": name, "address": address }), || {
                    format!("created account {name}: {address}")
                });
            }
            Self::Import { name } => {
                let key = match std::env::var(PRIVATE_KEY_ENV) {
                    Ok(key) => key,
                    Err(_) => rpassword::prompt_password("private key (hex): ")
                        .with_context(|| format!("cannot read the key; set {PRIVATE_KEY_ENV}"))?,
                };
                let signer: PrivateKeySigner =
                    key.trim().parse().map_err(|_| anyhow::anyhow!("not a 32-byte hex private key"))?;
                let address = store_account(global, &name, &signer, None)?;
                emit(global.json, &json!({ "name": name, "address": address }), || {
                    format!("imported account {name}: {address}")
                });
            }
            Self::List => {
                let index = load_index(global)?;
                emit(global.json, &json!(index), || {
                    if index.is_empty() {
                        "no accounts (create one with `crypdoc account new NAME`)".into()
                    } else {
                        index
                            .iter()
                            .map(|(name, address)| format!("{name:<12} {address}"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    }
                });
            }
        }
        Ok(())
    }
}

fn index_path(global: &GlobalArgs) -> std::path::PathBuf {
    global.keystore_dir().join("accounts.json")
}

/// Name to address, so that listing needs no password.
pub(crate) fn load_index(global: &GlobalArgs) -> anyhow::Result<BTreeMap<String, Address>> {
    match std::fs::read_to_string(index_path(global)) {
        Ok(text) => serde_json::from_str(&text).context("the account index is malformed"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(e).context("cannot read the account index"),
    }
}

/// Looks up an address given as hex or as an account name.
pub(crate) fn resolve_address(global: &GlobalArgs, who: &str) -> anyhow::Result<Address> {
    if let Ok(address) = who.parse::<Address>() {
        return Ok(address);
    }
    load_index(global)?.get(who).copied().with_context(|| {
        format!("{who:?} is neither an address nor an account name (see `crypdoc account list`)")
    })
}

/// Encrypts `signer` into `<keystores>/<name>.json` with the password from the environment or a
/// prompt (or `password` when given), refusing to overwrite another key under the same name.
pub(crate) fn store_account(
    global: &GlobalArgs,
    name: &str,
    signer: &PrivateKeySigner,
    password: Option<&str>,
) -> anyhow::Result<Address> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        bail!("account names use letters, digits, `-` and `_` only: {name:?}");
    }
    let mut index = load_index(global)?;
    let address = signer.address();
    if let Some(existing) = index.get(name) {
        if *existing == address {
            return Ok(address);
        }
        bail!("an account named {name:?} already exists ({existing}); choose another name");
    }
    let password = match password {
        Some(p) => p.to_owned(),
        None => {
            let p = global.password(&format!("new password for {name}: "))?;
            if p.is_empty() {
                bail!("refusing an empty keystore password");
            }
            p
        }
    };
    let dir = global.keystore_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // The keystore library writes its file in place with default permissions: encrypt into an
    // owner-only staging directory, then put the file in place whole and owner-only.
    let staging = tempfile::Builder::new()
        .prefix(".keystore-")
        .tempdir_in(&dir)
        .with_context(|| format!("cannot create a staging directory in {}", dir.display()))?;
    PrivateKeySigner::encrypt_keystore(
        staging.path(),
        &mut rand::thread_rng(),
        signer.credential().to_bytes(),
        password,
        Some("keystore.json"),
    )
    .map_err(|e| anyhow::anyhow!("cannot write the keystore: {e}"))?;
    let keystore =
        std::fs::read(staging.path().join("keystore.json")).context("cannot read the new keystore")?;
    let path = dir.join(format!("{name}.json"));
    crypdoc_fs::write_private(&path, &keystore)
        .with_context(|| format!("cannot write {}", path.display()))?;
    index.insert(name.to_owned(), address);
    let index_file = index_path(global);
    crypdoc_fs::write(&index_file, &serde_json::to_vec_pretty(&index)?)
        .with_context(|| format!("cannot write {}", index_file.display()))?;
    Ok(address)
}
