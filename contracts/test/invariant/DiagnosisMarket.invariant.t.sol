// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test, console} from "forge-std/Test.sol";

import {DiagnosisMarket} from "../../src/DiagnosisMarket.sol";
import {DoctorRegistry} from "../../src/DoctorRegistry.sol";
import {ReputationToken} from "../../src/ReputationToken.sol";
import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {MockStablecoin} from "../mocks/MockStablecoin.sol";
import {SwitchableFeeToken} from "../mocks/SwitchableFeeToken.sol";
import {MarketHandler} from "./MarketHandler.sol";

/// @notice Invariants of the market under random lifecycles and the attacks of issue 10, driven
/// by {MarketHandler}. The handler catches the reverts it expects, so any other revert is a failure.
/// forge-config: default.invariant.fail-on-revert = true
/// forge-config: ci.invariant.fail-on-revert = true
contract DiagnosisMarketInvariantTest is Test {
    uint96 internal constant MIN_REP_BOUNTY = 10e6;

    DoctorRegistry internal registry;
    ReputationToken internal rep;
    DiagnosisMarket internal market;
    MockStablecoin internal usdc;
    SwitchableFeeToken internal feeToken;
    MarketHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        address admin = makeAddr("admin");
        address issuer = makeAddr("issuer");
        registry = new DoctorRegistry(admin, issuer);
        market = new DiagnosisMarket(admin, registry);
        rep = ReputationToken(market.reputation());
        usdc = new MockStablecoin();
        feeToken = new SwitchableFeeToken();
        vm.startPrank(admin);
        market.setTokenAllowed(address(usdc), true);
        market.setTokenAllowed(address(feeToken), true);
        market.setMinReputationBounty(address(usdc), MIN_REP_BOUNTY);
        market.setMinReputationBounty(address(feeToken), MIN_REP_BOUNTY);
        vm.stopPrank();

        address[] memory doctors = new address[](8);
        address[] memory seeded = new address[](4);
        for (uint256 i; i < doctors.length; ++i) {
            doctors[i] = makeAddr(string.concat("doctor", vm.toString(i)));
            vm.prank(issuer);
            registry.accredit(
                doctors[i], keccak256(abi.encode("licence", doctors[i])), uint64(block.timestamp + 3650 days)
            );
            vm.prank(doctors[i]);
            registry.setEncryptionKey(keccak256(abi.encode("key", i)));
            _fund(doctors[i]);
            // Half of the doctors start with some reputation, so that gated tasks can fill.
            if (i % 2 == 0) seeded[i / 2] = doctors[i];
        }
        vm.prank(address(market));
        rep.mintBatch(seeded, 1);

        address[] memory posters = new address[](2);
        posters[0] = makeAddr("hospitalA");
        posters[1] = makeAddr("hospitalB");
        for (uint256 i; i < posters.length; ++i) {
            vm.prank(issuer);
            registry.accreditHospital(
                posters[i], keccak256(abi.encode("hospital", i)), uint64(block.timestamp + 3650 days)
            );
        }

        handler = new MarketHandler(
            MarketHandler.Setup({
                market: market,
                registry: registry,
                usdc: usdc,
                feeToken: feeToken,
                admin: admin,
                issuer: issuer,
                doctors: doctors,
                posters: posters,
                farmer: makeAddr("farmer"),
                minReputationBounty: MIN_REP_BOUNTY,
                minReputationWindow: 1 hours
            })
        );
        targetContract(address(handler));
        // Weights: lifecycle steps twice as often as the rest.
        bytes4[] memory selectors = new bytes4[](18);
        selectors[0] = handler.warp.selector;
        selectors[1] = handler.postTask.selector;
        selectors[2] = handler.claimSeats.selector;
        selectors[3] = handler.claimSeats.selector;
        selectors[4] = handler.commitVotes.selector;
        selectors[5] = handler.commitVotes.selector;
        selectors[6] = handler.revealVotes.selector;
        selectors[7] = handler.revealVotes.selector;
        selectors[8] = handler.finalize.selector;
        selectors[9] = handler.finalize.selector;
        selectors[10] = handler.withdraw.selector;
        selectors[11] = handler.togglePause.selector;
        selectors[12] = handler.postTask.selector;
        selectors[13] = handler.farm.selector;
        selectors[14] = handler.toggleFee.selector;
        selectors[15] = handler.toggleAccreditation.selector;
        selectors[16] = handler.withdraw.selector;
        selectors[17] = handler.playOut.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function _fund(address account) internal {
        usdc.mint(account, 1e30);
        feeToken.mint(account, 1e30);
        vm.startPrank(account);
        usdc.approve(address(market), type(uint256).max);
        feeToken.approve(address(market), type(uint256).max);
        vm.stopPrank();
    }

    /// @notice In every token the market holds exactly the open escrow, the stakes of active
    /// tasks and every credited-unwithdrawn balance: nothing more, nothing less, even after the
    /// fee token switched its fee on.
    function invariant_balanceCoversEscrowStakesAndCredits() public view {
        for (uint256 k; k < handler.tokenCount(); ++k) {
            address token = handler.tokens(k);
            uint256 open;
            for (uint256 i; i < handler.taskCount(); ++i) {
                IDiagnosisMarket.Task memory t = market.getTask(handler.taskIds(i));
                if (t.token == token && t.status == IDiagnosisMarket.Status.Active) {
                    open += t.bounty + uint256(t.stakePerSeat) * t.filled;
                }
            }
            uint256 credits;
            for (uint256 i; i < handler.doctorCount(); ++i) {
                credits += market.creditOf(handler.doctors(i), token);
            }
            for (uint256 i; i < handler.posterCount(); ++i) {
                credits += market.creditOf(handler.posters(i), token);
            }
            uint256 balance = MockStablecoin(token).balanceOf(address(market));
            assertGe(balance, open + credits, "market insolvent");
            assertEq(balance, open + credits, "untracked funds");
            assertEq(
                balance,
                handler.ghostDeposited(token) - handler.ghostWithdrawn(token),
                "ghost totals disagree"
            );
        }
        assertFalse(handler.ghostShortDepositAccepted(), "a short bounty or stake was accepted");
    }

    /// @notice No task pays out more than its bounty plus the stakes it took; in fact exactly that.
    function invariant_noTaskPaysMoreThanBountyPlusStakes() public view {
        for (uint256 i; i < handler.taskCount(); ++i) {
            uint256 taskId = handler.taskIds(i);
            if (handler.ghostTerminal(taskId) == IDiagnosisMarket.Status.None) continue;
            IDiagnosisMarket.Task memory t = market.getTask(taskId);
            uint256 cap = t.bounty + uint256(t.stakePerSeat) * t.filled;
            assertLe(handler.ghostPaidOut(taskId), cap, "task overpaid");
            assertEq(handler.ghostPaidOut(taskId), cap, "task value not conserved");
        }
    }

    /// @notice Every finished task sits in exactly one terminal state and never leaves it.
    function invariant_terminalStateIsFinal() public view {
        for (uint256 i; i < handler.taskCount(); ++i) {
            uint256 taskId = handler.taskIds(i);
            IDiagnosisMarket.Status recorded = handler.ghostTerminal(taskId);
            IDiagnosisMarket.Task memory t = market.getTask(taskId);
            IDiagnosisMarket.Phase phase = market.phaseOf(taskId);
            if (recorded == IDiagnosisMarket.Status.None) {
                assertEq(uint8(t.status), uint8(IDiagnosisMarket.Status.Active), "finished without finalize");
                assertTrue(uint8(phase) >= 1 && uint8(phase) <= 3, "active task in a terminal phase");
                continue;
            }
            assertTrue(recorded != IDiagnosisMarket.Status.Active, "finalize left the task active");
            assertEq(uint8(t.status), uint8(recorded), "terminal status changed");
            uint8 expectedPhase = recorded == IDiagnosisMarket.Status.Resolved
                ? uint8(IDiagnosisMarket.Phase.Resolved)
                : recorded == IDiagnosisMarket.Status.Unresolved
                    ? uint8(IDiagnosisMarket.Phase.Unresolved)
                    : uint8(IDiagnosisMarket.Phase.Cancelled);
            assertEq(uint8(phase), expectedPhase, "phase disagrees with status");
        }
    }

    /// @notice Reputation only grows on finalize, by one point per agreeing doctor still
    /// accredited, and only on tasks that meet the minimums: the ghost tally, built from the
    /// handler's own records (farming attempts included), equals every balance exactly.
    function invariant_reputationOnlyFromQualifyingAgreement() public view {
        assertFalse(handler.ghostReputationMovedOutsideFinalize(), "reputation moved outside finalize");
        assertFalse(handler.ghostTallyMismatch(), "finalize disagrees with an independent tally");
        assertFalse(handler.ghostFarmPostAccepted(), "a non-hospital posted a task");
        assertFalse(handler.ghostEarnsMismatch(), "earnsReputation disagrees with the minimums");
        uint256 sum;
        for (uint256 i; i < handler.doctorCount(); ++i) {
            address doctor = handler.doctors(i);
            assertEq(rep.balanceOf(doctor), handler.ghostReputation(doctor), "reputation of a doctor");
            sum += rep.balanceOf(doctor);
        }
        assertEq(rep.totalSupply(), handler.ghostReputationTotal());
        assertEq(rep.totalSupply(), sum);
    }

    /// @notice A wrong diagnosis or salt is never accepted.
    function invariant_wrongRevealsRejected() public view {
        assertFalse(handler.ghostBadRevealAccepted(), "a wrong reveal was accepted");
    }

    /// @dev Prints how often each action ran and succeeded (`forge test -vv` shows it), to see
    /// that the campaign walks whole lifecycles and tries the attacks.
    function afterInvariant() external view {
        string[25] memory names = [
            "postTask.earning",
            "postTask.notEarning",
            "postTask.reverted",
            "claimSeat",
            "claimSeat.reverted",
            "commit",
            "commit.reverted",
            "reveal",
            "reveal.reverted",
            "reveal.wrongRejected",
            "finalize",
            "finalize.reverted",
            "finalize.resolved",
            "finalize.resolvedWithSilent",
            "finalize.resolvedEarning",
            "farm.refused",
            "farm.played",
            "playOut",
            "fee.on",
            "fee.off",
            "revoke",
            "reaccredit",
            "withdraw",
            "togglePause",
            "warp"
        ];
        for (uint256 i; i < names.length; ++i) {
            console.log(names[i], handler.calls(names[i]));
        }
    }
}
