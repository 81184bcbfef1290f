// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
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
        vm.prank(address(market));
        rep.mint(doctors[0], 3);
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

    function test_claimSeat_revertsWhen_poster() public {
        _accredit(hospital);
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
        uint64 expiry = registry.credentialOf(doctors[0]).expiresAt;
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        // forge-lint: disable-next-line(unsafe-typecast)
        p.commitDeadline = uint40(expiry + 1 days);
        // forge-lint: disable-next-line(unsafe-typecast)
        p.revealDeadline = uint40(expiry + 2 days);
        uint256 id = _post(p);
        vm.warp(expiry);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.DoctorCannotServe.selector, doctors[0]));
        _claim(id, doctors[0]);
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
        vm.prank(address(market));
        rep.mint(doctors[0], 2);
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

    function testFuzz_claimSeat_reputationGate(uint64 minReputation, uint64 held) public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.minReputation = minReputation;
        uint256 id = _post(p);
        vm.prank(address(market));
        rep.mint(doctors[0], held);
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
