// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {MockStablecoin} from "../mocks/MockStablecoin.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

contract PostTaskTest is MarketFixture {
    function test_postTask_storesTaskAndEscrowsBounty() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.minReputation = 7;
        uint256 hospitalBefore = usdc.balanceOf(hospital);

        uint256 taskId = _post(p);

        assertEq(taskId, 1);
        assertEq(market.taskCount(), 1);
        assertEq(usdc.balanceOf(address(market)), BOUNTY);
        assertEq(usdc.balanceOf(hospital), hospitalBefore - BOUNTY);
        IDiagnosisMarket.Task memory t = market.getTask(taskId);
        assertEq(t.poster, hospital);
        assertEq(t.commitDeadline, p.commitDeadline);
        assertEq(t.revealDeadline, p.revealDeadline);
        assertEq(t.numClasses, NUM_CLASSES);
        assertEq(t.seats, 5);
        assertEq(t.quorum, 3);
        assertEq(t.filled, 0);
        assertEq(t.committed, 0);
        assertEq(t.revealed, 0);
        assertEq(uint8(t.status), uint8(IDiagnosisMarket.Status.Active));
        assertEq(t.token, address(usdc));
        assertEq(t.confidenceBps, 6_200);
        assertEq(t.predictedClass, 1);
        assertEq(t.outcome, 0);
        assertEq(t.agreeing, 0);
        assertEq(t.bounty, BOUNTY);
        assertEq(t.stakePerSeat, STAKE);
        assertEq(t.minReputation, 7);
        // A one-day commit window is shorter than the fill window: seats must fill by the commit deadline.
        assertEq(t.fillDeadline, p.commitDeadline);
        assertTrue(t.earnsReputation);
        assertEq(t.scanDigest, keccak256(bytes(SCAN_CID)));
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Commit));
    }

    function test_postTask_emitsTaskPosted() public {
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.TaskPosted(
            1, hospital, SCAN_CID, address(usdc), BOUNTY, STAKE, 1, 6_200, 5, 3, true
        );
        _postDefault();
    }

    function test_postTask_idsCountFromOne() public {
        assertEq(_postDefault(), 1);
        assertEq(_postDefault(), 2);
        assertEq(_postDefault(), 3);
        assertEq(market.taskCount(), 3);
        assertEq(usdc.balanceOf(address(market)), 3 * uint256(BOUNTY));
    }

    function test_postTask_acceptsZeroStakeAndSingleSeat() public {
        IDiagnosisMarket.TaskParams memory p = _params(1, 1);
        p.stakePerSeat = 0;
        uint256 taskId = _post(p);
        assertEq(market.getTask(taskId).stakePerSeat, 0);
    }

    function test_postTask_acceptsBoundaryParameters() public {
        IDiagnosisMarket.TaskParams memory p = _params(15, 8);
        p.numClasses = 16;
        p.predictedClass = 15;
        p.confidenceBps = 10_000;
        p.commitDeadline = uint40(block.timestamp + 1);
        p.revealDeadline = uint40(block.timestamp + 2);
        uint256 taskId = _post(p);
        assertEq(market.getTask(taskId).seats, 15);
        // One second is shorter than the reputation window: it pays but earns nothing.
        assertFalse(market.getTask(taskId).earnsReputation);
    }

    function test_postTask_revertsWhen_tokenNotAllowed() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.token = stranger;
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.TokenNotAllowed.selector, stranger));
        _post(p);
    }

    function test_postTask_revertsWhen_tokenRemovedFromAllowList() public {
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.TokenAllowed(address(usdc), false);
        vm.prank(admin);
        market.setTokenAllowed(address(usdc), false);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.TokenNotAllowed.selector, address(usdc)));
        _postDefault();
    }

    function test_postTask_revertsWhen_feeOnTransferToken() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.token = address(feeToken);
        uint256 received = BOUNTY - BOUNTY * feeToken.FEE_BPS() / 10_000;
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.FeeOnTransferToken.selector, address(feeToken), uint256(BOUNTY), received
            )
        );
        _post(p);
    }

    function test_postTask_revertsWhen_zeroBounty() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.bounty = 0;
        vm.expectRevert(IDiagnosisMarket.ZeroBounty.selector);
        _post(p);
    }

    function test_postTask_revertsWhen_emptyScanCid() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.scanCid = "";
        vm.expectRevert(IDiagnosisMarket.EmptyScanCid.selector);
        _post(p);
    }

    function test_postTask_revertsWhen_tooFewClasses() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.numClasses = 1;
        p.predictedClass = 0;
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.InvalidClassCount.selector, uint8(1), uint8(16))
        );
        _post(p);
    }

    function test_postTask_revertsWhen_tooManyClasses() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.numClasses = 17;
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.InvalidClassCount.selector, uint8(17), uint8(16))
        );
        _post(p);
    }

    function test_postTask_revertsWhen_predictionOutOfRange() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.predictedClass = NUM_CLASSES;
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.PredictionOutOfRange.selector, NUM_CLASSES, NUM_CLASSES)
        );
        _post(p);
    }

    function test_postTask_revertsWhen_confidenceOutOfRange() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.confidenceBps = 10_001;
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.ConfidenceOutOfRange.selector, uint16(10_001))
        );
        _post(p);
    }

    function test_postTask_revertsWhen_zeroSeats() public {
        IDiagnosisMarket.TaskParams memory p = _params(0, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.InvalidSeatCount.selector, uint8(0), uint8(15))
        );
        _post(p);
    }

    function test_postTask_revertsWhen_tooManySeats() public {
        IDiagnosisMarket.TaskParams memory p = _params(16, 9);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.InvalidSeatCount.selector, uint8(16), uint8(15))
        );
        _post(p);
    }

    function test_postTask_revertsWhen_quorumAboveSeats() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 6);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.InvalidQuorum.selector, uint8(6), uint8(5)));
        _post(p);
    }

    function test_postTask_revertsWhen_quorumNotAMajority() public {
        IDiagnosisMarket.TaskParams memory p = _params(4, 2);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.InvalidQuorum.selector, uint8(2), uint8(4)));
        _post(p);
    }

    function test_postTask_revertsWhen_commitDeadlineNotInFuture() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.commitDeadline = uint40(block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.InvalidDeadlines.selector,
                p.commitDeadline,
                p.revealDeadline,
                block.timestamp
            )
        );
        _post(p);
    }

    function test_postTask_revertsWhen_revealDeadlineNotAfterCommit() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.revealDeadline = p.commitDeadline;
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.InvalidDeadlines.selector,
                p.commitDeadline,
                p.revealDeadline,
                block.timestamp
            )
        );
        _post(p);
    }

    function testFuzz_postTask_escrowsExactBounty(uint96 bounty, uint96 stake) public {
        bounty = uint96(bound(bounty, 1, 1_000_000e6));
        IDiagnosisMarket.TaskParams memory p = _params(3, 2);
        p.bounty = bounty;
        p.stakePerSeat = stake;
        uint256 taskId = _post(p);
        assertEq(usdc.balanceOf(address(market)), bounty);
        assertEq(market.getTask(taskId).bounty, bounty);
        assertEq(market.getTask(taskId).stakePerSeat, stake);
    }

    function testFuzz_postTask_quorumRule(uint8 seats, uint8 quorum) public {
        seats = uint8(bound(seats, 1, 15));
        IDiagnosisMarket.TaskParams memory p = _params(seats, quorum);
        bool valid = quorum <= seats && uint256(quorum) * 2 > seats;
        if (!valid) {
            vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.InvalidQuorum.selector, quorum, seats));
        }
        _post(p);
    }

    function testFuzz_postTask_deadlines(uint40 commitDeadline, uint40 revealDeadline) public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.commitDeadline = commitDeadline;
        p.revealDeadline = revealDeadline;
        bool ordered = commitDeadline > block.timestamp && revealDeadline > commitDeadline;
        if (!ordered) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IDiagnosisMarket.InvalidDeadlines.selector,
                    commitDeadline,
                    revealDeadline,
                    block.timestamp
                )
            );
        } else if (commitDeadline - block.timestamp > 30 days) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IDiagnosisMarket.WindowTooLong.selector, commitDeadline - block.timestamp, 30 days
                )
            );
        } else if (revealDeadline - commitDeadline > 30 days) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IDiagnosisMarket.WindowTooLong.selector, uint256(revealDeadline - commitDeadline), 30 days
                )
            );
        }
        _post(p);
    }

    // ------------------------------------------- issue 10: who may post, what earns

    /// @dev Finding 1: a throwaway address can no longer post a task at all.
    function test_postTask_revertsWhen_posterNotHospital() public {
        _fund(stranger);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.HospitalNotAccredited.selector, stranger));
        vm.prank(stranger);
        market.postTask(_params(5, 3));
        assertEq(market.taskCount(), 0);
    }

    /// @dev Finding 1: an accredited doctor cannot post tasks for itself or its ring.
    function test_postTask_revertsWhen_posterIsDoctor() public {
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.HospitalNotAccredited.selector, doctors[0]));
        vm.prank(doctors[0]);
        market.postTask(_params(5, 3));
    }

    function test_postTask_revertsWhen_hospitalRevoked() public {
        vm.prank(issuer);
        registry.revoke(hospital);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.HospitalNotAccredited.selector, hospital));
        _postDefault();
    }

    function test_postTask_revertsWhen_hospitalExpired() public {
        vm.warp(registry.credentialOf(hospital).expiresAt);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.HospitalNotAccredited.selector, hospital));
        _postDefault();
    }

    /// @dev Revoking a hospital stops new tasks only: its running task still finishes and pays.
    function test_postTask_hospitalRevokedAfterPostingStrandsNothing() public {
        uint256 taskId = _postDefault();
        vm.prank(issuer);
        registry.revoke(hospital);
        _claimFirst(taskId, 5);
        vm.prank(hospital);
        market.releaseKey(taskId, doctors[0], hex"01");
        uint8[] memory votes = _votes5(1, 1, 1, 1, 2);
        for (uint256 i; i < 5; ++i) {
            _commit(taskId, doctors[i], votes[i]);
        }
        _revealAll(taskId, votes);
        _finalize(taskId);
        assertEq(_credit(doctors[0]), STAKE + BOUNTY / 4);
        assertEq(rep.totalSupply(), 4);
    }

    /// @dev Finding 1: tasks below the reputation minimum still pay, but earn nothing.
    function test_postTask_singleSeatEarnsNoReputation() public {
        IDiagnosisMarket.TaskParams memory p = _params(1, 1);
        uint256 taskId = _post(p);
        assertFalse(market.getTask(taskId).earnsReputation);
        _playUnanimous(taskId, 1);
        assertEq(_credit(doctors[0]), uint256(BOUNTY) + STAKE);
        assertEq(rep.totalSupply(), 0);
    }

    function test_postTask_twoSeatsEarnNoReputation() public {
        uint256 taskId = _post(_params(2, 2));
        assertFalse(market.getTask(taskId).earnsReputation);
        _playUnanimous(taskId, 2);
        assertEq(_credit(doctors[0]), uint256(STAKE) + BOUNTY / 2);
        assertEq(rep.totalSupply(), 0);
    }

    function test_postTask_threeSeatsEarnReputation() public {
        uint256 taskId = _post(_params(3, 2));
        assertTrue(market.getTask(taskId).earnsReputation);
        _playUnanimous(taskId, 3);
        assertEq(rep.totalSupply(), 3);
    }

    function test_postTask_lowBountyEarnsNoReputation() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.bounty = MIN_REP_BOUNTY - 1;
        uint256 taskId = _post(p);
        assertFalse(market.getTask(taskId).earnsReputation);
        _playUnanimous(taskId, 5);
        assertEq(_credit(doctors[0]), STAKE + (MIN_REP_BOUNTY - 1) / 5);
        assertEq(rep.totalSupply(), 0);
    }

    function test_postTask_bountyAtMinimumEarnsReputation() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.bounty = MIN_REP_BOUNTY;
        uint256 taskId = _post(p);
        assertTrue(market.getTask(taskId).earnsReputation);
        _playUnanimous(taskId, 5);
        assertEq(rep.totalSupply(), 5);
    }

    function test_postTask_shortWindowEarnsNoReputation() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.commitDeadline = uint40(block.timestamp + 1 hours - 1);
        uint256 taskId = _post(p);
        assertFalse(market.getTask(taskId).earnsReputation);
        _playUnanimous(taskId, 5);
        assertEq(_credit(doctors[0]), STAKE + BOUNTY / 5);
        assertEq(rep.totalSupply(), 0);
    }

    function test_postTask_windowAtMinimumEarnsReputation() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.commitDeadline = uint40(block.timestamp + 1 hours);
        uint256 taskId = _post(p);
        assertTrue(market.getTask(taskId).earnsReputation);
    }

    /// @dev A token without a minimum earns nothing, however large the task.
    function test_postTask_unsetMinimumEarnsNoReputation() public {
        MockStablecoin other = new MockStablecoin();
        vm.prank(admin);
        market.setTokenAllowed(address(other), true);
        other.mint(hospital, BOUNTY);
        vm.prank(hospital);
        other.approve(address(market), BOUNTY);
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.token = address(other);
        uint256 taskId = _post(p);
        assertFalse(market.getTask(taskId).earnsReputation);
    }

    /// @dev Finding 1, the reported attack: 25 one-seat, one-unit, one-second tasks finished in
    /// one block. Even posted by an accredited hospital, each pays but none earns reputation, so
    /// the doctor still cannot join a `minReputation 20` task.
    function test_postTask_farmInOneBlockYieldsNoReputation() public {
        address farmer = doctors[0];
        for (uint256 i; i < 25; ++i) {
            IDiagnosisMarket.TaskParams memory p = _params(1, 1);
            p.bounty = 1;
            p.stakePerSeat = 0;
            p.commitDeadline = uint40(block.timestamp + 1);
            p.revealDeadline = uint40(block.timestamp + 2);
            uint256 taskId = _post(p);
            _claim(taskId, farmer);
            _commit(taskId, farmer, 1);
            _reveal(taskId, farmer, 1);
            _finalize(taskId);
        }
        assertEq(rep.balanceOf(farmer), 0);
        assertEq(rep.totalSupply(), 0);
        assertEq(_credit(farmer), 25);

        IDiagnosisMarket.TaskParams memory gated = _params(5, 3);
        gated.minReputation = 20;
        uint256 gatedId = _post(gated);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.InsufficientReputation.selector, farmer, 0, 20)
        );
        _claim(gatedId, farmer);
    }

    /// @dev Finding 1: the same farm from throwaway posters is refused outright.
    function test_postTask_farmFromThrowawayPostersRefused() public {
        for (uint256 i; i < 25; ++i) {
            address throwaway = makeAddr(string.concat("throwaway", vm.toString(i)));
            _fund(throwaway);
            IDiagnosisMarket.TaskParams memory p = _params(1, 1);
            p.bounty = 1;
            p.stakePerSeat = 0;
            p.commitDeadline = uint40(block.timestamp + 1);
            p.revealDeadline = uint40(block.timestamp + 2);
            vm.expectRevert(
                abi.encodeWithSelector(IDiagnosisMarket.HospitalNotAccredited.selector, throwaway)
            );
            vm.prank(throwaway);
            market.postTask(p);
        }
        assertEq(market.taskCount(), 0);
    }

    // ------------------------------------------------- issue 10: bounded windows

    /// @dev Finding 4: a commit window of exactly 30 days is accepted, one second more is not.
    function test_postTask_commitWindowAtMaximum() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.commitDeadline = uint40(block.timestamp + 30 days);
        p.revealDeadline = p.commitDeadline + 1 days;
        uint256 taskId = _post(p);
        IDiagnosisMarket.Task memory t = market.getTask(taskId);
        assertEq(t.commitDeadline, block.timestamp + 30 days);
        // The fill window is shorter: seats must fill within 7 days of posting.
        assertEq(t.fillDeadline, block.timestamp + 7 days);
    }

    function test_postTask_revertsWhen_commitWindowOverMaximum() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.commitDeadline = uint40(block.timestamp + 30 days + 1);
        p.revealDeadline = p.commitDeadline + 1 days;
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.WindowTooLong.selector, 30 days + 1, 30 days));
        _post(p);
    }

    /// @dev Finding 4, the reported attack: a commit deadline ~34,000 years away.
    function test_postTask_revertsWhen_commitDeadlineCenturiesAway() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.commitDeadline = type(uint40).max - 1;
        p.revealDeadline = type(uint40).max;
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WindowTooLong.selector,
                uint256(type(uint40).max - 1) - block.timestamp,
                30 days
            )
        );
        _post(p);
    }

    function test_postTask_revealWindowAtMaximum() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.revealDeadline = p.commitDeadline + 30 days;
        uint256 taskId = _post(p);
        assertEq(market.getTask(taskId).revealDeadline, p.commitDeadline + 30 days);
    }

    function test_postTask_revertsWhen_revealWindowOverMaximum() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.revealDeadline = p.commitDeadline + 30 days + 1;
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.WindowTooLong.selector, 30 days + 1, 30 days));
        _post(p);
    }

    /// @dev The fill deadline is the commit deadline when that comes first, else 7 days after posting.
    function test_postTask_fillDeadlineIsTheEarlierOfCommitDeadlineAndFillWindow() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.commitDeadline = uint40(block.timestamp + 7 days);
        p.revealDeadline = p.commitDeadline + 1 days;
        assertEq(market.getTask(_post(p)).fillDeadline, block.timestamp + 7 days);
        p.commitDeadline = uint40(block.timestamp + 7 days + 1);
        p.revealDeadline = p.commitDeadline + 1 days;
        assertEq(market.getTask(_post(p)).fillDeadline, block.timestamp + 7 days);
        p.commitDeadline = uint40(block.timestamp + 7 days - 1);
        p.revealDeadline = p.commitDeadline + 1 days;
        assertEq(market.getTask(_post(p)).fillDeadline, block.timestamp + 7 days - 1);
    }

    // ---------------------------------------------------- fuzz at the new bounds

    struct Fuzzed {
        uint8 seats;
        uint8 quorum;
        uint96 bounty;
        uint256 commitWindow;
        uint256 revealWindow;
    }

    /// @dev Task parameters around every new bound (windows near 30 days, seats 1..15, quorum,
    /// bounty near the reputation minimum): a task is accepted exactly when it is valid, and it
    /// earns reputation exactly when it meets every minimum.
    function testFuzz_postTask_boundsAndEarnsReputation(
        uint8 seats,
        uint8 quorum,
        uint96 bounty,
        uint256 commitWindow,
        uint256 revealWindow,
        bool nearMaximum
    ) public {
        Fuzzed memory f;
        f.seats = uint8(bound(seats, 1, 15));
        f.quorum = uint8(bound(quorum, 0, 16));
        f.bounty = uint96(bound(bounty, 1, 2 * uint256(MIN_REP_BOUNTY)));
        if (nearMaximum) {
            f.commitWindow = bound(commitWindow, 30 days - 2, 30 days + 2);
            f.revealWindow = bound(revealWindow, 30 days - 2, 30 days + 2);
        } else {
            f.commitWindow = bound(commitWindow, 1, 8 days);
            f.revealWindow = bound(revealWindow, 1, 8 days);
        }
        IDiagnosisMarket.TaskParams memory p = _params(f.seats, f.quorum);
        p.bounty = f.bounty;
        p.commitDeadline = uint40(block.timestamp + f.commitWindow);
        p.revealDeadline = uint40(p.commitDeadline + f.revealWindow);

        if (f.quorum > f.seats || uint256(f.quorum) * 2 <= f.seats) {
            vm.expectRevert(
                abi.encodeWithSelector(IDiagnosisMarket.InvalidQuorum.selector, f.quorum, f.seats)
            );
            _post(p);
            return;
        }
        if (f.commitWindow > 30 days) {
            vm.expectRevert(
                abi.encodeWithSelector(IDiagnosisMarket.WindowTooLong.selector, f.commitWindow, 30 days)
            );
            _post(p);
            return;
        }
        if (f.revealWindow > 30 days) {
            vm.expectRevert(
                abi.encodeWithSelector(IDiagnosisMarket.WindowTooLong.selector, f.revealWindow, 30 days)
            );
            _post(p);
            return;
        }
        uint256 taskId = _post(p);
        IDiagnosisMarket.Task memory t = market.getTask(taskId);
        bool earns = f.seats >= 3 && f.commitWindow >= 1 hours && f.bounty >= MIN_REP_BOUNTY;
        assertEq(t.earnsReputation, earns, "earnsReputation");
        uint256 fill = f.commitWindow < 7 days ? f.commitWindow : 7 days;
        assertEq(t.fillDeadline, block.timestamp + fill, "fillDeadline");
        assertEq(t.seats, f.seats);
        assertEq(t.quorum, f.quorum);
        assertEq(t.bounty, f.bounty);
    }

    /// @dev Plays a unanimous vote for class 1 with the first `seats` doctors and finalizes.
    function _playUnanimous(uint256 taskId, uint256 seats) internal {
        uint8[] memory votes = new uint8[](seats);
        for (uint256 i; i < seats; ++i) {
            votes[i] = 1;
        }
        _seatAndCommit(taskId, votes);
        _revealAll(taskId, votes);
        _finalize(taskId);
    }
}
