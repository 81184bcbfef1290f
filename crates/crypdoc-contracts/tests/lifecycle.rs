//! The whole task lifecycle against a real anvil, through [`MarketClient`]. Time moves with
//! anvil's `evm_increaseTime`, never by sleeping.

use alloy::{
    primitives::{keccak256, Address, B256, U256},
    providers::{DynProvider, Provider},
    signers::local::PrivateKeySigner,
};
use crypdoc_contracts::{
    bindings::IDiagnosisMarket::Phase,
    deploy::deploy_as,
    devnet::{Anvil, ANVIL_DEPLOYER_KEY},
    wallet_provider, Deployment, MarketClient, MarketError,
};
use crypdoc_types::{ConfidenceBps, DiagnosisSet, TaskSpec};

const TUSD: u128 = 1_000_000;
const BOUNTY: u128 = 100 * TUSD + 3; // + 3 so the 4-way split leaves dust for the poster
const STAKE: u128 = 5 * TUSD;
const HOUR: u64 = 3600;

struct Fixture {
    _anvil: Anvil,
    _dir: tempfile::TempDir,
    provider: DynProvider,
    url: String,
    deployment: Deployment,
    hospital: MarketClient,
    doctors: Vec<MarketClient>,
    token: Address,
}

async fn fixture(doctor_count: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let anvil = Anvil::spawn(&dir.path().join("anvil.log"), true).expect("anvil starts (run `npm ci` first)");
    let deployer: PrivateKeySigner = ANVIL_DEPLOYER_KEY.parse().unwrap();
    let provider = wallet_provider(&anvil.endpoint(), deployer.clone()).unwrap();
    let deployment = deploy_as(&provider, deployer.address(), true).await.unwrap();
    let admin = MarketClient::connect(&anvil.endpoint(), deployer, deployment.clone()).await.unwrap();
    let token = deployment.stablecoin.unwrap();
    let now = admin.chain_time().await.unwrap();

    let mut clients = Vec::new();
    for i in 0..=doctor_count {
        let signer = PrivateKeySigner::random();
        let address = signer.address();
        provider
            .raw_request::<_, ()>("anvil_setBalance".into(), (address, U256::from(10u128.pow(20))))
            .await
            .unwrap();
        admin.mint_stablecoin(address, U256::from(1_000 * TUSD)).await.unwrap();
        let client = MarketClient::connect(&anvil.endpoint(), signer, deployment.clone()).await.unwrap();
        if i > 0 {
            admin.accredit(address, keccak256(format!("licence {i}")), now + 365 * 24 * HOUR).await.unwrap();
            client.set_encryption_key(B256::repeat_byte(i as u8)).await.unwrap();
        }
        clients.push(client);
    }
    let hospital = clients.remove(0);
    Fixture {
        url: anvil.endpoint(),
        _anvil: anvil,
        _dir: dir,
        provider,
        deployment,
        hospital,
        doctors: clients,
        token,
    }
}

impl Fixture {
    async fn post(&self, seats: u8, quorum: u8) -> U256 {
        let spec = TaskSpec {
            scan_cid: "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am".into(),
            diagnosis_set: DiagnosisSet::Binary,
            predicted_class: 1,
            confidence: ConfidenceBps::new(7_200).unwrap(),
            seats,
            quorum,
            bounty: BOUNTY,
            stake_per_seat: STAKE,
            min_reputation: 0,
            commit_window_secs: HOUR,
            reveal_window_secs: HOUR,
        };
        self.hospital.post_task(&spec, self.token).await.unwrap().0
    }

    async fn advance(&self, seconds: u64) {
        self.provider.raw_request::<_, i64>("evm_increaseTime".into(), (seconds,)).await.unwrap();
        self.provider.raw_request::<_, String>("evm_mine".into(), ()).await.unwrap();
    }

    async fn balance(&self, who: &MarketClient) -> u128 {
        who.token_balance(self.token, who.address()).await.unwrap().to()
    }

    async fn credit(&self, who: &MarketClient) -> u128 {
        who.credit_of(who.address(), self.token).await.unwrap().to()
    }

    async fn phase(&self, id: U256) -> Phase {
        self.hospital.task_view(id).await.unwrap().phase
    }
}

