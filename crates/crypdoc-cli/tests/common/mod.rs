//! The `crypdoc` binary as the integration tests drive it: a state directory per test, a dev
//! password, no inherited chain or account settings, `dev down` when the test ends.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use serde_json::Value;
use std::{path::Path, process::Command};

const PASSWORD: &str = "test-password";

pub(crate) struct Cli {
    pub(crate) state: tempfile::TempDir,
}

impl Cli {
    pub(crate) fn new() -> Self {
        Self { state: tempfile::tempdir().unwrap() }
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_crypdoc"));
        cmd.arg("--state-dir").arg(self.state.path()).args(args).env("CRYPDOC_PASSWORD", PASSWORD);
        cmd.env_remove("CRYPDOC_RPC_URL").env_remove("CRYPDOC_ACCOUNT").env_remove("CRYPDOC_IPFS_API");
        cmd
    }

    /// Runs a command that must succeed and returns its `--json` output.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.command(&all).output().unwrap();
        assert!(
            out.status.success(),
            "crypdoc {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("crypdoc {args:?}: not JSON ({e})"))
    }

    /// Runs a command that must fail and returns its one-line error.
    pub(crate) fn error(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(!out.status.success(), "crypdoc {args:?} unexpectedly succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        assert!(!stderr.contains("0x") || !stderr.contains("revert"), "raw revert data leaked: {stderr}");
        stderr
    }
}

/// `task post` as the hospital with `--scan`, `--predicted` and `--confidence`, plus `extra`.
pub(crate) fn post_args<'a>(
    scan: &'a str,
    predicted: &'a str,
    confidence: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "task",
        "post",
        "-a",
        "hospital",
        "--scan",
        scan,
        "--predicted",
        predicted,
        "--confidence",
        confidence,
    ];
    args.extend_from_slice(extra);
    args
}

/// `task post` as the hospital with `--scan`, priced by `model` on the encrypted scan.
pub(crate) fn model_post_args<'a>(scan: &'a str, model: &'a str) -> Vec<&'a str> {
    vec!["task", "post", "-a", "hospital", "--scan", scan, "--model", model]
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = self.command(&["dev", "down"]).output();
    }
}

pub(crate) fn sample(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/br35h").join(path).display().to_string()
}
