//! The whole task lifecycle against a real anvil, through [`MarketClient`]. Time moves with
//! anvil's `evm_increaseTime`, never by sleeping, and always to a deadline read from the chain.

use alloy::{
    primitives::{keccak256, Address, B256, U256},
    providers::{DynProvider, Provider},
    signers::local::PrivateKeySigner,
};
use crypdoc_contracts::{
    bindings::{
        IAccessControl,
        IDiagnosisMarket::{IDiagnosisMarketErrors as M, Phase, TaskParams},
        IDoctorRegistry::{IDoctorRegistryErrors as R, Role},
        IReputationToken, IERC20,
    },
    deploy::{deploy_as, DEV_MIN_REPUTATION_BOUNTY},
    devnet::{Anvil, ANVIL_CHAIN_ID, ANVIL_DEPLOYER_KEY},
    wallet_provider, CallError, Deployment, MarketClient, MarketError, MarketLimits, Revert,
    POSTING_LEAD_SECS,
};
use crypdoc_types::{
    commitment, ConfidenceBps, DiagnosisSet, TaskSpec, TaskSpecError, Window,
    DEFAULT_MIN_REPUTATION_WINDOW_SECS, FILL_WINDOW_SECS, MAX_COMMIT_WINDOW_SECS, MAX_REVEAL_WINDOW_SECS,
    MIN_REPUTATION_SEATS,
};

const TUSD: u128 = 1_000_000;
const BOUNTY: u128 = 100 * TUSD + 3; // + 3 so the 4-way split leaves dust for the poster
const STAKE: u128 = 5 * TUSD;
const HOUR: u64 = 3600;
const SCAN_CID: &str = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";

struct Fixture {
    _anvil: Anvil,
    _dir: tempfile::TempDir,
    provider: DynProvider,
    url: String,
    deployment: Deployment,
    admin: MarketClient,
    hospital: MarketClient,
    doctors: Vec<MarketClient>,
    token: Address,
}