#[tokio::test]
async fn quorum_four_to_one_pays_exactly_and_mints_reputation() {
    let f = fixture(5).await;
    let id = f.post(5, 3).await;
    // Balances after the bounty is escrowed.
    let before: Vec<u128> = balances(&f).await;
    for doctor in &f.doctors {
        doctor.claim_seat(id).await.unwrap();
    }
    let votes = [1u8, 1, 1, 1, 0];
    let mut salts = Vec::new();
    for (doctor, vote) in f.doctors.iter().zip(votes) {
        salts.push(doctor.commit(id, vote).await.unwrap().0);
    }
    // Every seat committed: the reveal phase opens before the commit deadline.
    assert_eq!(f.phase(id).await, Phase::Reveal);
    for ((doctor, vote), salt) in f.doctors.iter().zip(votes).zip(&salts) {
        doctor.reveal(id, vote, *salt).await.unwrap();
    }
    assert_eq!(f.phase(id).await, Phase::Finalizable);
    f.doctors[4].finalize(id).await.unwrap();

    let view = f.hospital.task_view(id).await.unwrap();
    assert_eq!(view.phase, Phase::Resolved);
    assert_eq!((view.task.outcome, view.task.agreeing), (1, 4));

    let share = BOUNTY / 4;
    for (i, doctor) in f.doctors.iter().enumerate() {
        let expected = if votes[i] == 1 { STAKE + share } else { STAKE };
        assert_eq!(f.credit(doctor).await, expected, "doctor {i} credit");
        doctor.withdraw(f.token).await.unwrap();
        let gained = if votes[i] == 1 { share } else { 0 };
        assert_eq!(f.balance(doctor).await, before[i + 1] + gained, "doctor {i} balance");
        let reputation = doctor.reputation_of(doctor.address()).await.unwrap();
        assert_eq!(reputation, U256::from(u8::from(votes[i] == 1)), "doctor {i} reputation");
    }
    // The poster gets back the division's dust: 100.000003 / 4 leaves 3 units.
    assert_eq!(f.credit(&f.hospital).await, BOUNTY % 4);
    f.hospital.withdraw(f.token).await.unwrap();
    assert_eq!(f.balance(&f.hospital).await, before[0] + BOUNTY % 4);
    // Nothing is left in escrow.
    assert_eq!(f.hospital.token_balance(f.token, f.deployment.market).await.unwrap(), U256::ZERO);
}

async fn balances(f: &Fixture) -> Vec<u128> {
    let mut out = vec![f.balance(&f.hospital).await];
    for doctor in &f.doctors {
        out.push(f.balance(doctor).await);
    }
    out
}

#[tokio::test]
async fn no_quorum_refunds_the_poster_and_the_revealers() {
    let f = fixture(5).await;
    let id = f.post(5, 4).await;
    let votes = [1u8, 1, 1, 0, 0];
    let mut salts = Vec::new();
    for (doctor, vote) in f.doctors.iter().zip(votes) {
        doctor.claim_seat(id).await.unwrap();
        salts.push(doctor.commit(id, vote).await.unwrap().0);
    }
    for ((doctor, vote), salt) in f.doctors.iter().zip(votes).zip(&salts) {
        doctor.reveal(id, vote, *salt).await.unwrap();
    }
    f.hospital.finalize(id).await.unwrap();
    assert_eq!(f.phase(id).await, Phase::Unresolved);
    assert_eq!(f.credit(&f.hospital).await, BOUNTY);
    for doctor in &f.doctors {
        assert_eq!(f.credit(doctor).await, STAKE);
        assert_eq!(doctor.reputation_of(doctor.address()).await.unwrap(), U256::ZERO);
    }
}

#[tokio::test]
async fn a_doctor_who_never_reveals_loses_the_stake() {
    let f = fixture(5).await;
    let id = f.post(5, 3).await;
    let mut salts = Vec::new();
    for doctor in &f.doctors {
        doctor.claim_seat(id).await.unwrap();
        salts.push(doctor.commit(id, 0).await.unwrap().0);
    }
    for (doctor, salt) in f.doctors.iter().zip(&salts).take(4) {
        doctor.reveal(id, 0, *salt).await.unwrap();
    }
    // The fifth never reveals: finalize must wait for the reveal deadline.
    let early = f.hospital.finalize(id).await.unwrap_err();
    assert!(early.to_string().contains("reveal phase"), "{early}");
    f.advance(2 * HOUR + 1).await;
    f.hospital.finalize(id).await.unwrap();
    let share = (BOUNTY + STAKE) / 4;
    for doctor in f.doctors.iter().take(4) {
        assert_eq!(f.credit(doctor).await, STAKE + share);
    }
    assert_eq!(f.credit(&f.doctors[4]).await, 0);
    assert_eq!(f.credit(&f.hospital).await, (BOUNTY + STAKE) % 4);
}

