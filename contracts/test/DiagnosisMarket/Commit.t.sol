// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

contract CommitTest is MarketFixture {
    uint256 internal taskId;

    function setUp() public override {
        super.setUp();
        taskId = _postDefault();
        _claimFirst(taskId, 5);
    }

    function test_commit_storesCommitmentAndCounts() public {
        bytes32 c = _commitmentFor(taskId, doctors[0], 2);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.VoteCommitted(taskId, doctors[0], c);
        vm.prank(doctors[0]);
        market.commit(taskId, c);

        assertEq(market.voteOf(taskId, doctors[0]).commitment, c);
        assertEq(market.getTask(taskId).committed, 1);
    }

    function test_commit_overwriteReplacesWithoutRecounting() public {
        _commit(taskId, doctors[0], 2);
        bytes32 second = _commitmentFor(taskId, doctors[0], 3);
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.VoteCommitted(taskId, doctors[0], second);
        vm.prank(doctors[0]);
        market.commit(taskId, second);

        assertEq(market.voteOf(taskId, doctors[0]).commitment, second);
        assertEq(market.getTask(taskId).committed, 1);

        // Only the latest commitment can be revealed.
        for (uint256 i = 1; i < 5; ++i) {
            _commit(taskId, doctors[i], 3);
        }
        bytes32 salt = _salt(taskId, doctors[0]);
        vm.expectRevert(
            abi.encodeWithSelector(IDiagnosisMarket.CommitmentMismatch.selector, taskId, doctors[0])
        );
        vm.prank(doctors[0]);
        market.reveal(taskId, 2, salt);
        _reveal(taskId, doctors[0], 3);
        assertEq(market.voteOf(taskId, doctors[0]).diagnosis, 3);
    }

    function test_commit_allOnesCommitmentRoundTrips() public {
        // The market stores commitments complemented; the all-ones value must survive that.
        bytes32 allOnes = ~bytes32(0);
        vm.startPrank(doctors[0]);
        market.commit(taskId, allOnes);
        assertEq(market.voteOf(taskId, doctors[0]).commitment, allOnes);
        market.commit(taskId, bytes32(uint256(1)));
        market.commit(taskId, allOnes);
        vm.stopPrank();
        assertEq(market.voteOf(taskId, doctors[0]).commitment, allOnes);
        assertEq(market.getTask(taskId).committed, 1);
    }

    function testFuzz_commit_overwritesCountOnce(bytes32 first, bytes32 second) public {
        vm.assume(first != bytes32(0) && second != bytes32(0));
        vm.startPrank(doctors[2]);
        market.commit(taskId, first);
        market.commit(taskId, second);
        vm.stopPrank();
        assertEq(market.voteOf(taskId, doctors[2]).commitment, second);
        assertEq(market.getTask(taskId).committed, 1);
        assertEq(market.voteOf(taskId, doctors[3]).commitment, bytes32(0));
    }

    function test_commit_allCommittedOpensRevealEarly() public {
        for (uint256 i; i < 4; ++i) {
            _commit(taskId, doctors[i], 1);
        }
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Commit));
        _commit(taskId, doctors[4], 1);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Reveal));
        assertLt(block.timestamp, market.getTask(taskId).commitDeadline);
        _reveal(taskId, doctors[0], 1);
    }

    function test_commit_notBlockedByPause() public {
        vm.prank(admin);
        market.pause();
        _commit(taskId, doctors[0], 1);
        assertEq(market.getTask(taskId).committed, 1);
    }

    function test_commit_revertsWhen_unknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.UnknownTask.selector, 7));
        vm.prank(doctors[0]);
        market.commit(7, bytes32(uint256(1)));
    }

    function test_commit_revertsWhen_notSeated() public {
        vm.expectRevert(abi.encodeWithSelector(IDiagnosisMarket.NotSeated.selector, taskId, doctors[5]));
        vm.prank(doctors[5]);
        market.commit(taskId, bytes32(uint256(1)));
    }

    function test_commit_revertsWhen_zeroCommitment() public {
        vm.expectRevert(IDiagnosisMarket.ZeroCommitment.selector);
        vm.prank(doctors[0]);
        market.commit(taskId, bytes32(0));
    }

    function test_commit_revertsWhen_commitDeadlinePassed() public {
        _toCommitDeadline(taskId);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                taskId,
                IDiagnosisMarket.Phase.Commit,
                IDiagnosisMarket.Phase.Reveal
            )
        );
        vm.prank(doctors[0]);
        market.commit(taskId, bytes32(uint256(1)));
    }

    function test_commit_revertsWhen_revealPhaseOpenedEarly() public {
        for (uint256 i; i < 5; ++i) {
            _commit(taskId, doctors[i], 1);
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                IDiagnosisMarket.WrongPhase.selector,
                taskId,
                IDiagnosisMarket.Phase.Commit,
                IDiagnosisMarket.Phase.Reveal
            )
        );
        vm.prank(doctors[0]);
        market.commit(taskId, bytes32(uint256(2)));
    }

    function testFuzz_commit_anyNonZeroCommitment(bytes32 c, uint256 doctorIndex) public {
        vm.assume(c != bytes32(0));
        address d = doctors[bound(doctorIndex, 0, 4)];
        vm.prank(d);
        market.commit(taskId, c);
        assertEq(market.voteOf(taskId, d).commitment, c);
    }
}
