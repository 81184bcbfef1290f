//! The local dev chain: the npm-installed `anvil` on a free loopback port.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// How long anvil has to start listening.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How often its log and port are checked meanwhile.
const READY_POLL: Duration = Duration::from_millis(50);

/// The first key of anvil's default mnemonic: public knowledge, so it only ever holds dev-chain
/// funds. The dev deployment uses it as admin and credential issuer.
pub const ANVIL_DEPLOYER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Anvil's chain id.
pub const ANVIL_CHAIN_ID: u64 = 31337;

const ANVIL_RELATIVE: &str = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

/// The dev chain could not be started.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// No anvil binary was found.
    #[error("anvil not found (looked for {ANVIL_RELATIVE} above {0} and in $CRYPDOC_ANVIL): run `npm ci` at the repository root")]
    AnvilNotFound(PathBuf),
    /// Spawning anvil failed.
    #[error("could not start {binary}: {cause}")]
    Spawn {
        /// The binary (or the log file that could not be created).
        binary: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// Anvil exited or did not answer in time.
    #[error("anvil did not come up on port {port} within {waited:?}; see {log}")]
    NotReady {
        /// The port.
        port: u16,
        /// How long we waited.
        waited: Duration,
        /// Its log file.
        log: String,
    },
    /// No free port.
    #[error("no free loopback port: {0}")]
    NoPort(std::io::Error),
}

/// Finds the anvil binary: `$CRYPDOC_ANVIL`, else `node_modules` above the current directory,
/// else above this crate's source (for tests and `cargo run`).
pub fn find_anvil() -> Result<PathBuf, DevnetError> {
    if let Some(path) = std::env::var_os("CRYPDOC_ANVIL") {
        return Ok(PathBuf::from(path));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let roots = [cwd.clone(), PathBuf::from(env!("CARGO_MANIFEST_DIR"))];
    roots
        .iter()
        .flat_map(|root| root.ancestors().map(|dir| dir.join(ANVIL_RELATIVE)))
        .find(|candidate| candidate.is_file())
        .ok_or(DevnetError::AnvilNotFound(cwd))
}

/// A free TCP port on 127.0.0.1 (free when asked; anvil binds it right after).
pub fn free_port() -> Result<u16, DevnetError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(DevnetError::NoPort)?;
    Ok(listener.local_addr().map_err(DevnetError::NoPort)?.port())
}

/// The port of anvil's `Listening on 127.0.0.1:PORT` line in `log`, once it is there.
async fn listening_port(log: &Path) -> Option<u16> {
    let text = tokio::fs::read_to_string(log).await.ok()?;
    text.lines()
        .find_map(|line| line.trim().strip_prefix("Listening on ")?.rsplit(':').next()?.trim().parse().ok())
}

/// A running anvil.
#[derive(Debug)]
pub struct Anvil {
    child: Option<Child>,
    port: u16,
    kill_on_drop: bool,
}

impl Anvil {
    /// Starts anvil on a port it picks itself (read back from its log: choosing a free port
    /// first and passing it races with every other process that binds one meanwhile, and two
    /// parallel tests could end up sharing one anvil), logging to `log`. With `kill_on_drop`
    /// false the process outlives this handle (what `crypdoc dev up` wants); call
    /// [`Anvil::detach`] then.
    ///
    /// Waits (up to 20 s) without blocking the runtime: it must be awaited inside one.
    pub async fn spawn(log: &Path, kill_on_drop: bool) -> Result<Self, DevnetError> {
        let binary = find_anvil()?;
        let port = 0;
        let log_error = |cause| DevnetError::Spawn { binary: log.to_owned(), cause };
        let log_file = tokio::fs::File::create(log).await.map_err(log_error)?.into_std().await;
        let err_file = log_file.try_clone().map_err(log_error)?;
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--chain-id"])
            .arg(ANVIL_CHAIN_ID.to_string())
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file)
            .spawn()
            .map_err(|cause| DevnetError::Spawn { binary: binary.clone(), cause })?;
        let mut anvil = Self { child: Some(child), port, kill_on_drop };
        anvil.wait_ready(log).await?;
        Ok(anvil)
    }

    async fn wait_ready(&mut self, log: &Path) -> Result<(), DevnetError> {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            let exited = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()).is_some();
            if exited {
                break;
            }
            if self.port == 0 {
                self.port = listening_port(log).await.unwrap_or(0);
            }
            if self.port != 0 && tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(READY_POLL).await;
        }
        Err(DevnetError::NotReady {
            port: self.port,
            waited: started.elapsed(),
            log: log.display().to_string(),
        })
    }

    /// The HTTP endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Leaves anvil running after this handle is gone.
    pub fn detach(mut self) -> u32 {
        let pid = self.child.as_ref().map(Child::id).unwrap_or_default();
        self.child = None;
        pid
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if self.kill_on_drop {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}
