// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Test} from "forge-std/Test.sol";

import {Deploy} from "../../script/Deploy.s.sol";

/// @dev In these tests the script contract sends the deployment calls, so it is the deployer.
contract DeployTest is Test {
    Deploy internal script;
    address internal deployer;
    address internal admin = makeAddr("admin");
    address internal issuer = makeAddr("issuer");
    address internal hospital = makeAddr("hospital");

    function setUp() public {
        script = new Deploy();
        deployer = address(script);
    }

    function _config(address admin_, address issuer_) internal view returns (Deploy.Config memory c) {
        c = Deploy.Config({
            deployer: deployer,
            admin: admin_,
            issuer: issuer_,
            hospital: address(0),
            stablecoin: address(0),
            deployStablecoin: true,
            mintAmount: 5e6,
            minReputationBounty: 10e6
        });
    }

    function test_deploy_broadcasterKeepsRolesWhenItIsAdmin() public {
        Deploy.Deployment memory d = script.deploy(_config(deployer, deployer));
        assertEq(d.reputation.minter(), address(d.market));
        assertTrue(d.market.hasRole(d.market.DEFAULT_ADMIN_ROLE(), deployer));
        assertTrue(d.market.hasRole(d.market.PAUSER_ROLE(), deployer));
        assertTrue(d.registry.hasRole(d.registry.DEFAULT_ADMIN_ROLE(), deployer));
        assertTrue(d.registry.hasRole(d.registry.CREDENTIAL_ISSUER_ROLE(), deployer));
        assertTrue(d.market.isTokenAllowed(d.stablecoin));
        assertEq(d.market.minReputationBounty(d.stablecoin), 10e6);
        assertEq(IERC20(d.stablecoin).balanceOf(deployer), 5e6);
        assertEq(d.market.registry(), address(d.registry));
        assertEq(d.market.reputation(), address(d.reputation));
    }

    function test_deploy_handsRolesToAdmin() public {
        Deploy.Deployment memory d = script.deploy(_config(admin, issuer));
        assertTrue(d.market.hasRole(d.market.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(d.market.hasRole(d.market.PAUSER_ROLE(), admin));
        assertFalse(d.market.hasRole(d.market.DEFAULT_ADMIN_ROLE(), deployer));
        assertFalse(d.market.hasRole(d.market.PAUSER_ROLE(), deployer));
        assertTrue(d.registry.hasRole(d.registry.DEFAULT_ADMIN_ROLE(), admin));
        assertFalse(d.registry.hasRole(d.registry.DEFAULT_ADMIN_ROLE(), deployer));
        assertTrue(d.registry.hasRole(d.registry.CREDENTIAL_ISSUER_ROLE(), issuer));
        assertFalse(d.registry.hasRole(d.registry.CREDENTIAL_ISSUER_ROLE(), deployer));
        // The reputation token has no roles at all: its minter is the market, for good.
        assertEq(d.reputation.minter(), address(d.market));
        assertTrue(d.market.isTokenAllowed(d.stablecoin));
        assertEq(d.market.minReputationBounty(d.stablecoin), 10e6);
        // Only the coin's owner (the admin) mints; the deployer got nothing.
        assertEq(IERC20(d.stablecoin).balanceOf(deployer), 0);
    }

    function test_deploy_issuerOnlyHandedOver() public {
        Deploy.Deployment memory d = script.deploy(_config(deployer, issuer));
        assertTrue(d.registry.hasRole(d.registry.DEFAULT_ADMIN_ROLE(), deployer));
        assertTrue(d.registry.hasRole(d.registry.CREDENTIAL_ISSUER_ROLE(), issuer));
        assertFalse(d.registry.hasRole(d.registry.CREDENTIAL_ISSUER_ROLE(), deployer));
        assertTrue(d.market.hasRole(d.market.DEFAULT_ADMIN_ROLE(), deployer));
    }

    function test_deploy_accreditsHospital() public {
        Deploy.Config memory c = _config(admin, issuer);
        c.hospital = hospital;
        Deploy.Deployment memory d = script.deploy(c);
        assertTrue(d.registry.isAccreditedHospital(hospital));
        assertFalse(d.registry.isAccredited(hospital));
        assertEq(
            d.registry.credentialOf(hospital).expiresAt, block.timestamp + script.HOSPITAL_ACCREDITATION()
        );
        // The deployer kept no role it used to accredit.
        assertFalse(d.registry.hasRole(d.registry.CREDENTIAL_ISSUER_ROLE(), deployer));
    }

    function test_deploy_allowListsAnExistingToken() public {
        address token = makeAddr("usdc");
        Deploy.Config memory c = _config(admin, issuer);
        c.stablecoin = token;
        c.mintAmount = 0;
        c.minReputationBounty = 25e6;
        Deploy.Deployment memory d = script.deploy(c);
        assertEq(d.stablecoin, token);
        assertTrue(d.market.isTokenAllowed(token));
        assertEq(d.market.minReputationBounty(token), 25e6);
    }

    function test_deploy_withoutStablecoin() public {
        Deploy.Config memory c = _config(admin, issuer);
        c.deployStablecoin = false;
        c.mintAmount = 0;
        Deploy.Deployment memory d = script.deploy(c);
        assertEq(d.stablecoin, address(0));
    }

    /// @dev One test for every environment-driven run, since the environment is shared by all tests.
    function test_run_readsEnvironment() public {
        vm.setEnv("MIN_REPUTATION_BOUNTY", vm.toString(uint256(type(uint96).max) + 1));
        vm.expectRevert(
            abi.encodeWithSelector(Deploy.MinReputationBountyTooLarge.selector, uint256(type(uint96).max) + 1)
        );
        script.run();

        vm.setEnv("MIN_REPUTATION_BOUNTY", "10000000");
        vm.setEnv("HOSPITAL", vm.toString(hospital));
        Deploy.Deployment memory d = script.run();
        assertTrue(d.registry.isAccreditedHospital(hospital));
        assertEq(d.market.minReputationBounty(d.stablecoin), 10e6);
        assertEq(d.reputation.minter(), address(d.market));
        vm.setEnv("HOSPITAL", vm.toString(address(0)));
    }
}
