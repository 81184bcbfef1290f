//! The Rust deployment ends with the roles of `contracts/script/Deploy.s.sol`: when the admin
//! and the issuer are not the deployer, it hands their roles over and keeps none.

use alloy::{
    primitives::{keccak256, Address, B256, U256},
    providers::{DynProvider, Provider},
    signers::local::PrivateKeySigner,
};
use crypdoc_contracts::{
    bindings::{IAccessControl, IDoctorRegistry, IPauserRole},
    deploy::{deploy_as, deploy_with_roles, sender, Roles, DEV_MIN_REPUTATION_BOUNTY},
    devnet::Anvil,
    wallet_provider, Deployment, MarketClient,
};

/// The role ids, as `Deploy.s.sol` reads them from the contracts.
struct RoleIds {
    admin: B256,
    pauser: B256,
    issuer: B256,
}

struct Chain {
    _anvil: Anvil,
    _dir: tempfile::TempDir,
    url: String,
    /// Sends the deployment, from a fresh funded key (not one of anvil's own accounts, so the
    /// deployer is the wallet's signer, not the node's first account).
    deployer: PrivateKeySigner,
    provider: DynProvider,
}

async fn fund(provider: &DynProvider, who: Address) {
    provider
        .raw_request::<_, ()>("anvil_setBalance".into(), (who, U256::from(10u128.pow(20))))
        .await
        .unwrap();
}

async fn chain() -> Chain {
    let dir = tempfile::tempdir().unwrap();
    let anvil =
        Anvil::spawn(&dir.path().join("anvil.log"), true).await.expect("anvil starts (run `npm ci` first)");
    let deployer = PrivateKeySigner::random();
    let provider = wallet_provider(&anvil.endpoint(), deployer.clone()).unwrap();
    fund(&provider, deployer.address()).await;
    Chain { url: anvil.endpoint(), _anvil: anvil, _dir: dir, deployer, provider }
}

async fn role_ids(provider: &DynProvider, d: &Deployment) -> RoleIds {
    let ids = RoleIds {
        admin: IAccessControl::new(d.market, provider).DEFAULT_ADMIN_ROLE().call().await.unwrap(),
        pauser: IPauserRole::new(d.market, provider).PAUSER_ROLE().call().await.unwrap(),
        issuer: IDoctorRegistry::new(d.registry, provider).CREDENTIAL_ISSUER_ROLE().call().await.unwrap(),
    };
    assert_eq!(ids.admin, B256::ZERO);
    assert_eq!(ids.pauser, keccak256("PAUSER_ROLE"));
    assert_eq!(ids.issuer, keccak256("CREDENTIAL_ISSUER_ROLE"));
    ids
}

/// Which of the four roles `who` holds: (registry admin, credential issuer, market admin, pauser).
async fn roles_of(provider: &DynProvider, d: &Deployment, who: Address) -> (bool, bool, bool, bool) {
    let ids = role_ids(provider, d).await;
    let registry = IAccessControl::new(d.registry, provider);
    let market = IAccessControl::new(d.market, provider);
    (
        registry.hasRole(ids.admin, who).call().await.unwrap(),
        registry.hasRole(ids.issuer, who).call().await.unwrap(),
        market.hasRole(ids.admin, who).call().await.unwrap(),
        market.hasRole(ids.pauser, who).call().await.unwrap(),
    )
}

#[tokio::test]
async fn a_separate_admin_and_issuer_get_the_script_roles_and_the_deployer_keeps_none() {
    let c = chain().await;
    let admin = PrivateKeySigner::random();
    let issuer = PrivateKeySigner::random();
    assert_eq!(sender(&c.provider).await.unwrap(), c.deployer.address());
    let d = deploy_with_roles(&c.provider, Roles { admin: admin.address(), issuer: issuer.address() }, true)
        .await
        .unwrap();

    // ADMIN: DEFAULT_ADMIN_ROLE on both contracts and PAUSER_ROLE on the market.
    assert_eq!(roles_of(&c.provider, &d, admin.address()).await, (true, false, true, true));
    // ISSUER: CREDENTIAL_ISSUER_ROLE only.
    assert_eq!(roles_of(&c.provider, &d, issuer.address()).await, (false, true, false, false));
    // The deployer renounced everything.
    assert_eq!(roles_of(&c.provider, &d, c.deployer.address()).await, (false, false, false, false));

    // The wiring before the hand-off took effect.
    let market = crypdoc_contracts::bindings::IDiagnosisMarket::new(d.market, &c.provider);
    let token = d.stablecoin.expect("a dev stablecoin");
    assert!(market.isTokenAllowed(token).call().await.unwrap());
    assert_eq!(
        market.minReputationBounty(token).call().await.unwrap().to::<u128>(),
        DEV_MIN_REPUTATION_BOUNTY
    );

    // And the roles work: the issuer accredits, the admin (who owns the stablecoin) mints and
    // pauses; the deployer can no longer do either.
    fund(&c.provider, admin.address()).await;
    fund(&c.provider, issuer.address()).await;
    let as_admin = MarketClient::connect(&c.url, admin.clone(), d.clone()).await.unwrap();
    let as_issuer = MarketClient::connect(&c.url, issuer, d.clone()).await.unwrap();
    let as_deployer = MarketClient::connect(&c.url, c.deployer.clone(), d.clone()).await.unwrap();
    let now = as_admin.chain_time().await.unwrap();
    let doctor = Address::repeat_byte(0xd0);
    as_issuer.accredit(doctor, keccak256("licence"), now + 86_400).await.unwrap();
    as_deployer
        .accredit(Address::repeat_byte(0xd1), keccak256("licence"), now + 86_400)
        .await
        .expect_err("the deployer renounced the issuer role");
    as_admin.mint_stablecoin(admin.address(), U256::from(1_000_000u64)).await.unwrap();
    as_deployer
        .mint_stablecoin(c.deployer.address(), U256::from(1_000_000u64))
        .await
        .expect_err("the stablecoin's owner is the admin");
    let admin_market = crypdoc_contracts::bindings::IDiagnosisMarket::new(d.market, as_admin.provider());
    let deployer_market = crypdoc_contracts::bindings::IDiagnosisMarket::new(d.market, &c.provider);
    assert!(deployer_market.pause().call().await.is_err(), "the deployer renounced the pauser role");
    let receipt = admin_market.pause().send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status(), "the admin pauses");
}

#[tokio::test]
async fn deploy_as_another_admin_makes_it_admin_pauser_and_issuer() {
    let c = chain().await;
    let admin = Address::repeat_byte(0xad);
    let d = deploy_as(&c.provider, admin, false).await.unwrap();
    assert_eq!(d.stablecoin, None);
    assert_eq!(roles_of(&c.provider, &d, admin).await, (true, true, true, true));
    assert_eq!(roles_of(&c.provider, &d, c.deployer.address()).await, (false, false, false, false));
}

#[tokio::test]
async fn deploy_as_the_deployer_hands_nothing_over() {
    let c = chain().await;
    let d = deploy_as(&c.provider, c.deployer.address(), false).await.unwrap();
    assert_eq!(roles_of(&c.provider, &d, c.deployer.address()).await, (true, true, true, true));
}
