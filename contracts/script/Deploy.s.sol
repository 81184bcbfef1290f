// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console} from "forge-std/Script.sol";

import {DiagnosisMarket} from "../src/DiagnosisMarket.sol";
import {DoctorRegistry} from "../src/DoctorRegistry.sol";
import {ReputationToken} from "../src/ReputationToken.sol";
import {TestStablecoin} from "../src/dev/TestStablecoin.sol";

/// @notice Deploys DoctorRegistry, ReputationToken and DiagnosisMarket, gives the market the
/// reputation minter role, and (by default) a 6-decimal test stablecoin allow-listed for bounties.
///
/// Environment (all optional):
///   ADMIN          holder of the admin and pauser roles (default: the broadcaster)
///   ISSUER         holder of the credential issuer role (default: the broadcaster)
///   STABLECOIN     address of an existing ERC20 to allow-list instead of deploying one
///   DEPLOY_STABLECOIN  deploy TestStablecoin when STABLECOIN is unset (default: true)
///   STABLECOIN_MINT    amount of TestStablecoin minted to the broadcaster (default: 1,000,000 tUSD)
///
///   forge script contracts/script/Deploy.s.sol --rpc-url $RPC --private-key $KEY --broadcast
contract Deploy is Script {
    struct Deployment {
        DoctorRegistry registry;
        ReputationToken reputation;
        DiagnosisMarket market;
        address stablecoin;
    }

    function run() external returns (Deployment memory d) {
        vm.startBroadcast();
        (, address deployer,) = vm.readCallers();
        d = deploy(
            deployer,
            vm.envOr("ADMIN", deployer),
            vm.envOr("ISSUER", deployer),
            vm.envOr("STABLECOIN", address(0)),
            vm.envOr("DEPLOY_STABLECOIN", true),
            vm.envOr("STABLECOIN_MINT", uint256(1_000_000e6))
        );
        vm.stopBroadcast();

        console.log("DoctorRegistry  ", address(d.registry));
        console.log("ReputationToken ", address(d.reputation));
        console.log("DiagnosisMarket ", address(d.market));
        console.log("Stablecoin      ", d.stablecoin);
    }

    /// @notice The deployment itself, callable from tests. `deployer` must be the account that
    /// sends the transactions: it holds the admin roles only until it has wired everything, then
    /// hands them to `admin`.
    function deploy(
        address deployer,
        address admin,
        address issuer,
        address stablecoin,
        bool deployStablecoin,
        uint256 mintAmount
    ) public returns (Deployment memory d) {
        d.registry = new DoctorRegistry(admin, issuer);
        d.reputation = new ReputationToken(deployer);
        d.market = new DiagnosisMarket(deployer, d.registry, d.reputation);
        d.reputation.grantRole(d.reputation.MINTER_ROLE(), address(d.market));

        if (stablecoin == address(0) && deployStablecoin) {
            TestStablecoin coin = new TestStablecoin(admin);
            if (admin == deployer && mintAmount != 0) coin.mint(deployer, mintAmount);
            stablecoin = address(coin);
        }
        if (stablecoin != address(0)) d.market.setTokenAllowed(stablecoin, true);
        d.stablecoin = stablecoin;

        if (admin != deployer) {
            d.reputation.grantRole(d.reputation.DEFAULT_ADMIN_ROLE(), admin);
            d.reputation.renounceRole(d.reputation.DEFAULT_ADMIN_ROLE(), deployer);
            d.market.grantRole(d.market.PAUSER_ROLE(), admin);
            d.market.grantRole(d.market.DEFAULT_ADMIN_ROLE(), admin);
            d.market.renounceRole(d.market.PAUSER_ROLE(), deployer);
            d.market.renounceRole(d.market.DEFAULT_ADMIN_ROLE(), deployer);
        }
    }
}
