//! A dev chain with the contracts, an accredited hospital wallet, accredited doctors with
//! published keys, and a node configuration in a temporary folder.

#![allow(dead_code, unreachable_pub)]

use alloy::{
    primitives::{keccak256, Address, U256},
    providers::Provider,
    signers::local::PrivateKeySigner,
};
use crypdoc_contracts::{
    deploy::deploy_as,
    devnet::{Anvil, ANVIL_DEPLOYER_KEY},
    wallet_provider, Deployment, MarketClient,
};
use crypdoc_storage::{DoctorKeyPair, DOCTOR_KEY_MESSAGE};
use std::path::{Path, PathBuf};

pub const PASSWORD: &str = "test-password";

pub struct Chain {
    pub dir: tempfile::TempDir,
    pub anvil: Anvil,
    pub url: String,
    pub deployment: Deployment,
    pub admin: MarketClient,
    pub hospital: PrivateKeySigner,
    pub doctors: Vec<MarketClient>,
}

pub fn sample(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/br35h").join(name)).unwrap()
}

pub async fn funded(admin: &MarketClient, url: &str, signer: &PrivateKeySigner) {
    let provider = wallet_provider(url, signer.clone()).unwrap();
    provider
        .raw_request::<_, ()>("anvil_setBalance".into(), (signer.address(), U256::from(10u128.pow(20))))
        .await
        .unwrap();
    admin.mint_stablecoin(signer.address(), U256::from(10_000_000_000u64)).await.unwrap();
}

pub async fn keypair(client: &MarketClient) -> DoctorKeyPair {
    DoctorKeyPair::from_wallet_signature(&client.sign_message(DOCTOR_KEY_MESSAGE.as_bytes()).await.unwrap())
        .unwrap()
}

impl Chain {
    pub async fn start(doctors: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let anvil = Anvil::spawn(&dir.path().join("anvil.log"), true).await.unwrap();
        let url = anvil.endpoint();
        let deployer: PrivateKeySigner = ANVIL_DEPLOYER_KEY.parse().unwrap();
        let provider = wallet_provider(&url, deployer.clone()).unwrap();
        let deployment = deploy_as(&provider, deployer.address(), true).await.unwrap();
        deployment.save(&dir.path().join("deployment.json")).unwrap();
        let admin = MarketClient::connect(&url, deployer, deployment.clone()).await.unwrap();
        let now = admin.chain_time().await.unwrap();

        let hospital = PrivateKeySigner::random();
        funded(&admin, &url, &hospital).await;
        admin.accredit_hospital(hospital.address(), keccak256(b"hospital"), now + 86_400 * 30).await.unwrap();
        let mut clients = Vec::new();
        for i in 0..doctors {
            let signer = PrivateKeySigner::random();
            funded(&admin, &url, &signer).await;
            let client = MarketClient::connect(&url, signer, deployment.clone()).await.unwrap();
            admin.accredit(client.address(), keccak256([i as u8]), now + 86_400 * 30).await.unwrap();
            client.set_encryption_key(keypair(&client).await.public_key().to_bytes().into()).await.unwrap();
            clients.push(client);
        }
        Self { dir, anvil, url, deployment, admin, hospital, doctors: clients }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the hospital's keystore and a node configuration; returns the config's path.
    pub fn write_config(&self, name: &str, extra_top: &str, extra_chain: &str) -> PathBuf {
        let keystore_dir = self.path("keystores");
        std::fs::create_dir_all(&keystore_dir).unwrap();
        let keystore = keystore_dir.join("hospital.json");
        if !keystore.exists() {
            let mut rng = rand::thread_rng();
            PrivateKeySigner::encrypt_keystore(
                &keystore_dir,
                &mut rng,
                self.hospital.to_bytes(),
                PASSWORD,
                Some("hospital.json"),
            )
            .unwrap();
        }
        let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/br35h-mlp.json");
        let config = format!(
            r#"state_dir = "{state}"
listen = "127.0.0.1:0"
poll_ms = 100
max_scan_bytes = 1048576
{extra_top}

[chain]
rpc_url = "{url}"
chain_id = {chain_id}
deployment = "{deployment}"
{extra_chain}

[wallet]
keystore = "{keystore}"
password_env = "CRYPDOC_TEST_HOSPITAL_PASSWORD"

[store]
embedded_dir = "{store}"

[inference]
model = "{model}"
key_dir = "{keys}"

[policy]
seats = 3
stake = "1"
min_bounty = "20"
max_bounty = "200"
reputation_tiers = [["0", 0]]
commit_window_secs = 7200
reveal_window_secs = 7200
token_decimals = 6
"#,
            state = self.path(&format!("{name}-state")).display(),
            url = self.url,
            chain_id = self.deployment.chain_id,
            deployment = self.path("deployment.json").display(),
            keystore = keystore.display(),
            store = self.path("store").display(),
            model = model.display(),
            // FHE keys are shared by every node of a test: generating them costs a second.
            keys = self.path("fhe-keys").display(),
        );
        let path = self.path(&format!("{name}.toml"));
        std::fs::write(&path, config).unwrap();
        path
    }

    pub fn hospital_address(&self) -> Address {
        self.hospital.address()
    }
}
