// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console} from "forge-std/Script.sol";

import {DiagnosisMarket} from "../src/DiagnosisMarket.sol";
import {DoctorRegistry} from "../src/DoctorRegistry.sol";
import {ReputationToken} from "../src/ReputationToken.sol";
import {TestStablecoin} from "../src/dev/TestStablecoin.sol";

/// @notice Deploys DoctorRegistry and DiagnosisMarket (which creates its own ReputationToken and
/// is its only minter, for good), and (by default) a 6-decimal test stablecoin, allow-listed for
/// bounties with a minimum bounty that earns reputation.
///
/// Environment (all optional):
///   ADMIN          holder of the market's admin and pauser roles and the registry's admin role
///                  (default: the broadcaster)
///   ISSUER         holder of the credential issuer role (default: the broadcaster)
///   HOSPITAL       an account to accredit as a hospital for a year (default: none)
///   STABLECOIN     address of an existing ERC20 to allow-list instead of deploying one
///   DEPLOY_STABLECOIN  deploy TestStablecoin when STABLECOIN is unset (default: true)
///   STABLECOIN_MINT    amount of TestStablecoin minted to the broadcaster (default: 1,000,000 tUSD)
///   MIN_REPUTATION_BOUNTY  smallest bounty in the stablecoin whose task earns reputation
///                      (default: 10 tUSD = 10e6; zero: no task earns reputation)
///
///   forge script contracts/script/Deploy.s.sol --rpc-url $RPC --private-key $KEY --broadcast
contract Deploy is Script {
    /// @notice How long the HOSPITAL accreditation lasts.
    uint64 public constant HOSPITAL_ACCREDITATION = 365 days;

    struct Config {
        /// The account that sends the transactions; it holds every admin role only until it has
        /// wired everything, then hands them over.
        address deployer;
        address admin;
        address issuer;
        address hospital;
        address stablecoin;
        bool deployStablecoin;
        uint256 mintAmount;
        uint96 minReputationBounty;
    }

    struct Deployment {
        DoctorRegistry registry;
        ReputationToken reputation;
        DiagnosisMarket market;
        address stablecoin;
    }

    /// @notice MIN_REPUTATION_BOUNTY does not fit the market's uint96 bounties.
    /// @param minBounty The MIN_REPUTATION_BOUNTY that was given.
    error MinReputationBountyTooLarge(uint256 minBounty);

    function run() external returns (Deployment memory d) {
        uint256 minBounty = vm.envOr("MIN_REPUTATION_BOUNTY", uint256(10e6));
        if (minBounty > type(uint96).max) revert MinReputationBountyTooLarge(minBounty);
        vm.startBroadcast();
        (, address deployer,) = vm.readCallers();
        d = deploy(
            Config({
                deployer: deployer,
                admin: vm.envOr("ADMIN", deployer),
                issuer: vm.envOr("ISSUER", deployer),
                hospital: vm.envOr("HOSPITAL", address(0)),
                stablecoin: vm.envOr("STABLECOIN", address(0)),
                deployStablecoin: vm.envOr("DEPLOY_STABLECOIN", true),
                mintAmount: vm.envOr("STABLECOIN_MINT", uint256(1_000_000e6)),
                // forge-lint: disable-next-line(unsafe-typecast)
                minReputationBounty: uint96(minBounty)
            })
        );
        vm.stopBroadcast();

        console.log("DoctorRegistry  ", address(d.registry));
        console.log("ReputationToken ", address(d.reputation));
        console.log("DiagnosisMarket ", address(d.market));
        console.log("Stablecoin      ", d.stablecoin);
    }

    /// @notice The deployment itself, callable from tests. `c.deployer` must be the account that
    /// sends the transactions.
    function deploy(Config memory c) public returns (Deployment memory d) {
        address deployer = c.deployer;
        // The deployer holds the registry's roles only long enough to accredit HOSPITAL.
        d.registry = new DoctorRegistry(deployer, deployer);
        d.market = new DiagnosisMarket(deployer, d.registry);
        d.reputation = ReputationToken(d.market.reputation());

        address stablecoin = c.stablecoin;
        if (stablecoin == address(0) && c.deployStablecoin) {
            TestStablecoin coin = new TestStablecoin(c.admin);
            if (c.admin == deployer && c.mintAmount != 0) coin.mint(deployer, c.mintAmount);
            stablecoin = address(coin);
        }
        if (stablecoin != address(0)) {
            d.market.setTokenAllowed(stablecoin, true);
            d.market.setMinReputationBounty(stablecoin, c.minReputationBounty);
        }
        d.stablecoin = stablecoin;

        if (c.hospital != address(0)) {
            d.registry
                .accreditHospital(
                    c.hospital,
                    keccak256(abi.encode("crypdoc.deploy.hospital", c.hospital)),
                    uint64(block.timestamp) + HOSPITAL_ACCREDITATION
                );
        }

        _handOver(d, deployer, c.admin, c.issuer);
    }

    /// @dev Gives every role to its holder and drops the deployer's, unless it is that holder.
    function _handOver(Deployment memory d, address deployer, address admin, address issuer) internal {
        bytes32 issuerRole = d.registry.CREDENTIAL_ISSUER_ROLE();
        if (issuer != deployer) {
            d.registry.grantRole(issuerRole, issuer);
            d.registry.renounceRole(issuerRole, deployer);
        }
        if (admin != deployer) {
            d.registry.grantRole(d.registry.DEFAULT_ADMIN_ROLE(), admin);
            d.registry.renounceRole(d.registry.DEFAULT_ADMIN_ROLE(), deployer);
            d.market.grantRole(d.market.PAUSER_ROLE(), admin);
            d.market.grantRole(d.market.DEFAULT_ADMIN_ROLE(), admin);
            d.market.renounceRole(d.market.PAUSER_ROLE(), deployer);
            d.market.renounceRole(d.market.DEFAULT_ADMIN_ROLE(), deployer);
        }
    }
}