#[tokio::test]
async fn unfilled_seats_cancel_and_refund_everyone() {
    let f = fixture(2).await;
    let id = f.post(5, 3).await;
    for doctor in &f.doctors {
        doctor.claim_seat(id).await.unwrap();
    }
    let early = f.hospital.finalize(id).await.unwrap_err();
    assert!(early.to_string().contains("commit phase"), "{early}");
    f.advance(HOUR).await;
    f.hospital.finalize(id).await.unwrap();
    assert_eq!(f.phase(id).await, Phase::Cancelled);
    assert_eq!(f.credit(&f.hospital).await, BOUNTY);
    for doctor in &f.doctors {
        assert_eq!(f.credit(doctor).await, STAKE);
    }
}

#[tokio::test]
async fn a_wrong_salt_is_rejected_with_a_clear_error() {
    let f = fixture(1).await;
    let id = f.post(1, 1).await;
    let doctor = &f.doctors[0];
    doctor.claim_seat(id).await.unwrap();
    let (salt, _) = doctor.commit(id, 1).await.unwrap();
    let err = doctor.reveal(id, 1, B256::repeat_byte(9)).await.unwrap_err();
    assert!(matches!(err, MarketError::Rejected(_)));
    assert_eq!(
        err.to_string(),
        format!(
            "the diagnosis and salt do not match the commitment of {} on task 1: wrong salt or diagnosis",
            doctor.address()
        )
    );
    // Another diagnosis with the right salt fails the same way; the true vote still reveals.
    assert!(doctor.reveal(id, 0, salt).await.is_err());
    doctor.reveal(id, 1, salt).await.unwrap();
}

#[tokio::test]
async fn the_salt_is_recovered_from_the_wallet_alone() {
    let f = fixture(1).await;
    let id = f.post(1, 1).await;
    let doctor = &f.doctors[0];
    doctor.claim_seat(id).await.unwrap();
    let (salt, _) = doctor.commit(id, 1).await.unwrap();
    assert_eq!(doctor.recover_vote(id).await.unwrap(), (1, salt));
    // A different wallet cannot recover it, even knowing the task.
    let err = f.hospital.recover_vote(id).await.unwrap_err();
    assert!(matches!(err, MarketError::NotCommitted(_)), "{err}");
}

#[tokio::test]
async fn wrong_chain_and_missing_contracts_are_named() {
    let f = fixture(0).await;
    let url = f.url.clone();
    let mut other_chain = f.deployment.clone();
    other_chain.chain_id = 1;
    let err = MarketClient::connect(&url, PrivateKeySigner::random(), other_chain).await.unwrap_err();
    assert!(matches!(err, MarketError::WrongChain { expected: 1, actual: 31337 }), "{err}");
    let mut stale = f.deployment.clone();
    stale.market = Address::repeat_byte(0x42);
    let err = MarketClient::connect(&url, PrivateKeySigner::random(), stale).await.unwrap_err();
    assert!(matches!(err, MarketError::NotDeployed(_)), "{err}");
    let err = MarketClient::connect("http://127.0.0.1:1", PrivateKeySigner::random(), f.deployment.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("cannot reach the chain at http://127.0.0.1:1"), "{err}");
}

#[tokio::test]
async fn insufficient_balance_is_caught_before_sending() {
    let f = fixture(1).await;
    let id = f.post(1, 1).await;
    let doctor = &f.doctors[0];
    let everything = doctor.token_balance(f.token, doctor.address()).await.unwrap();
    alloy::sol! {
        #[sol(rpc)]
        interface Transfer { function transfer(address to, uint256 amount) external returns (bool); }
    }
    Transfer::new(f.token, doctor.provider())
        .transfer(f.hospital.address(), everything)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let err = doctor.claim_seat(id).await.unwrap_err();
    assert!(matches!(err, MarketError::InsufficientBalance { .. }), "{err}");
    assert!(err.to_string().contains("fund the account first"));
}
