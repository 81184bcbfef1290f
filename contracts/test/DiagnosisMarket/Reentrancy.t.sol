// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {DiagnosisMarket} from "../../src/DiagnosisMarket.sol";
import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {CallbackToken, ITransferHook} from "../mocks/CallbackToken.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

/// @notice An accomplice that, called back from inside a token transfer, tries to act on the
/// market and records what it saw and how each attempt ended.
contract Reenterer is ITransferHook {
    DiagnosisMarket internal immutable market;

    bytes[] internal _attempts;
    bool public armed;

    /// @notice taskCount() when the callback ran.
    uint256 public taskCountSeen;
    /// @notice Status of the task about to be posted, when the callback ran.
    IDiagnosisMarket.Status public nextTaskStatusSeen;
    /// @notice Whether each attempt succeeded, and its revert data.
    bool[] public succeeded;
    bytes[] public results;

    constructor(DiagnosisMarket market_) {
        market = market_;
    }

    function arm(bytes[] memory attempts) external {
        delete _attempts;
        for (uint256 i; i < attempts.length; ++i) {
            _attempts.push(attempts[i]);
        }
        armed = true;
    }

    function onTokenTransfer(address, address, uint256) external {
        if (!armed) return;
        armed = false;
        taskCountSeen = market.taskCount();
        nextTaskStatusSeen = market.getTask(taskCountSeen + 1).status;
        for (uint256 i; i < _attempts.length; ++i) {
            (bool ok, bytes memory ret) = address(market).call(_attempts[i]);
            succeeded.push(ok);
            results.push(ret);
        }
    }

    function attemptCount() external view returns (uint256) {
        return succeeded.length;
    }
}