async fn fixture(doctor_count: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let anvil =
        Anvil::spawn(&dir.path().join("anvil.log"), true).await.expect("anvil starts (run `npm ci` first)");
    let deployer: PrivateKeySigner = ANVIL_DEPLOYER_KEY.parse().unwrap();
    let provider = wallet_provider(&anvil.endpoint(), deployer.clone()).unwrap();
    let deployment = deploy_as(&provider, deployer.address(), true).await.unwrap();
    let admin = MarketClient::connect(&anvil.endpoint(), deployer, deployment.clone()).await.unwrap();
    let token = deployment.stablecoin.unwrap();
    let now = admin.chain_time().await.unwrap();

    let mut clients = Vec::new();
    for i in 0..=doctor_count {
        let client = funded(&provider, &admin, &anvil.endpoint(), &deployment).await;
        if i == 0 {
            // Only accredited hospitals may post tasks.
            admin
                .accredit_hospital(client.address(), keccak256("hospital licence"), now + 365 * 24 * HOUR)
                .await
                .unwrap();
        } else {
            admin
                .accredit(client.address(), keccak256(format!("licence {i}")), now + 365 * 24 * HOUR)
                .await
                .unwrap();
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
        admin,
        hospital,
        doctors: clients,
        token,
    }
}

/// A new wallet with gas and 1,000 tUSD, accredited as nothing.
async fn funded(
    provider: &DynProvider,
    admin: &MarketClient,
    url: &str,
    deployment: &Deployment,
) -> MarketClient {
    let signer = PrivateKeySigner::random();
    let address = signer.address();
    provider
        .raw_request::<_, ()>("anvil_setBalance".into(), (address, U256::from(10u128.pow(20))))
        .await
        .unwrap();
    admin.mint_stablecoin(address, U256::from(1_000 * TUSD)).await.unwrap();
    MarketClient::connect(url, signer, deployment.clone()).await.unwrap()
}

fn spec(seats: u8, quorum: u8) -> TaskSpec {
    TaskSpec {
        scan_cid: SCAN_CID.into(),
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
    }
}

impl Fixture {
    async fn post(&self, seats: u8, quorum: u8) -> U256 {
        self.hospital.post_task(&spec(seats, quorum), self.token).await.unwrap().0
    }

    async fn advance(&self, seconds: u64) {
        self.provider.raw_request::<_, i64>("evm_increaseTime".into(), (seconds,)).await.unwrap();
        self.provider.raw_request::<_, String>("evm_mine".into(), ()).await.unwrap();
    }

    /// Moves chain time to `deadline` (unix seconds), the first second at which it has passed.
    async fn advance_to(&self, deadline: u64) {
        let now = self.hospital.chain_time().await.unwrap();
        assert!(deadline > now, "deadline {deadline} already passed at {now}");
        self.advance(deadline - now).await;
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
    f.advance_to(f.hospital.task(id).await.unwrap().revealDeadline.to()).await;
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
    // A commit window shorter than the fill window: the task may be cancelled at its commit
    // deadline.
    let task = f.hospital.task(id).await.unwrap();
    assert_eq!(task.fillDeadline, task.commitDeadline);
    f.advance_to(task.fillDeadline.to()).await;
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
    assert!(matches!(err.revert(), Some(Revert::Market(M::CommitmentMismatch(_)))), "{err:?}");
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

#[tokio::test]
async fn the_deployment_has_the_deploy_script_roles_and_the_mirrored_limits() {
    let f = fixture(0).await;
    let admin = f.admin.address();
    let d = &f.deployment;
    let has = |contract: Address, role: B256, who: Address| {
        let access = IAccessControl::new(contract, f.provider.clone());
        async move { access.hasRole(role, who).call().await.unwrap() }
    };
    // As contracts/script/Deploy.s.sol with ADMIN = ISSUER = the deployer.
    assert!(has(d.registry, B256::ZERO, admin).await, "registry admin");
    assert!(has(d.registry, keccak256("CREDENTIAL_ISSUER_ROLE"), admin).await, "credential issuer");
    assert!(has(d.market, B256::ZERO, admin).await, "market admin");
    assert!(has(d.market, keccak256("PAUSER_ROLE"), admin).await, "pauser");
    // The market created the token and is its only minter, for good.
    assert_eq!(f.admin.market().reputation().call().await.unwrap(), d.reputation);
    assert_eq!(f.admin.market().registry().call().await.unwrap(), d.registry);
    let token = IReputationToken::new(d.reputation, f.provider.clone());
    assert_eq!(token.minter().call().await.unwrap(), d.market);
    // Nobody else can mint, not even the admin: the refusal is decoded.
    let err = CallError::from(
        token
            .mintBatch(vec![admin], U256::from(1))
            .from(admin)
            .call()
            .await
            .err()
            .expect("the admin is not the minter"),
    );
    assert_eq!(err.to_string(), format!("{admin} cannot mint reputation: only the market that created the token mints it, when a task is finalized"));
    // The dev stablecoin is allow-listed and its tasks can earn reputation.
    assert!(f.admin.market().isTokenAllowed(f.token).call().await.unwrap());
    assert_eq!(f.admin.min_reputation_bounty(f.token).await.unwrap(), DEV_MIN_REPUTATION_BOUNTY);
    assert_eq!(f.admin.min_reputation_window().await.unwrap(), DEFAULT_MIN_REPUTATION_WINDOW_SECS);
    // The constants crypdoc-types checks parameters against are the contract's.
    assert_eq!(
        f.admin.limits().await.unwrap(),
        MarketLimits {
            min_reputation_seats: MIN_REPUTATION_SEATS,
            max_commit_window_secs: MAX_COMMIT_WINDOW_SECS,
            max_reveal_window_secs: MAX_REVEAL_WINDOW_SECS,
            fill_window_secs: FILL_WINDOW_SECS,
        }
    );
}

#[tokio::test]
async fn a_poster_that_is_not_an_accredited_hospital_gets_the_decoded_sentence() {
    let f = fixture(1).await;
    let stranger = funded(&f.provider, &f.admin, &f.url, &f.deployment).await;
    let doctor = &f.doctors[0];
    for poster in [&stranger, doctor] {
        let err = poster.post_task(&spec(1, 1), f.token).await.unwrap_err();
        let who = poster.address();
        assert!(
            matches!(err.revert(), Some(Revert::Market(M::HospitalNotAccredited(e))) if e.poster == who),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{who} is not an accredited hospital, so it cannot post tasks: the credential issuer runs \
                 `crypdoc hospital accredit {who} --license TEXT`"
            )
        );
        // Refused before the approval: no transaction was sent for a post that could not go on.
        let erc20 = IERC20::new(f.token, f.provider.clone());
        assert_eq!(erc20.allowance(who, f.deployment.market).call().await.unwrap(), U256::ZERO);
    }

    // The contract raises the same error itself; its revert data decodes to the same sentence.
    let now = f.admin.chain_time().await.unwrap();
    let params = TaskParams {
        scanCid: SCAN_CID.into(),
        token: f.token,
        bounty: alloy::primitives::Uint::from(BOUNTY),
        stakePerSeat: alloy::primitives::Uint::from(STAKE),
        minReputation: 0,
        commitDeadline: alloy::primitives::Uint::from(now + HOUR),
        revealDeadline: alloy::primitives::Uint::from(now + 2 * HOUR),
        predictedClass: 1,
        confidenceBps: 7_200,
        numClasses: 2,
        seats: 1,
        quorum: 1,
    };
    let raw = CallError::from(
        stranger.market().postTask(params).from(stranger.address()).call().await.unwrap_err(),
    );
    assert!(
        matches!(raw.revert(), Some(Revert::Market(M::HospitalNotAccredited(e))) if e.poster == stranger.address()),
        "{raw:?}"
    );
    assert!(raw.to_string().contains("`crypdoc hospital accredit"), "{raw}");

    // One account cannot hold both roles.
    let err = f.admin.accredit_hospital(doctor.address(), keccak256("h"), now + HOUR).await.unwrap_err();
    assert!(
        matches!(err.revert(), Some(Revert::Registry(R::RoleConflict(e))) if e.held == Role::Doctor && e.requested == Role::Hospital),
        "{err:?}"
    );
    // Once accredited, the stranger posts.
    f.admin.accredit_hospital(stranger.address(), keccak256("h"), now + HOUR).await.unwrap();
    assert!(f.admin.is_accredited_hospital(stranger.address()).await.unwrap());
    assert!(!f.admin.is_accredited_doctor(stranger.address()).await.unwrap());
    let credential = f.admin.credential_of(stranger.address()).await.unwrap();
    assert_eq!(
        (credential.role, credential.revoked, credential.licenseHash),
        (Role::Hospital, false, keccak256("h"))
    );
    stranger.post_task(&spec(1, 1), f.token).await.unwrap();
}

#[tokio::test]
async fn an_unresolved_task_pays_the_forfeited_stakes_to_the_revealers() {
    let f = fixture(5).await;
    let id = f.post(5, 4).await;
    // Three reveal without reaching the quorum of four; two never reveal.
    let votes = [1u8, 1, 0, 0, 0];
    let mut salts = Vec::new();
    for (doctor, vote) in f.doctors.iter().zip(votes) {
        doctor.claim_seat(id).await.unwrap();
        salts.push(doctor.commit(id, vote).await.unwrap().0);
    }
    for ((doctor, vote), salt) in f.doctors.iter().zip(votes).zip(&salts).take(3) {
        doctor.reveal(id, vote, *salt).await.unwrap();
    }
    f.advance_to(f.hospital.task(id).await.unwrap().revealDeadline.to()).await;
    f.doctors[4].finalize(id).await.unwrap();
    assert_eq!(f.phase(id).await, Phase::Unresolved);

    let forfeited = 2 * STAKE;
    let share = forfeited / 3;
    for doctor in f.doctors.iter().take(3) {
        assert_eq!(
            f.credit(doctor).await,
            STAKE + share,
            "a revealer gets its stake and a third of the forfeits"
        );
        assert_eq!(doctor.reputation_of(doctor.address()).await.unwrap(), U256::ZERO);
    }
    for doctor in f.doctors.iter().skip(3) {
        assert_eq!(f.credit(doctor).await, 0, "a non-revealer forfeits its stake");
    }
    // The poster gets the bounty back and only the division's dust of the forfeits.
    assert_eq!(f.credit(&f.hospital).await, BOUNTY + forfeited % 3);
    for who in f.doctors.iter().take(3).chain([&f.hospital]) {
        who.withdraw(f.token).await.unwrap();
    }
    assert_eq!(f.hospital.token_balance(f.token, f.deployment.market).await.unwrap(), U256::ZERO);
}

#[tokio::test]
async fn a_task_below_the_reputation_minimum_pays_but_mints_nothing() {
    let f = fixture(3).await;
    // One seat: paid in full, no reputation.
    let id = f.post(1, 1).await;
    assert!(!f.hospital.task(id).await.unwrap().earnsReputation);
    let doctor = &f.doctors[0];
    doctor.claim_seat(id).await.unwrap();
    let (salt, _) = doctor.commit(id, 1).await.unwrap();
    doctor.reveal(id, 1, salt).await.unwrap();
    doctor.finalize(id).await.unwrap();
    assert_eq!(f.phase(id).await, Phase::Resolved);
    assert_eq!(f.credit(doctor).await, STAKE + BOUNTY);
    assert_eq!(doctor.reputation_of(doctor.address()).await.unwrap(), U256::ZERO);

    // Three seats decide on the bounty: one unit below the stablecoin's minimum earns nothing,
    // the minimum itself earns reputation.
    let mut below = spec(3, 2);
    below.bounty = DEV_MIN_REPUTATION_BOUNTY - 1;
    let (id, _) = f.hospital.post_task(&below, f.token).await.unwrap();
    assert!(!f.hospital.task(id).await.unwrap().earnsReputation);
    let mut at = below.clone();
    at.bounty = DEV_MIN_REPUTATION_BOUNTY;
    assert_eq!(at.commit_window_secs, DEFAULT_MIN_REPUTATION_WINDOW_SECS);
    let (id, _) = f.hospital.post_task(&at, f.token).await.unwrap();
    assert!(f.hospital.task(id).await.unwrap().earnsReputation);
    // The `at` task asked for exactly the minimum commit window (an hour) and earned it: the
    // client's posting lead keeps the window the market measures from the posting block at or
    // above the one asked for. One second less than the minimum, lead included, earns nothing.
    let mut short = at.clone();
    short.commit_window_secs = DEFAULT_MIN_REPUTATION_WINDOW_SECS - POSTING_LEAD_SECS - 1;
    let (id, _) = f.hospital.post_task(&short, f.token).await.unwrap();
    assert!(!f.hospital.task(id).await.unwrap().earnsReputation);
}

#[tokio::test]
async fn windows_beyond_the_market_maximum_are_refused_before_sending() {
    let f = fixture(0).await;
    let mut too_long = spec(1, 1);
    too_long.commit_window_secs = MAX_COMMIT_WINDOW_SECS + 1;
    let err = f.hospital.post_task(&too_long, f.token).await.unwrap_err();
    assert!(
        matches!(err, MarketError::InvalidTask(TaskSpecError::WindowTooLong { window: Window::Commit, .. })),
        "{err:?}"
    );
    // Exactly the maximum of both is accepted on chain (the posting lead never pushes the
    // commit window past it), and a long commit window caps the fill window.
    let mut longest = spec(1, 1);
    longest.commit_window_secs = MAX_COMMIT_WINDOW_SECS;
    longest.reveal_window_secs = MAX_REVEAL_WINDOW_SECS;
    let (id, _) = f.hospital.post_task(&longest, f.token).await.unwrap();
    let task = f.hospital.task(id).await.unwrap();
    assert!(task.fillDeadline < task.commitDeadline);
    assert_eq!(task.revealDeadline.to::<u64>() - task.commitDeadline.to::<u64>(), MAX_REVEAL_WINDOW_SECS);
}

#[tokio::test]
async fn a_commitment_computed_in_rust_reveals_only_for_its_chain_and_market() {
    let f = fixture(1).await;
    let doctor = &f.doctors[0];
    let d = &f.deployment;
    assert_eq!(d.chain_id, ANVIL_CHAIN_ID);

    // For the deployed market and chain id: identical to the contract's own computation, and it
    // reveals.
    let id = f.post(1, 1).await;
    doctor.claim_seat(id).await.unwrap();
    let salt = doctor.vote_salt(id).await.unwrap();
    let ours = commitment(d.chain_id, d.market, id, doctor.address(), 1, salt);
    let theirs = doctor.market().commitmentOf(id, doctor.address(), 1, salt).call().await.unwrap();
    assert_eq!(ours, theirs);
    assert_ne!(ours, commitment(d.chain_id, Address::repeat_byte(0x42), id, doctor.address(), 1, salt));
    send_commit(doctor, id, ours).await;
    doctor.reveal(id, 1, salt).await.unwrap();

    // The same vote committed for another chain id cannot be revealed here.
    let id = f.post(1, 1).await;
    doctor.claim_seat(id).await.unwrap();
    let salt = doctor.vote_salt(id).await.unwrap();
    send_commit(doctor, id, commitment(1, d.market, id, doctor.address(), 1, salt)).await;
    let err = doctor.reveal(id, 1, salt).await.unwrap_err();
    assert!(matches!(err.revert(), Some(Revert::Market(M::CommitmentMismatch(_)))), "{err:?}");
    // Nor recovered: no code of the set matches it on this chain.
    let err = doctor.recover_vote(id).await.unwrap_err();
    assert!(matches!(err, MarketError::SaltNotRecovered(_)), "{err}");
}

/// Commits `commitment` as computed by the test, bypassing the client's own computation.
async fn send_commit(doctor: &MarketClient, id: U256, commitment: B256) {
    doctor.market().commit(id, commitment).send().await.unwrap().get_receipt().await.unwrap();
}

#[tokio::test]
async fn the_admin_sets_the_reputation_minimums_for_tasks_posted_after() {
    let f = fixture(0).await;
    // A longer minimum window: an hour's commit window no longer earns reputation.
    f.admin.set_min_reputation_window(2 * HOUR).await.unwrap();
    assert_eq!(f.admin.min_reputation_window().await.unwrap(), 2 * HOUR);
    let id = f.post(3, 2).await;
    assert!(!f.hospital.task(id).await.unwrap().earnsReputation);
    // Longer than any commit window: refused before sending, with the contract's own error.
    let err = f.admin.set_min_reputation_window(MAX_COMMIT_WINDOW_SECS + 1).await.unwrap_err();
    assert!(matches!(err.revert(), Some(Revert::Market(M::ReputationWindowTooLong(_)))), "{err:?}");
    // A zero bounty minimum turns reputation off for the token.
    f.admin.set_min_reputation_window(HOUR).await.unwrap();
    f.admin.set_min_reputation_bounty(f.token, 0).await.unwrap();
    let id = f.post(3, 2).await;
    assert!(!f.hospital.task(id).await.unwrap().earnsReputation);
    f.admin.set_min_reputation_bounty(f.token, BOUNTY).await.unwrap();
    let id = f.post(3, 2).await;
    assert!(f.hospital.task(id).await.unwrap().earnsReputation);
    // Only the admin sets them.
    let err = f.hospital.set_min_reputation_bounty(f.token, 1).await.unwrap_err();
    assert!(err.to_string().contains("lacks the role"), "{err}");
}
