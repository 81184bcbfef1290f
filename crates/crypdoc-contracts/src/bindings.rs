//! Contract bindings. Interfaces come from the `.sol` files so that NatSpec, errors and events
//! have one source; bytecode comes from forge's artifacts (`forge build` runs first).

#![allow(missing_docs, unreachable_pub, missing_debug_implementations, clippy::too_many_arguments)]

use alloy::{primitives::Bytes, sol};
use std::sync::LazyLock;

sol!(
    #[sol(rpc, all_derives)]
    "../../contracts/src/interfaces/IDiagnosisMarket.sol"
);

sol!(
    #[sol(rpc, all_derives)]
    "../../contracts/src/interfaces/IDoctorRegistry.sol"
);

sol!(
    #[sol(rpc, all_derives)]
    "../../contracts/src/interfaces/IReputationToken.sol"
);

sol! {
    /// The ERC20 surface the market's tokens need, plus the dev stablecoin's mint.
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    interface IERC20 {
        function approve(address spender, uint256 amount) external returns (bool);
        function allowance(address owner, address spender) external view returns (uint256);
        function balanceOf(address account) external view returns (uint256);
        function transfer(address to, uint256 amount) external returns (bool);
        function decimals() external view returns (uint8);
        function symbol() external view returns (string memory);
        function mint(address to, uint256 amount) external;
    }

    /// OpenZeppelin AccessControl, as the registry and the market inherit it: the role checks
    /// and the calls of the deployment's role hand-off (`contracts/script/Deploy.s.sol`).
    #[sol(rpc)]
    interface IAccessControl {
        function DEFAULT_ADMIN_ROLE() external view returns (bytes32);
        function hasRole(bytes32 role, address account) external view returns (bool);
        function grantRole(bytes32 role, address account) external;
        function renounceRole(bytes32 role, address callerConfirmation) external;
    }

    /// The market's pauser role (a constant of `DiagnosisMarket`, not of its interface).
    #[sol(rpc)]
    interface IPauserRole {
        function PAUSER_ROLE() external view returns (bytes32);
    }

    /// Errors raised by OpenZeppelin code inside the contracts and by ERC20 tokens.
    #[sol(all_derives)]
    interface OpenZeppelinErrors {
        error AccessControlUnauthorizedAccount(address account, bytes32 neededRole);
        error EnforcedPause();
        error ExpectedPause();
        /// Every state-changing market entry point is `nonReentrant` (ReentrancyGuardTransient).
        error ReentrancyGuardReentrantCall();
        error SafeERC20FailedOperation(address token);
        error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed);
        error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed);
        error OwnableUnauthorizedAccount(address account);
    }
}

/// Creation bytecode of a contract, read from its forge artifact.
fn creation_code(artifact: &str) -> Bytes {
    let json: serde_json::Value = serde_json::from_str(artifact).expect("forge artifact is JSON");
    let hex = json["bytecode"]["object"].as_str().expect("forge artifact has bytecode.object");
    hex.parse().expect("forge artifact bytecode is hex")
}

/// `DoctorRegistry` creation code.
pub static DOCTOR_REGISTRY_CODE: LazyLock<Bytes> =
    LazyLock::new(|| creation_code(include_str!("../../../out/DoctorRegistry.sol/DoctorRegistry.json")));
/// `DiagnosisMarket` creation code.
pub static DIAGNOSIS_MARKET_CODE: LazyLock<Bytes> =
    LazyLock::new(|| creation_code(include_str!("../../../out/DiagnosisMarket.sol/DiagnosisMarket.json")));
/// `TestStablecoin` creation code (dev chains only).
pub static TEST_STABLECOIN_CODE: LazyLock<Bytes> =
    LazyLock::new(|| creation_code(include_str!("../../../out/TestStablecoin.sol/TestStablecoin.json")));
