// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

contract ReleaseKeyTest is MarketFixture {
    uint256 internal taskId;
    bytes internal constant WRAPPED = hex"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";

    function setUp() public override {
        super.setUp();
        taskId = _postDefault();
        _claim(taskId, doctors[0]);
    }

    function test_releaseKey_emitsKeyReleased() public {
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.KeyReleased(taskId, doctors[0], WRAPPED);
        vm.prank(hospital);
        market.releaseKey(taskId, doctors[0], WRAPPED);
    }

    function test_releaseKey_worksInRevealPhase() public {
        _toCommitDeadline(taskId);
        // Seats are still free, so the task is finalizable (cancellation) but still active.
        vm.prank(hospital);
        market.releaseKey(taskId, doctors[0], WRAPPED);
    }

    function test_releaseKey_revertsWhen_unknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.UnknownTask.selector, 42));
        vm.prank(hospital);
        market.releaseKey(42, doctors[0], WRAPPED);
    }

    function test_releaseKey_revertsWhen_notPoster() public {
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.NotPoster.selector, taskId, stranger));
        vm.prank(stranger);
        market.releaseKey(taskId, doctors[0], WRAPPED);
    }

    function test_releaseKey_revertsWhen_doctorNotSeated() public {
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.NotSeated.selector, taskId, doctors[1]));
        vm.prank(hospital);
        market.releaseKey(taskId, doctors[1], WRAPPED);
    }

    function test_releaseKey_revertsWhen_emptyKey() public {
        vm.expectRevert(IDiagnosisMarket.EmptyWrappedKey.selector);
        vm.prank(hospital);
        market.releaseKey(taskId, doctors[0], "");
    }

    function test_releaseKey_revertsWhen_taskClosed() public {
        _toCommitDeadline(taskId);
        _finalize(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.TaskClosed.selector, taskId, IDiagnosisMarket.Status.Cancelled
            )
        );
        vm.prank(hospital);
        market.releaseKey(taskId, doctors[0], WRAPPED);
    }

    function test_releaseKey_notBlockedByPause() public {
        vm.prank(admin);
        market.pause();
        vm.prank(hospital);
        market.releaseKey(taskId, doctors[0], WRAPPED);
    }
}