/// @notice Issue 10, finding 3: a token that calls back during a transfer cannot act on the
/// market halfway through a call; in particular no task exists while its bounty is in flight.
contract ReentrancyTest is MarketFixture {
    CallbackToken internal cb;
    Reenterer internal accomplice;

    function setUp() public override {
        super.setUp();
        cb = new CallbackToken();
        accomplice = new Reenterer(market);
        vm.startPrank(admin);
        market.setTokenAllowed(address(cb), true);
        market.setMinReputationBounty(address(cb), MIN_REP_BOUNTY);
        vm.stopPrank();

        // The accomplice is an accredited doctor with a key, funded and approved: without the
        // guard, its claim from inside the bounty transfer would succeed.
        _accredit(address(accomplice));
        address[] memory payers = new address[](7);
        payers[0] = hospital;
        payers[1] = address(accomplice);
        for (uint256 i; i < 5; ++i) {
            payers[i + 2] = doctors[i];
        }
        for (uint256 i; i < payers.length; ++i) {
            cb.mint(payers[i], 10_000_000e6);
            vm.prank(payers[i]);
            cb.approve(address(market), type(uint256).max);
        }
        cb.setHook(accomplice);
    }

    function _cbParams() internal view returns (IDiagnosisMarket.TaskParams memory p) {
        p = _params(5, 3);
        p.token = address(cb);
    }

    function _assertAllReentrantCallsRefused(uint256 expectedAttempts) internal view {
        assertEq(accomplice.attemptCount(), expectedAttempts, "callback did not run");
        for (uint256 i; i < expectedAttempts; ++i) {
            assertFalse(accomplice.succeeded(i), "a re-entrant call succeeded");
            assertEq(
                accomplice.results(i),
                abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector),
                "refused for another reason than the guard"
            );
        }
    }

    /// @dev The reported attack: from inside the bounty's transferFrom, claim the task being
    /// posted, then commit, reveal, finalize, withdraw, and post another task.
    function test_postTask_reentrantCallsDuringBountyTransferRevert() public {
        uint256 next = market.taskCount() + 1;
        bytes[] memory attempts = new bytes[](7);
        attempts[0] = abi.encodeCall(market.claimSeat, (next));
        attempts[1] = abi.encodeCall(market.commit, (next, bytes32(uint256(1))));
        attempts[2] = abi.encodeCall(market.reveal, (next, 1, bytes32(0)));
        attempts[3] = abi.encodeCall(market.finalize, (next));
        attempts[4] = abi.encodeCall(market.withdraw, (address(cb)));
        attempts[5] = abi.encodeCall(market.postTask, (_cbParams()));
        attempts[6] = abi.encodeCall(market.releaseKey, (next, address(accomplice), hex"01"));
        accomplice.arm(attempts);

        uint256 taskId = _post(_cbParams());

        _assertAllReentrantCallsRefused(attempts.length);
        // Mid-transfer, the task did not exist yet: the bounty is pulled before it is stored.
        assertEq(accomplice.taskCountSeen(), 0);
        assertEq(uint8(accomplice.nextTaskStatusSeen()), uint8(IDiagnosisMarket.Status.None));
        // Afterwards it exists, funded, with nobody seated.
        assertEq(taskId, next);
        assertEq(market.getTask(taskId).filled, 0);
        assertEq(cb.balanceOf(address(market)), BOUNTY);
        assertEq(market.voteOf(taskId, address(accomplice)).seat, 0);
    }

    /// @dev Re-entering from the stake transfer of claimSeat.
    function test_claimSeat_reentrantCallsDuringStakeTransferRevert() public {
        uint256 taskId = _post(_cbParams());
        bytes[] memory attempts = new bytes[](4);
        attempts[0] = abi.encodeCall(market.claimSeat, (taskId));
        attempts[1] = abi.encodeCall(market.finalize, (taskId));
        attempts[2] = abi.encodeCall(market.withdraw, (address(cb)));
        attempts[3] = abi.encodeCall(market.postTask, (_cbParams()));
        accomplice.arm(attempts);

        _claim(taskId, doctors[0]);

        _assertAllReentrantCallsRefused(attempts.length);
        assertEq(market.getTask(taskId).filled, 1);
        assertEq(market.voteOf(taskId, address(accomplice)).seat, 0);
        assertEq(cb.balanceOf(address(market)), uint256(BOUNTY) + STAKE);
    }

    /// @dev Re-entering withdraw from the payout transfer cannot withdraw twice.
    function test_withdraw_reentrantWithdrawReverts() public {
        uint256 taskId = _post(_cbParams());
        uint8[] memory votes = _votes5(1, 1, 1, 1, 2);
        _seatAndCommit(taskId, votes);
        _revealAll(taskId, votes);
        _finalize(taskId);

        // The accomplice holds a credit too (a poster's dust would do); give it one honestly.
        uint256 second = _post(_cbParams());
        _claim(second, address(accomplice));
        vm.warp(market.getTask(second).fillDeadline);
        _finalize(second);
        uint256 credit = market.creditOf(address(accomplice), address(cb));
        assertEq(credit, STAKE);

        bytes[] memory attempts = new bytes[](2);
        attempts[0] = abi.encodeCall(market.withdraw, (address(cb)));
        attempts[1] = abi.encodeCall(market.finalize, (taskId));
        accomplice.arm(attempts);
        uint256 before = cb.balanceOf(address(accomplice));
        vm.prank(address(accomplice));
        market.withdraw(address(cb));

        _assertAllReentrantCallsRefused(attempts.length);
        assertEq(cb.balanceOf(address(accomplice)), before + credit);
        assertEq(market.creditOf(address(accomplice), address(cb)), 0);
    }

    /// @dev finalize makes no transfer, so nothing can call back from it; a task finalized
    /// while a withdrawal is in flight is refused too.
    function test_finalize_reentrantFromWithdrawReverts() public {
        uint256 done = _post(_cbParams());
        _toCommitDeadline(done);
        _finalize(done); // cancelled: the hospital is credited its bounty
        uint256 open = _post(_cbParams());
        _toCommitDeadline(open);

        bytes[] memory attempts = new bytes[](1);
        attempts[0] = abi.encodeCall(market.finalize, (open));
        accomplice.arm(attempts);
        vm.prank(hospital);
        market.withdraw(address(cb));

        _assertAllReentrantCallsRefused(1);
        assertEq(uint8(market.getTask(open).status), uint8(IDiagnosisMarket.Status.Active));
        _finalize(open);
        assertEq(uint8(market.getTask(open).status), uint8(IDiagnosisMarket.Status.Cancelled));
    }
}
