// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
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
        assertEq(t.scanDigest, keccak256(bytes(SCAN_CID)));
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Commit));
    }

    function test_postTask_emitsTaskPosted() public {
        vm.expectEmit(address(market));
        emit IDiagnosisMarket.TaskPosted(1, hospital, SCAN_CID, address(usdc), BOUNTY, STAKE, 1, 6_200, 5, 3);
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
        bool valid = commitDeadline > block.timestamp && revealDeadline > commitDeadline;
        if (!valid) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IDiagnosisMarket.InvalidDeadlines.selector,
                    commitDeadline,
                    revealDeadline,
                    block.timestamp
                )
            );
        }
        _post(p);
    }
}
