// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {DiagnosisMarket} from "../../src/DiagnosisMarket.sol";
import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

contract AdminTest is MarketFixture {
    function test_constructor_wiresRolesAndDependencies() public view {
        assertTrue(market.hasRole(market.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(market.hasRole(market.PAUSER_ROLE(), admin));
        assertEq(address(market.registry()), address(registry));
        assertEq(address(market.reputation()), address(rep));
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

    function test_finalize_revertsWhen_marketLacksMinterRole() public {
        // A market deployed without the minter role cannot resolve; the deploy script grants it.
        DiagnosisMarket bare = new DiagnosisMarket(admin, registry, rep);
        vm.prank(admin);
        bare.setTokenAllowed(address(usdc), true);
        vm.prank(hospital);
        usdc.approve(address(bare), type(uint256).max);
        IDiagnosisMarket.TaskParams memory p = _params(1, 1);
        p.stakePerSeat = 0;
        vm.prank(hospital);
        uint256 taskId = bare.postTask(p);
        vm.prank(doctors[0]);
        bare.claimSeat(taskId);
        bytes32 salt = _salt(taskId, doctors[0]);
        vm.startPrank(doctors[0]);
        bare.commit(taskId, bare.commitmentOf(taskId, doctors[0], 1, salt));
        bare.reveal(taskId, 1, salt);
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, address(bare), rep.MINTER_ROLE()
            )
        );
        bare.finalize(taskId);
    }
}
