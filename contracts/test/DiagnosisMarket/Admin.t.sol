// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {DiagnosisMarket} from "../../src/DiagnosisMarket.sol";
import {ReputationToken} from "../../src/ReputationToken.sol";
import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

contract AdminTest is MarketFixture {
    function test_constructor_wiresRolesAndDependencies() public view {
        assertTrue(market.hasRole(market.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(market.hasRole(market.PAUSER_ROLE(), admin));
        assertEq(market.registry(), address(registry));
        assertEq(market.reputation(), address(rep));
        assertEq(market.taskCount(), 0);
        assertEq(market.MAX_SEATS(), 15);
        assertEq(market.MAX_CLASSES(), 16);
        assertEq(market.REPUTATION_PER_AGREEMENT(), 1);
    }

    function test_setTokenAllowed_togglesAndEmits() public {
        address token = makeAddr("token");
        assertFalse(market.isTokenAllowed(token));
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.TokenAllowed(token, true);
        vm.prank(admin);
        market.setTokenAllowed(token, true);
        assertTrue(market.isTokenAllowed(token));
        vm.prank(admin);
        market.setTokenAllowed(token, false);
        assertFalse(market.isTokenAllowed(token));
    }

    function test_setTokenAllowed_revertsWhen_notAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                stranger,
                market.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(stranger);
        market.setTokenAllowed(address(usdc), false);
    }

    function test_pause_blocksPostTaskAndClaimSeat() public {
        uint256 taskId = _postDefault();
        vm.expectEmit(address(market));
        emit Pausable.Paused(admin);
        vm.prank(admin);
        market.pause();
        assertTrue(market.paused());

        vm.expectRevert(Pausable.EnforcedPause.selector);
        _postDefault();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        _claim(taskId, doctors[0]);

        vm.expectEmit(address(market));
        emit Pausable.Unpaused(admin);
        vm.prank(admin);
        market.unpause();
        _claim(taskId, doctors[0]);
        assertEq(_postDefault(), 2);
    }

    function test_pause_neverBlocksTheWayOut() public {
        uint256 taskId = _postDefault();
        uint8[] memory votes = _votes5(1, 1, 1, 1, 2);
        _claimFirst(taskId, 5);
        vm.prank(admin);
        market.pause();
        // Commit, reveal, finalize, release and withdraw all still work.
        vm.prank(hospital);
        market.releaseKey(taskId, doctors[0], hex"01");
        for (uint256 i; i < 5; ++i) {
            _commit(taskId, doctors[i], votes[i]);
        }
        _revealAll(taskId, votes);
        _finalize(taskId);
        vm.prank(doctors[4]);
        assertEq(market.withdraw(address(usdc)), STAKE);
    }

    function test_pause_revertsWhen_notPauser() public {
        bytes32 role = market.PAUSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        market.pause();
    }

    function test_pause_revertsWhen_alreadyPaused() public {
        vm.startPrank(admin);
        market.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        market.pause();
        vm.stopPrank();
    }

    function test_unpause_revertsWhen_notPauser() public {
        vm.prank(admin);
        market.pause();
        bytes32 role = market.PAUSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        market.unpause();
    }

    function test_unpause_revertsWhen_notPaused() public {
        vm.expectRevert(Pausable.ExpectedPause.selector);
        vm.prank(admin);
        market.unpause();
    }

    // ------------------------------------------------- reputation minimums

    function test_constructor_setsReputationDefaults() public {
        assertEq(market.MIN_REPUTATION_SEATS(), 3);
        assertEq(market.MAX_COMMIT_WINDOW(), 30 days);
        assertEq(market.MAX_REVEAL_WINDOW(), 30 days);
        assertEq(market.FILL_WINDOW(), 7 days);
        assertEq(market.minReputationWindow(), 1 hours);
        assertEq(rep.minter(), address(market));
        // A fresh market promises reputation for no token until the admin sets a minimum.
        DiagnosisMarket fresh = new DiagnosisMarket(admin, registry);
        assertEq(fresh.minReputationBounty(address(usdc)), 0);
        assertEq(ReputationToken(fresh.reputation()).minter(), address(fresh));
    }

    function test_setMinReputationBounty_setsAndEmits() public {
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.MinReputationBountySet(address(feeToken), 7e6);
        vm.prank(admin);
        market.setMinReputationBounty(address(feeToken), 7e6);
        assertEq(market.minReputationBounty(address(feeToken)), 7e6);
        assertEq(market.minReputationBounty(address(usdc)), MIN_REP_BOUNTY);
    }

    function test_setMinReputationBounty_revertsWhen_notAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                hospital,
                market.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(hospital);
        market.setMinReputationBounty(address(usdc), 1);
    }

    function test_setMinReputationWindow_setsAndEmits() public {
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.MinReputationWindowSet(30 days);
        vm.prank(admin);
        market.setMinReputationWindow(30 days);
        assertEq(market.minReputationWindow(), 30 days);
    }

    function test_setMinReputationWindow_revertsWhen_longerThanCommitWindow() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.ReputationWindowTooLong.selector, uint40(30 days + 1), uint40(30 days)
            )
        );
        vm.prank(admin);
        market.setMinReputationWindow(30 days + 1);
    }

    function test_setMinReputationWindow_revertsWhen_notAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                stranger,
                market.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(stranger);
        market.setMinReputationWindow(1);
    }

    /// @dev Minimums apply when a task is posted: changing them later neither takes reputation
    /// away from a running task nor grants it to one posted below the old minimum.
    function test_setMinReputationBounty_doesNotChangePostedTasks() public {
        uint256 earning = _postDefault();
        vm.prank(admin);
        market.setMinReputationBounty(address(usdc), 0);
        uint256 notEarning = _postDefault();
        assertTrue(market.getTask(earning).earnsReputation);
        assertFalse(market.getTask(notEarning).earnsReputation);

        uint8[] memory votes = _votes5(1, 1, 1, 1, 1);
        _seatAndCommit(earning, votes);
        _revealAll(earning, votes);
        _finalize(earning);
        assertEq(rep.totalSupply(), 5);
    }
}
