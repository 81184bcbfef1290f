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

    function setUp() public {
        script = new Deploy();
        deployer = address(script);
    }

    function test_deploy_broadcasterKeepsRolesWhenItIsAdmin() public {
        Deploy.Deployment memory d = script.deploy(deployer, deployer, deployer, address(0), true, 5e6);
        assertTrue(d.reputation.hasRole(d.reputation.MINTER_ROLE(), address(d.market)));
        assertTrue(d.market.hasRole(d.market.DEFAULT_ADMIN_ROLE(), deployer));
        assertTrue(d.market.hasRole(d.market.PAUSER_ROLE(), deployer));
        assertTrue(d.registry.hasRole(d.registry.CREDENTIAL_ISSUER_ROLE(), deployer));
        assertTrue(d.market.isTokenAllowed(d.stablecoin));
        assertEq(IERC20(d.stablecoin).balanceOf(deployer), 5e6);
        assertEq(address(d.market.registry()), address(d.registry));
        assertEq(address(d.market.reputation()), address(d.reputation));
    }

    function test_deploy_handsRolesToAdmin() public {
        Deploy.Deployment memory d = script.deploy(deployer, admin, issuer, address(0), true, 5e6);
        assertTrue(d.market.hasRole(d.market.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(d.market.hasRole(d.market.PAUSER_ROLE(), admin));
        assertFalse(d.market.hasRole(d.market.DEFAULT_ADMIN_ROLE(), deployer));
        assertFalse(d.market.hasRole(d.market.PAUSER_ROLE(), deployer));
        assertTrue(d.reputation.hasRole(d.reputation.DEFAULT_ADMIN_ROLE(), admin));
        assertFalse(d.reputation.hasRole(d.reputation.DEFAULT_ADMIN_ROLE(), deployer));
        assertTrue(d.reputation.hasRole(d.reputation.MINTER_ROLE(), address(d.market)));
        assertTrue(d.registry.hasRole(d.registry.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(d.registry.hasRole(d.registry.CREDENTIAL_ISSUER_ROLE(), issuer));
        assertTrue(d.market.isTokenAllowed(d.stablecoin));
        // Only the coin's owner (the admin) mints; the deployer got nothing.
        assertEq(IERC20(d.stablecoin).balanceOf(deployer), 0);
    }

    function test_deploy_allowListsAnExistingToken() public {
        address token = makeAddr("usdc");
        Deploy.Deployment memory d = script.deploy(deployer, admin, issuer, token, true, 0);
        assertEq(d.stablecoin, token);
        assertTrue(d.market.isTokenAllowed(token));
    }

    function test_deploy_withoutStablecoin() public {
        Deploy.Deployment memory d = script.deploy(deployer, admin, issuer, address(0), false, 0);
        assertEq(d.stablecoin, address(0));
    }
}
