// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

contract RevealTest is MarketFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = _postDefault();
        _claimFirst(taskId, 5);
        for (uint256 i; i < 4; ++i) {
            _commit(taskId, doctors[i], 2);
        }
        // doctors[4] holds a seat but never commits.
    }

    function test_reveal_recordsVote() public {
        _toCommitDeadline(taskId);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.VoteRevealed(taskId, doctors[0], 2);
        _reveal(taskId, doctors[0], 2);

        IDiagnosisMarket.Vote memory v = market.voteOf(taskId, doctors[0]);
        assertTrue(v.revealed);
        assertEq(v.diagnosis, 2);
        assertEq(v.seat, 1);
        assertEq(market.getTask(taskId).revealed, 1);
    }

    function test_reveal_allowedUntilRevealDeadline() public {
        vm.warp(market.getTask(taskId).revealDeadline - 1);
        _reveal(taskId, doctors[0], 2);
    }

    function test_reveal_notBlockedByPause() public {
        vm.prank(admin);
        market.pause();
        _toCommitDeadline(taskId);
        _reveal(taskId, doctors[0], 2);
        assertTrue(market.voteOf(taskId, doctors[0]).revealed);
    }

    function test_reveal_copiedCommitmentDoesNotVerifyForAnotherDoctor() public {
        // doctors[4] copies doctors[0]'s commitment, and even learns its salt and vote.
        bytes32 copied = market.voteOf(taskId, doctors[0]).commitment;
        vm.prank(doctors[4]);
        market.commit(taskId, copied);
        bytes32 salt0 = _salt(taskId, doctors[0]);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.CommitmentMismatch.selector, taskId, doctors[4])
        );
        vm.prank(doctors[4]);
        market.reveal(taskId, 2, salt0);
        // The original owner still reveals fine.
        _reveal(taskId, doctors[0], 2);
    }

    function test_reveal_commitmentIsBoundToTask() public {
        uint256 other = _post(_params(1, 1));
        _claim(other, doctors[0]);
        // Reuse task 1's commitment on the other task (its only seat, so reveal opens at once):
        // it does not verify there.
        bytes32 c = market.voteOf(taskId, doctors[0]).commitment;
        vm.prank(doctors[0]);
        market.commit(other, c);
        bytes32 salt = _salt(taskId, doctors[0]);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.CommitmentMismatch.selector, other, doctors[0])
        );
        vm.prank(doctors[0]);
        market.reveal(other, 2, salt);
    }

    /// @dev Issue 10, finding 8: a commitment computed for another chain id (same market
    /// address, task, doctor, vote and salt) does not reveal here.
    function test_reveal_commitmentForAnotherChainDoesNotVerify() public {
        bytes32 salt = _salt(taskId, doctors[4]);
        bytes32 foreign =
            keccak256(abi.encode(block.chainid + 1, address(market), taskId, doctors[4], uint8(2), salt));
        vm.prank(doctors[4]);
        market.commit(taskId, foreign);
        _toCommitDeadline(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.CommitmentMismatch.selector, taskId, doctors[4])
        );
        vm.prank(doctors[4]);
        market.reveal(taskId, 2, salt);
    }

    /// @dev Issue 10, finding 8: a commitment computed for another market (same chain, task,
    /// doctor, vote and salt) does not reveal here, and a v1 commitment (no chain, no market)
    /// does not either.
    function test_reveal_commitmentForAnotherMarketDoesNotVerify() public {
        bytes32 salt = _salt(taskId, doctors[4]);
        bytes32 foreign =
            keccak256(abi.encode(block.chainid, makeAddr("otherMarket"), taskId, doctors[4], uint8(2), salt));
        vm.prank(doctors[4]);
        market.commit(taskId, foreign);
        _toCommitDeadline(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.CommitmentMismatch.selector, taskId, doctors[4])
        );
        vm.prank(doctors[4]);
        market.reveal(taskId, 2, salt);

        // The same vote on a second market with a v1 commitment: refused as well.
        uint256 other = _post(_params(1, 1));
        _claim(other, doctors[6]);
        bytes32 salt6 = _salt(other, doctors[6]);
        vm.prank(doctors[6]);
        market.commit(other, keccak256(abi.encode(other, doctors[6], uint8(2), salt6)));
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.CommitmentMismatch.selector, other, doctors[6])
        );
        vm.prank(doctors[6]);
        market.reveal(other, 2, salt6);
    }

    /// @dev A commitment made on one chain, replayed after a fork to another chain id, fails there.
    function test_reveal_commitmentReplayedOnForkedChainDoesNotVerify() public {
        bytes32 salt = _salt(taskId, doctors[4]);
        vm.prank(doctors[4]);
        market.commit(taskId, _commitmentFor(taskId, doctors[4], 2));
        _toCommitDeadline(taskId);
        vm.chainId(block.chainid + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.CommitmentMismatch.selector, taskId, doctors[4])
        );
        vm.prank(doctors[4]);
        market.reveal(taskId, 2, salt);
    }

    function test_reveal_revertsWhen_unknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.UnknownTask.selector, 0));
        vm.prank(doctors[0]);
        market.reveal(0, 2, bytes32(0));
    }

    function test_reveal_revertsWhen_commitPhase() public {
        bytes32 salt = _salt(taskId, doctors[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                taskId,
                IDiagnosisMarket.Phase.Reveal,
                IDiagnosisMarket.Phase.Commit
            )
        );
        vm.prank(doctors[0]);
        market.reveal(taskId, 2, salt);
    }

    function test_reveal_revertsWhen_revealDeadlinePassed() public {
        _toRevealDeadline(taskId);
        bytes32 salt = _salt(taskId, doctors[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                taskId,
                IDiagnosisMarket.Phase.Reveal,
                IDiagnosisMarket.Phase.Finalizable
            )
        );
        vm.prank(doctors[0]);
        market.reveal(taskId, 2, salt);
    }

    function test_reveal_revertsWhen_notSeated() public {
        _toCommitDeadline(taskId);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.NotSeated.selector, taskId, stranger));
        vm.prank(stranger);
        market.reveal(taskId, 2, bytes32(0));
    }

    function test_reveal_revertsWhen_notCommitted() public {
        _toCommitDeadline(taskId);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.NotCommitted.selector, taskId, doctors[4]));
        _reveal(taskId, doctors[4], 2);
    }

    function test_reveal_revertsWhen_alreadyRevealed() public {
        _toCommitDeadline(taskId);
        _reveal(taskId, doctors[0], 2);
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.AlreadyRevealed.selector, taskId, doctors[0]));
        _reveal(taskId, doctors[0], 2);
    }

    function test_reveal_revertsWhen_wrongDiagnosis() public {
        _toCommitDeadline(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.CommitmentMismatch.selector, taskId, doctors[0])
        );
        _reveal(taskId, doctors[0], 3);
    }

    function test_reveal_revertsWhen_wrongSalt() public {
        _toCommitDeadline(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.CommitmentMismatch.selector, taskId, doctors[0])
        );
        vm.prank(doctors[0]);
        market.reveal(taskId, 2, bytes32(uint256(1)));
    }

    function test_reveal_revertsWhen_diagnosisOutOfRange() public {
        // A doctor committed to a code outside the task's set: it can never be counted.
        vm.prank(doctors[4]);
        market.commit(taskId, _commitmentFor(taskId, doctors[4], NUM_CLASSES));
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.DiagnosisOutOfRange.selector, NUM_CLASSES, NUM_CLASSES)
        );
        _reveal(taskId, doctors[4], NUM_CLASSES);
    }

    function testFuzz_reveal_onlyTheCommittedPairVerifies(
        uint8 committed,
        uint8 revealed,
        bytes32 salt,
        bytes32 other
    ) public {
        committed = uint8(bound(committed, 0, NUM_CLASSES - 1));
        revealed = uint8(bound(revealed, 0, NUM_CLASSES - 1));
        bytes32 c = market.commitmentOf(taskId, doctors[4], committed, salt);
        vm.prank(doctors[4]);
        market.commit(taskId, c);
        _toCommitDeadline(taskId);
        bool ok = committed == revealed && salt == other;
        if (!ok) {
            vm.expectRevert(
                abi.encodeWithSelector(IDiagnosisMarket.CommitmentMismatch.selector, taskId, doctors[4])
            );
        }
        vm.prank(doctors[4]);
        market.reveal(taskId, revealed, other);
    }
}
