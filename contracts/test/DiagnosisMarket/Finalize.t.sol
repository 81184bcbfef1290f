// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {IReputationToken} from "../../src/interfaces/IReputationToken.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

contract FinalizeTest is MarketFixture {
    // ---------------------------------------------------------------- quorum

    function test_finalize_quorumFourToOnePaysExactly() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.bounty = 1_000_000_003; // 3 units of dust over 4 agreeing doctors
        uint256 taskId = _post(p);
        uint8[] memory votes = _votes5(1, 1, 2, 1, 1);
        _seatAndCommit(taskId, votes);
        _revealAll(taskId, votes);
        // Every seat revealed: finalize opens before the reveal deadline.
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Finalizable));
        assertLt(block.timestamp, p.revealDeadline);

        vm.expectEmit(address(market));
        emit IDiagnosisMarket.TaskFinalized(taskId, IDiagnosisMarket.Status.Resolved, 1, 4);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[0], address(usdc), STAKE + 250_000_000);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[1], address(usdc), STAKE + 250_000_000);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[2], address(usdc), STAKE);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[3], address(usdc), STAKE + 250_000_000);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[4], address(usdc), STAKE + 250_000_000);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, hospital, address(usdc), 3);
        vm.expectEmit(address(rep));
        emit IReputationToken.Transfer(address(0), doctors[0], 1);
        _finalize(taskId);

        assertEq(_credit(doctors[0]), STAKE + 250_000_000);
        assertEq(_credit(doctors[1]), STAKE + 250_000_000);
        assertEq(_credit(doctors[2]), STAKE);
        assertEq(_credit(doctors[3]), STAKE + 250_000_000);
        assertEq(_credit(doctors[4]), STAKE + 250_000_000);
        assertEq(_credit(hospital), 3);
        assertEq(usdc.balanceOf(address(market)), p.bounty + 5 * uint256(STAKE));

        assertEq(rep.balanceOf(doctors[0]), 1);
        assertEq(rep.balanceOf(doctors[1]), 1);
        assertEq(rep.balanceOf(doctors[2]), 0);
        assertEq(rep.balanceOf(doctors[3]), 1);
        assertEq(rep.balanceOf(doctors[4]), 1);
        assertEq(rep.totalSupply(), 4);

        IDiagnosisMarket.Task memory t = market.getTask(taskId);
        assertEq(uint8(t.status), uint8(IDiagnosisMarket.Status.Resolved));
        assertEq(t.outcome, 1);
        assertEq(t.agreeing, 4);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Resolved));
    }

    function test_finalize_nonRevealerStakeGoesToAgreeingDoctors() public {
        uint256 taskId = _postDefault();
        uint8[] memory votes = _votes5(2, 2, 2, 0, 3);
        _seatAndCommit(taskId, votes);
        // doctors[4] committed but never reveals.
        for (uint256 i; i < 4; ++i) {
            _reveal(taskId, doctors[i], votes[i]);
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                taskId,
                IDiagnosisMarket.Phase.Finalizable,
                IDiagnosisMarket.Phase.Reveal
            )
        );
        _finalize(taskId);
        _toRevealDeadline(taskId);
        _finalize(taskId);

        // pool = bounty + forfeited stake = 1050e6, shared by three.
        uint256 share = (uint256(BOUNTY) + STAKE) / 3;
        assertEq(_credit(doctors[0]), STAKE + share);
        assertEq(_credit(doctors[1]), STAKE + share);
        assertEq(_credit(doctors[2]), STAKE + share);
        assertEq(_credit(doctors[3]), STAKE);
        assertEq(_credit(doctors[4]), 0);
        assertEq(_credit(hospital), uint256(BOUNTY) + STAKE - 3 * share);
        assertEq(rep.balanceOf(doctors[3]), 0);
        assertEq(rep.balanceOf(doctors[4]), 0);
        assertEq(market.getTask(taskId).agreeing, 3);
    }

    function test_finalize_nonCommitterForfeitsStake() public {
        uint256 taskId = _postDefault();
        _claimFirst(taskId, 5);
        for (uint256 i; i < 4; ++i) {
            _commit(taskId, doctors[i], 1);
        }
        _toCommitDeadline(taskId);
        for (uint256 i; i < 4; ++i) {
            _reveal(taskId, doctors[i], 1);
        }
        _toRevealDeadline(taskId);
        _finalize(taskId);
        assertEq(_credit(doctors[4]), 0);
        assertEq(_credit(doctors[0]), STAKE + (uint256(BOUNTY) + STAKE) / 4);
        assertEq(market.getTask(taskId).agreeing, 4);
    }

    function test_finalize_unanimousSingleSeat() public {
        uint256 taskId = _post(_params(1, 1));
        uint8[] memory votes = new uint8[](1);
        votes[0] = 3;
        _seatAndCommit(taskId, votes);
        _revealAll(taskId, votes);
        _finalize(taskId);
        assertEq(_credit(doctors[0]), uint256(BOUNTY) + STAKE);
        assertEq(_credit(hospital), 0);
        assertEq(market.getTask(taskId).outcome, 3);
    }

    // ------------------------------------------------------------- no quorum

    function test_finalize_noQuorumRefunds() public {
        uint256 taskId = _postDefault();
        uint8[] memory votes = _votes5(0, 1, 2, 3, 0);
        _seatAndCommit(taskId, votes);
        _revealAll(taskId, votes);

        vm.expectEmit(address(market));
        emit IDiagnosisMarket.TaskFinalized(taskId, IDiagnosisMarket.Status.Unresolved, 0, 0);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[0], address(usdc), STAKE);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, hospital, address(usdc), BOUNTY);
        _finalize(taskId);

        for (uint256 i; i < 5; ++i) {
            assertEq(_credit(doctors[i]), STAKE);
            assertEq(rep.balanceOf(doctors[i]), 0);
        }
        assertEq(_credit(hospital), BOUNTY);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Unresolved));
        assertEq(rep.totalSupply(), 0);
    }

    /// @dev Issue 10, finding 6: without a quorum the forfeited stakes go to the doctors who
    /// revealed (they did the work), not to the poster; the poster gets the bounty and the dust.
    function test_finalize_noQuorumForfeitedStakesToRevealers() public {
        uint256 taskId = _postDefault();
        uint8[] memory votes = _votes5(1, 1, 2, 0, 0);
        _seatAndCommit(taskId, votes);
        _reveal(taskId, doctors[0], 1);
        _reveal(taskId, doctors[1], 1);
        _reveal(taskId, doctors[2], 2);
        _toRevealDeadline(taskId);

        // Two silent stakes (100e6) over three revealers: 33,333,333 each, 1 unit of dust.
        uint256 share = 2 * uint256(STAKE) / 3;
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.TaskFinalized(taskId, IDiagnosisMarket.Status.Unresolved, 0, 0);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[0], address(usdc), STAKE + share);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[1], address(usdc), STAKE + share);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[2], address(usdc), STAKE + share);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, hospital, address(usdc), uint256(BOUNTY) + 1);
        _finalize(taskId);

        assertEq(share, 33_333_333);
        assertEq(_credit(doctors[0]), STAKE + share);
        assertEq(_credit(doctors[1]), STAKE + share);
        assertEq(_credit(doctors[2]), STAKE + share);
        assertEq(_credit(doctors[3]), 0);
        assertEq(_credit(doctors[4]), 0);
        assertEq(_credit(hospital), uint256(BOUNTY) + 1);
        assertEq(rep.totalSupply(), 0);
        assertEq(uint8(market.getTask(taskId).status), uint8(IDiagnosisMarket.Status.Unresolved));
    }

    /// @dev One revealer among five, no quorum: it takes all four forfeited stakes.
    function test_finalize_noQuorumSingleRevealerTakesForfeits() public {
        uint256 taskId = _postDefault();
        uint8[] memory votes = _votes5(3, 1, 1, 1, 1);
        _seatAndCommit(taskId, votes);
        _reveal(taskId, doctors[0], 3);
        _toRevealDeadline(taskId);
        _finalize(taskId);
        assertEq(_credit(doctors[0]), 5 * uint256(STAKE));
        assertEq(_credit(hospital), BOUNTY);
    }

    /// @dev A failed task's poster is never paid more than its own bounty back, whatever happens.
    function testFuzz_finalize_failedTaskNeverRewardsPoster(uint8 revealers, uint96 stake) public {
        revealers = uint8(bound(revealers, 0, 2)); // quorum 3 of 5: at most two votes for one code
        stake = uint96(bound(stake, 0, 1_000e6));
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.stakePerSeat = stake;
        uint256 taskId = _post(p);
        uint8[] memory votes = _votes5(1, 2, 1, 2, 0);
        _seatAndCommit(taskId, votes);
        for (uint256 i; i < revealers; ++i) {
            _reveal(taskId, doctors[i], votes[i]);
        }
        _toRevealDeadline(taskId);
        _finalize(taskId);
        uint256 forfeited = uint256(stake) * (5 - revealers);
        if (revealers == 0) {
            assertEq(_credit(hospital), uint256(BOUNTY) + forfeited);
        } else {
            uint256 share = forfeited / revealers;
            assertEq(_credit(hospital), uint256(BOUNTY) + forfeited % revealers);
            assertLt(forfeited % revealers, revealers);
            for (uint256 i; i < revealers; ++i) {
                assertEq(_credit(doctors[i]), stake + share);
            }
        }
    }

    /// @dev Nobody revealed, so nobody did the work: every forfeited stake goes to the poster.
    function test_finalize_nobodyCommittedAllStakesToPoster() public {
        uint256 taskId = _postDefault();
        _claimFirst(taskId, 5);
        _toCommitDeadline(taskId);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Reveal));
        _toRevealDeadline(taskId);
        _finalize(taskId);
        assertEq(_credit(hospital), uint256(BOUNTY) + 5 * uint256(STAKE));
    }

    // ------------------------------------------------------------- cancelled

    function test_finalize_unfilledSeatsCancelWithFullRefund() public {
        uint256 taskId = _postDefault();
        _claimFirst(taskId, 3);
        _commit(taskId, doctors[0], 1);
        _commit(taskId, doctors[1], 1);
        _commit(taskId, doctors[2], 1);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Commit));
        _toCommitDeadline(taskId);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Finalizable));

        vm.expectEmit(address(market));
        emit IDiagnosisMarket.TaskFinalized(taskId, IDiagnosisMarket.Status.Cancelled, 0, 0);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[0], address(usdc), STAKE);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[1], address(usdc), STAKE);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, doctors[2], address(usdc), STAKE);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.Credited(taskId, hospital, address(usdc), BOUNTY);
        _finalize(taskId);

        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Cancelled));
        assertEq(rep.totalSupply(), 0);

        // Everyone withdraws exactly what they put in.
        uint256 before = usdc.balanceOf(doctors[0]);
        vm.prank(doctors[0]);
        market.withdraw(address(usdc));
        assertEq(usdc.balanceOf(doctors[0]) - before, STAKE);
        before = usdc.balanceOf(hospital);
        vm.prank(hospital);
        market.withdraw(address(usdc));
        assertEq(usdc.balanceOf(hospital) - before, BOUNTY);
    }

    function test_finalize_noSeatsCancelsAndRefundsBounty() public {
        uint256 taskId = _postDefault();
        _toCommitDeadline(taskId);
        _finalize(taskId);
        assertEq(_credit(hospital), BOUNTY);
        assertEq(uint8(market.getTask(taskId).status), uint8(IDiagnosisMarket.Status.Cancelled));
    }

    // ------------------------------------------------ issue 10: fill window

    /// @dev Finding 4: a task whose seats do not fill is cancellable by anyone 7 days after
    /// posting, even though its commit deadline is 30 days away; every stake and the bounty come
    /// back exactly.
    function test_finalize_anyoneCancelsPartlyFilledTaskAtFillDeadline() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.commitDeadline = uint40(block.timestamp + 30 days);
        p.revealDeadline = p.commitDeadline + 30 days;
        uint256 postedAt = block.timestamp;
        uint256 taskId = _post(p);
        _claimFirst(taskId, 3);
        _commit(taskId, doctors[0], 1);

        vm.warp(postedAt + 7 days - 1);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Commit));
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                taskId,
                IDiagnosisMarket.Phase.Finalizable,
                IDiagnosisMarket.Phase.Commit
            )
        );
        vm.prank(stranger);
        market.finalize(taskId);

        vm.warp(postedAt + 7 days);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Finalizable));
        // Nobody can join any more.
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                taskId,
                IDiagnosisMarket.Phase.Commit,
                IDiagnosisMarket.Phase.Finalizable
            )
        );
        _claim(taskId, doctors[3]);

        vm.expectEmit(address(market));
        emit IDiagnosisMarket.TaskFinalized(taskId, IDiagnosisMarket.Status.Cancelled, 0, 0);
        vm.prank(stranger);
        market.finalize(taskId);

        assertEq(uint8(market.getTask(taskId).status), uint8(IDiagnosisMarket.Status.Cancelled));
        for (uint256 i; i < 3; ++i) {
            uint256 before = usdc.balanceOf(doctors[i]);
            vm.prank(doctors[i]);
            market.withdraw(address(usdc));
            assertEq(usdc.balanceOf(doctors[i]) - before, STAKE);
        }
        uint256 hospitalBefore = usdc.balanceOf(hospital);
        vm.prank(hospital);
        market.withdraw(address(usdc));
        assertEq(usdc.balanceOf(hospital) - hospitalBefore, BOUNTY);
        assertEq(usdc.balanceOf(address(market)), 0);
        assertEq(rep.totalSupply(), 0);
    }

    /// @dev A task that fills within the fill window keeps its full commit window.
    function test_finalize_filledTaskKeepsCommitWindowPastFillDeadline() public {
        IDiagnosisMarket.TaskParams memory p = _params(3, 2);
        p.commitDeadline = uint40(block.timestamp + 30 days);
        p.revealDeadline = p.commitDeadline + 1 days;
        uint256 taskId = _post(p);
        _claimFirst(taskId, 3);
        vm.warp(block.timestamp + 20 days);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Commit));
        _commit(taskId, doctors[0], 1);
        _commit(taskId, doctors[1], 1);
        _commit(taskId, doctors[2], 1);
        _revealAll(taskId, _votes3(1, 1, 1));
        _finalize(taskId);
        assertEq(uint8(market.getTask(taskId).status), uint8(IDiagnosisMarket.Status.Resolved));
    }

    /// @dev With a commit window shorter than 7 days the fill deadline is the commit deadline.
    function test_finalize_shortCommitWindowCancelsAtCommitDeadline() public {
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.commitDeadline = uint40(block.timestamp + 2 days);
        p.revealDeadline = p.commitDeadline + 1 days;
        uint256 taskId = _post(p);
        _claimFirst(taskId, 4);
        assertEq(market.getTask(taskId).fillDeadline, p.commitDeadline);
        vm.warp(p.commitDeadline - 1);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Commit));
        vm.warp(p.commitDeadline);
        _finalize(taskId);
        assertEq(uint8(market.getTask(taskId).status), uint8(IDiagnosisMarket.Status.Cancelled));
        for (uint256 i; i < 4; ++i) {
            assertEq(_credit(doctors[i]), STAKE);
        }
        assertEq(_credit(hospital), BOUNTY);
    }

    // ------------------------------------- issue 10: reputation and revocation

    /// @dev Finding 7: a doctor revoked after claiming keeps its seat and payout but earns no
    /// reputation; the others still do.
    function test_finalize_revokedDoctorPaidButNoReputation() public {
        uint256 taskId = _postDefault();
        uint8[] memory votes = _votes5(1, 1, 1, 1, 2);
        _seatAndCommit(taskId, votes);
        vm.prank(issuer);
        registry.revoke(doctors[1]);
        _revealAll(taskId, votes);
        _finalize(taskId);

        assertEq(_credit(doctors[1]), STAKE + BOUNTY / 4);
        assertEq(rep.balanceOf(doctors[1]), 0);
        assertEq(rep.balanceOf(doctors[0]), 1);
        assertEq(rep.balanceOf(doctors[2]), 1);
        assertEq(rep.balanceOf(doctors[3]), 1);
        assertEq(rep.totalSupply(), 3);
        assertEq(market.getTask(taskId).agreeing, 4);
    }

    /// @dev An accreditation that expired between claim and finalize earns no reputation either.
    function test_finalize_expiredDoctorPaidButNoReputation() public {
        uint256 taskId = _postDefault();
        vm.prank(issuer);
        registry.accredit(doctors[0], keccak256("short"), uint64(block.timestamp + 2 hours));
        uint8[] memory votes = _votes5(1, 1, 1, 1, 1);
        _seatAndCommit(taskId, votes);
        vm.warp(block.timestamp + 2 hours);
        _revealAll(taskId, votes);
        _finalize(taskId);
        assertEq(_credit(doctors[0]), STAKE + BOUNTY / 5);
        assertEq(rep.balanceOf(doctors[0]), 0);
        assertEq(rep.totalSupply(), 4);
    }

    /// @dev Every agreeing doctor revoked: finalize still pays everyone and mints nothing.
    function test_finalize_allAgreeingRevokedMintsNothing() public {
        uint256 taskId = _postDefault();
        uint8[] memory votes = _votes5(1, 1, 1, 2, 2);
        _seatAndCommit(taskId, votes);
        vm.startPrank(issuer);
        for (uint256 i; i < 3; ++i) {
            registry.revoke(doctors[i]);
        }
        vm.stopPrank();
        _revealAll(taskId, votes);
        _finalize(taskId);
        assertEq(uint8(market.getTask(taskId).status), uint8(IDiagnosisMarket.Status.Resolved));
        assertEq(_credit(doctors[0]), STAKE + BOUNTY / 3);
        assertEq(rep.totalSupply(), 0);
    }

    /// @dev Finding 5: no role can stop the market from minting. Every admin power is used
    /// against a running task (pause, delisting, minimums, revoking the hospital); finalize still
    /// resolves, pays and mints, and nobody holds a role on the reputation token to revoke.
    function test_finalize_noRoleCanFreezeReputation() public {
        uint256 taskId = _postDefault();
        uint8[] memory votes = _votes5(1, 1, 1, 1, 2);
        _seatAndCommit(taskId, votes);

        vm.startPrank(admin);
        market.pause();
        market.setTokenAllowed(address(usdc), false);
        market.setMinReputationBounty(address(usdc), 0);
        market.setMinReputationWindow(30 days);
        // The old attack: revoking the market's minter role. The token has no roles at all.
        (bool ok,) = address(rep)
            .call(
                abi.encodeWithSignature(
                    "revokeRole(bytes32,address)", keccak256("MINTER_ROLE"), address(market)
                )
            );
        assertFalse(ok);
        vm.stopPrank();
        vm.prank(issuer);
        registry.revoke(hospital);

        _revealAll(taskId, votes);
        _finalize(taskId);
        assertEq(uint8(market.getTask(taskId).status), uint8(IDiagnosisMarket.Status.Resolved));
        assertEq(rep.totalSupply(), 4);
        assertEq(rep.minter(), address(market));
        vm.prank(doctors[0]);
        assertEq(market.withdraw(address(usdc)), STAKE + BOUNTY / 4);
    }

    /// @dev Finding 5, fuzzed: whoever revokes whichever doctors, finalize succeeds, pays every
    /// agreeing doctor and mints exactly to those still accredited.
    function testFuzz_finalize_alwaysSucceedsAndMintsToAccredited(uint8 revokedMask) public {
        uint256 taskId = _postDefault();
        uint8[] memory votes = _votes5(2, 2, 2, 2, 2);
        _seatAndCommit(taskId, votes);
        uint256 expected;
        vm.startPrank(issuer);
        for (uint256 i; i < 5; ++i) {
            if ((revokedMask >> i) & 1 == 1) registry.revoke(doctors[i]);
            else ++expected;
        }
        vm.stopPrank();
        _revealAll(taskId, votes);
        _finalize(taskId);
        assertEq(rep.totalSupply(), expected);
        for (uint256 i; i < 5; ++i) {
            assertEq(_credit(doctors[i]), STAKE + BOUNTY / 5);
            assertEq(rep.balanceOf(doctors[i]), (revokedMask >> i) & 1 == 1 ? 0 : 1);
        }
    }

    // ---------------------------------------------------------------- pause

    function test_finalize_notBlockedByPause() public {
        uint256 taskId = _postDefault();
        uint8[] memory votes = _votes5(1, 1, 1, 1, 1);
        _seatAndCommit(taskId, votes);
        vm.prank(admin);
        market.pause();
        _revealAll(taskId, votes);
        _finalize(taskId);
        assertEq(uint8(market.getTask(taskId).status), uint8(IDiagnosisMarket.Status.Resolved));
        vm.prank(doctors[0]);
        assertEq(market.withdraw(address(usdc)), STAKE + BOUNTY / 5);
    }

    // ---------------------------------------------------------------- reverts

    function test_finalize_revertsWhen_unknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.UnknownTask.selector, 1));
        _finalize(1);
    }

    function test_finalize_revertsWhen_commitPhase() public {
        uint256 taskId = _postDefault();
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                taskId,
                IDiagnosisMarket.Phase.Finalizable,
                IDiagnosisMarket.Phase.Commit
            )
        );
        _finalize(taskId);
    }

    function test_finalize_revertsWhen_alreadyFinalized() public {
        uint256 taskId = _postDefault();
        _toCommitDeadline(taskId);
        _finalize(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                taskId,
                IDiagnosisMarket.Phase.Finalizable,
                IDiagnosisMarket.Phase.Cancelled
            )
        );
        _finalize(taskId);
    }

    function _votes3(uint8 a, uint8 b, uint8 c) internal pure returns (uint8[] memory v) {
        v = new uint8[](3);
        (v[0], v[1], v[2]) = (a, b, c);
    }

    // ------------------------------------------------------------------ fuzz

    struct Scenario {
        uint256 taskId;
        uint8 seats;
        uint8 quorum;
        uint256 bounty;
        uint256 stake;
        uint8[] votes;
        bool[] reveals;
        uint256[] counts;
    }

    /// @dev Random vote vectors on random seat counts: value is conserved, at most one outcome
    /// reaches quorum, and the market's result matches an independent tally.
    function testFuzz_finalize_randomVotes(
        uint256 seed,
        uint8 seats,
        uint8 quorumOffset,
        uint96 bounty,
        uint96 stake
    ) public {
        Scenario memory s;
        s.seats = uint8(bound(seats, 1, 15));
        s.quorum = uint8(bound(quorumOffset, s.seats / 2 + 1, s.seats));
        IDiagnosisMarket.TaskParams memory p = _params(s.seats, s.quorum);
        // Around the reputation minimum half the time, anywhere up to 1M tUSD otherwise.
        p.bounty = uint96(
            seed % 2 == 0
                ? bound(bounty, MIN_REP_BOUNTY - 2, MIN_REP_BOUNTY + 2)
                : bound(bounty, 1, 1_000_000e6)
        );
        p.stakePerSeat = uint96(bound(stake, 0, 10_000e6));
        (s.bounty, s.stake) = (p.bounty, p.stakePerSeat);
        s.taskId = _post(p);
        _playRandomVotes(s, seed);
        _toRevealDeadline(s.taskId);
        _finalize(s.taskId);
        _checkRandomVotes(s);
    }

    function _playRandomVotes(Scenario memory s, uint256 seed) internal {
        s.votes = new uint8[](s.seats);
        s.reveals = new bool[](s.seats);
        s.counts = new uint256[](NUM_CLASSES);
        _claimFirst(s.taskId, s.seats);
        for (uint256 i; i < s.seats; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // Bias towards class 1 so quorums happen often.
            s.votes[i] = r % 3 == 0 ? uint8((r >> 8) % NUM_CLASSES) : 1;
            s.reveals[i] = (r >> 16) % 5 != 0;
            _commit(s.taskId, doctors[i], s.votes[i]);
        }
        for (uint256 i; i < s.seats; ++i) {
            if (!s.reveals[i]) continue;
            _reveal(s.taskId, doctors[i], s.votes[i]);
            ++s.counts[s.votes[i]];
        }
    }

    function _checkRandomVotes(Scenario memory s) internal view {
        uint256 winners;
        uint8 expected;
        for (uint8 c; c < NUM_CLASSES; ++c) {
            if (s.counts[c] >= s.quorum) {
                ++winners;
                expected = c;
            }
        }
        assertLe(winners, 1, "two outcomes reached quorum");

        uint256 total = _credit(hospital);
        for (uint256 i; i < s.seats; ++i) {
            total += _credit(doctors[i]);
        }
        assertEq(total, s.bounty + s.stake * s.seats, "value not conserved");
        assertEq(usdc.balanceOf(address(market)), total);

        IDiagnosisMarket.Task memory t = market.getTask(s.taskId);
        assertEq(t.earnsReputation, s.seats >= 3 && s.bounty >= MIN_REP_BOUNTY, "earnsReputation");
        if (winners == 1) {
            assertEq(uint8(t.status), uint8(IDiagnosisMarket.Status.Resolved));
            assertEq(t.outcome, expected);
            assertEq(t.agreeing, s.counts[expected]);
            assertEq(rep.totalSupply(), t.earnsReputation ? s.counts[expected] : 0);
            for (uint256 i; i < s.seats; ++i) {
                bool agreed = s.reveals[i] && s.votes[i] == expected;
                assertEq(rep.balanceOf(doctors[i]), agreed && t.earnsReputation ? 1 : 0);
                if (!s.reveals[i]) assertEq(_credit(doctors[i]), 0);
                else if (!agreed) assertEq(_credit(doctors[i]), s.stake);
            }
        } else {
            assertEq(uint8(t.status), uint8(IDiagnosisMarket.Status.Unresolved));
            assertEq(rep.totalSupply(), 0);
            uint256 revealed;
            for (uint256 i; i < s.seats; ++i) {
                if (s.reveals[i]) ++revealed;
            }
            uint256 share = revealed == 0 ? 0 : s.stake * (s.seats - revealed) / revealed;
            for (uint256 i; i < s.seats; ++i) {
                assertEq(_credit(doctors[i]), s.reveals[i] ? s.stake + share : 0);
            }
        }
    }

    /// @dev Bounty, stakes and agreeing count at random: each agreeing doctor gets the same share,
    /// the dust is below the number of agreeing doctors and goes to the poster, and the sums are exact.
    function testFuzz_finalize_dustDistribution(uint96 bounty, uint96 stake, uint8 agreeing, uint8 silent)
        public
    {
        uint8 seats = 15;
        agreeing = uint8(bound(agreeing, 8, seats));
        silent = uint8(bound(silent, 0, seats - agreeing));
        IDiagnosisMarket.TaskParams memory p = _params(seats, 8);
        p.bounty = uint96(bound(bounty, 1, type(uint96).max / 2));
        p.stakePerSeat = uint96(bound(stake, 0, 1_000_000e6 / 20));
        usdc.mint(hospital, p.bounty);
        uint256 taskId = _post(p);
        _claimFirst(taskId, seats);
        for (uint256 i; i < seats; ++i) {
            _commit(taskId, doctors[i], i < agreeing ? 2 : 3);
        }
        for (uint256 i; i < seats - silent; ++i) {
            _reveal(taskId, doctors[i], i < agreeing ? 2 : 3);
        }
        _toRevealDeadline(taskId);
        _finalize(taskId);

        uint256 pool = uint256(p.bounty) + uint256(p.stakePerSeat) * silent;
        uint256 share = pool / agreeing;
        uint256 dust = pool - share * agreeing;
        assertLt(dust, agreeing);
        assertEq(_credit(hospital), dust);
        uint256 total = dust;
        for (uint256 i; i < seats; ++i) {
            uint256 expected =
                i < agreeing ? p.stakePerSeat + share : (i < seats - silent ? p.stakePerSeat : 0);
            assertEq(_credit(doctors[i]), expected);
            total += _credit(doctors[i]);
        }
        assertEq(total, uint256(p.bounty) + uint256(p.stakePerSeat) * seats);
    }
}
