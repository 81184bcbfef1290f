// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

contract WithdrawTest is MarketFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = _postDefault();
        uint8[] memory votes = _votes5(1, 1, 1, 1, 2);
        _seatAndCommit(taskId, votes);
        _revealAll(taskId, votes);
        _finalize(taskId);
    }

    function test_withdraw_paysWholeCreditOnce() public {
        uint256 credit = _credit(doctors[0]);
        assertEq(credit, STAKE + BOUNTY / 4);
        uint256 before = usdc.balanceOf(doctors[0]);

        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Withdrawn(doctors[0], address(usdc), credit);
        vm.prank(doctors[0]);
        uint256 paid = market.withdraw(address(usdc));

        assertEq(paid, credit);
        assertEq(usdc.balanceOf(doctors[0]), before + credit);
        assertEq(_credit(doctors[0]), 0);

        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.NothingToWithdraw.selector, doctors[0], address(usdc))
        );
        vm.prank(doctors[0]);
        market.withdraw(address(usdc));
    }

    function test_withdraw_accumulatesAcrossTasks() public {
        uint256 second = _postDefault();
        uint8[] memory votes = _votes5(1, 1, 1, 1, 2);
        _seatAndCommit(second, votes);
        _revealAll(second, votes);
        _finalize(second);
        vm.prank(doctors[0]);
        assertEq(market.withdraw(address(usdc)), 2 * (STAKE + BOUNTY / 4));
    }

    function test_withdraw_everyoneDrainsTheMarketExactly() public {
        for (uint256 i; i < 5; ++i) {
            vm.prank(doctors[i]);
            market.withdraw(address(usdc));
        }
        assertEq(usdc.balanceOf(address(market)), 0);
    }

    function test_withdraw_notBlockedByPause() public {
        vm.prank(admin);
        market.pause();
        vm.prank(doctors[4]);
        assertEq(market.withdraw(address(usdc)), STAKE);
    }

    function test_withdraw_worksAfterTokenDelisted() public {
        vm.prank(admin);
        market.setTokenAllowed(address(usdc), false);
        vm.prank(doctors[0]);
        assertEq(market.withdraw(address(usdc)), STAKE + BOUNTY / 4);
    }

    function test_withdraw_revertsWhen_nothingCredited() public {
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.NothingToWithdraw.selector, stranger, address(usdc))
        );
        vm.prank(stranger);
        market.withdraw(address(usdc));
    }

    function test_withdraw_revertsWhen_otherToken() public {
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.NothingToWithdraw.selector, doctors[0], address(feeToken))
        );
        vm.prank(doctors[0]);
        market.withdraw(address(feeToken));
    }
}
