// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {SwitchableFeeToken} from "../mocks/SwitchableFeeToken.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

contract ClaimSeatTest is MarketFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = _postDefault();
    }

    function test_claimSeat_seatsDoctorAndPullsStake() public {
        address d = doctors[0];
        uint256 before = usdc.balanceOf(d);

        _claim(taskId, d);

        assertEq(usdc.balanceOf(d), before - STAKE);
        assertEq(usdc.balanceOf(address(market)), BOUNTY + STAKE);
        assertEq(market.getTask(taskId).filled, 1);
        IDiagnosisMarket.Vote memory v = market.voteOf(taskId, d);
        assertEq(v.seat, 1);
        assertFalse(v.revealed);
        assertEq(v.commitment, bytes32(0));
        address[] memory seated = market.seatsOf(taskId);
        assertEq(seated.length, 1);
        assertEq(seated[0], d);
    }

    function test_claimSeat_emitsSeatClaimedInSeatOrder() public {
        for (uint256 i; i < 5; ++i) {
            vm.expectEmit(address(market));
            // forge-lint: disable-next-line(unsafe-typecast)
            emit IDiagnosisMarket.SeatClaimed(taskId, doctors[i], uint8(i + 1));
            _claim(taskId, doctors[i]);
        }
        address[] memory seated = market.seatsOf(taskId);
        for (uint256 i; i < 5; ++i) {
            assertEq(seated[i], doctors[i]);
            assertEq(market.voteOf(taskId, doctors[i]).seat, i + 1);
        }
    }

    function test_claimSeat_zeroStakePullsNothing() public {
        IDiagnosisMarket.TaskParams memory p = _params(1, 1);
        p.stakePerSeat = 0;
        uint256 id = _post(p);
        uint256 before = usdc.balanceOf(doctors[0]);
        _claim(id, doctors[0]);
        assertEq(usdc.balanceOf(doctors[0]), before);
    }

    function test_claimSeat_allowedAtMinReputation() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.minReputation = 3;
        uint256 id = _post(p);
        _mintRep(doctors[0], 3);
        _claim(id, doctors[0]);
        assertEq(market.voteOf(id, doctors[0]).seat, 1);
    }

    function test_claimSeat_allowedUpToTheLastSecondBeforeCommitDeadline() public {
        vm.warp(market.getTask(taskId).commitDeadline - 1);
        _claim(taskId, doctors[0]);
        assertEq(market.getTask(taskId).filled, 1);
    }

    function test_claimSeat_revertsWhen_unknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.UnknownTask.selector, 99));
        _claim(99, doctors[0]);
    }

    function test_claimSeat_revertsWhen_commitDeadlinePassed() public {
        _toCommitDeadline(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                taskId,
                IDiagnosisMarket.Phase.Commit,
                IDiagnosisMarket.Phase.Finalizable
            )
        );
        _claim(taskId, doctors[0]);
    }

    function test_claimSeat_revertsWhen_noFreeSeat() public {
        _claimFirst(taskId, 5);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.NoFreeSeat.selector, taskId));
        _claim(taskId, doctors[5]);
    }

    /// @dev Issue 10, finding 1: a hospital whose credential lapsed and that is then accredited
    /// as a doctor still cannot review the task it posted.
    function test_claimSeat_revertsWhen_poster() public {
        vm.prank(issuer);
        registry.revoke(hospital);
        _accredit(hospital);
        assertTrue(registry.canServe(hospital));
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.PosterCannotClaim.selector, taskId));
        _claim(taskId, hospital);
    }

    function test_claimSeat_revertsWhen_alreadySeated() public {
        _claim(taskId, doctors[0]);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.AlreadySeated.selector, taskId, doctors[0]));
        _claim(taskId, doctors[0]);
    }

    function test_claimSeat_revertsWhen_notAccredited() public {
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.DoctorCannotServe.selector, stranger));
        _claim(taskId, stranger);
    }

    function test_claimSeat_revertsWhen_doctorRevoked() public {
        vm.prank(issuer);
        registry.revoke(doctors[0]);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.DoctorCannotServe.selector, doctors[0]));
        _claim(taskId, doctors[0]);
    }

    function test_claimSeat_revertsWhen_accreditationExpired() public {
        uint64 expiry = uint64(block.timestamp + 1 hours);
        vm.prank(issuer);
        registry.accredit(doctors[0], keccak256("short licence"), expiry);
        vm.warp(expiry);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.DoctorCannotServe.selector, doctors[0]));
        _claim(taskId, doctors[0]);
    }

    function test_claimSeat_revertsWhen_noEncryptionKey() public {
        address fresh = makeAddr("fresh");
        vm.prank(issuer);
        registry.accredit(fresh, keccak256("licence"), uint64(block.timestamp + 30 days));
        _fund(fresh);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.DoctorCannotServe.selector, fresh));
        _claim(taskId, fresh);
    }

    function test_claimSeat_revertsWhen_belowMinReputation() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.minReputation = 3;
        uint256 id = _post(p);
        _mintRep(doctors[0], 2);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.InsufficientReputation.selector, doctors[0], 2, 3)
        );
        _claim(id, doctors[0]);
    }

    function test_claimSeat_revertsWhen_paused() public {
        vm.prank(admin);
        market.pause();
        vm.expectRevert(abi.encodeWithSignature("EnforcedPause()"));
        _claim(taskId, doctors[0]);
    }

    function test_claimSeat_revertsWhen_taskClosed() public {
        _toCommitDeadline(taskId);
        _finalize(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                taskId,
                IDiagnosisMarket.Phase.Commit,
                IDiagnosisMarket.Phase.Cancelled
            )
        );
        _claim(taskId, doctors[0]);
    }

    function test_claimSeat_revertsWhen_revealPhaseOpenedEarly() public {
        IDiagnosisMarket.TaskParams memory p = _params(1, 1);
        uint256 id = _post(p);
        _claim(id, doctors[0]);
        _commit(id, doctors[0], 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                id,
                IDiagnosisMarket.Phase.Commit,
                IDiagnosisMarket.Phase.Reveal
            )
        );
        _claim(id, doctors[1]);
    }

    // ------------------------------------------- issue 10, finding 2: fee-on-transfer stakes

    /// @dev A 1%-fee token whose fee rounds to zero on a tiny bounty gets past postTask; each
    /// stake would then arrive short but be credited in full. claimSeat measures it and refuses.
    function test_claimSeat_revertsWhen_feeRoundsToZeroOnlyOnTheBounty() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.token = address(feeToken);
        p.bounty = 99; // 1% of 99 rounds to 0
        uint256 id = _post(p);
        uint256 received = STAKE - STAKE * feeToken.FEE_BPS() / 10_000;
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.FeeOnTransferToken.selector, address(feeToken), uint256(STAKE), received
            )
        );
        _claim(id, doctors[0]);
        assertEq(market.getTask(id).filled, 0);
        assertEq(feeToken.balanceOf(address(market)), 99);
    }

    /// @dev A token that switches its fee on after the task was posted.
    function test_claimSeat_revertsWhen_feeSwitchedOnAfterPosting() public {
        SwitchableFeeToken token = _switchableToken();
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.token = address(token);
        uint256 id = _post(p);
        _claim(id, doctors[0]);

        token.setFeeBps(100);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.FeeOnTransferToken.selector,
                address(token),
                uint256(STAKE),
                STAKE - STAKE / 100
            )
        );
        _claim(id, doctors[1]);
        assertEq(market.getTask(id).filled, 1);
        assertEq(token.balanceOf(address(market)), uint256(BOUNTY) + STAKE);
    }

    /// @dev The attack's end: with short stakes refused, the task is cancelled at its fill
    /// deadline and every credit can still be withdrawn; the market ends empty, not short.
    function test_claimSeat_feeSwitchedOnLeavesEscrowWhole() public {
        SwitchableFeeToken token = _switchableToken();
        IDiagnosisMarket.TaskParams memory p = _params(3, 2);
        p.token = address(token);
        uint256 id = _post(p);
        _claim(id, doctors[0]);
        _claim(id, doctors[1]);
        token.setFeeBps(100);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.FeeOnTransferToken.selector,
                address(token),
                uint256(STAKE),
                STAKE - STAKE / 100
            )
        );
        _claim(id, doctors[2]);

        vm.warp(market.getTask(id).fillDeadline);
        _finalize(id);
        assertEq(uint8(market.getTask(id).status), uint8(IDiagnosisMarket.Status.Cancelled));
        address[3] memory payees = [doctors[0], doctors[1], hospital];
        for (uint256 i; i < payees.length; ++i) {
            vm.prank(payees[i]);
            market.withdraw(address(token));
        }
        assertEq(token.balanceOf(address(market)), 0);
    }

    function testFuzz_claimSeat_feeOnStakeAlwaysRefused(uint16 feeBps, uint96 stake) public {
        feeBps = uint16(bound(feeBps, 1, 10_000));
        stake = uint96(bound(stake, 1, 1_000_000e6));
        SwitchableFeeToken token = _switchableToken();
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.token = address(token);
        p.stakePerSeat = stake;
        uint256 id = _post(p);
        token.setFeeBps(feeBps);
        uint256 fee = uint256(stake) * feeBps / 10_000;
        if (fee != 0) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IDiagnosisMarket.FeeOnTransferToken.selector, address(token), uint256(stake), stake - fee
                )
            );
        }
        _claim(id, doctors[0]);
        // Whatever happened, the market holds exactly what the task promises.
        IDiagnosisMarket.Task memory t = market.getTask(id);
        assertEq(token.balanceOf(address(market)), uint256(t.bounty) + uint256(t.stakePerSeat) * t.filled);
    }

    function _switchableToken() internal returns (SwitchableFeeToken token) {
        token = new SwitchableFeeToken();
        vm.prank(admin);
        market.setTokenAllowed(address(token), true);
        address[] memory payers = new address[](6);
        payers[0] = hospital;
        for (uint256 i; i < 5; ++i) {
            payers[i + 1] = doctors[i];
        }
        for (uint256 i; i < payers.length; ++i) {
            token.mint(payers[i], 10_000_000e6);
            vm.prank(payers[i]);
            token.approve(address(market), type(uint256).max);
        }
    }

    function testFuzz_claimSeat_reputationGate(uint32 minReputation, uint64 held) public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.minReputation = minReputation;
        uint256 id = _post(p);
        _mintRep(doctors[0], held);
        if (held < minReputation) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IDiagnosisMarket.InsufficientReputation.selector, doctors[0], held, minReputation
                )
            );
        }
        _claim(id, doctors[0]);
    }
}
