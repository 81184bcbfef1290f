// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DiagnosisMarket} from "../../src/DiagnosisMarket.sol";
import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

contract ViewsTest is MarketFixture {
    function test_commitmentOf_matchesAbiEncodeHash() public view {
        bytes32 salt = keccak256("salt");
        assertEq(
            market.commitmentOf(7, doctors[0], 2, salt),
            keccak256(abi.encode(block.chainid, address(market), uint256(7), doctors[0], uint8(2), salt))
        );
    }

    /// @dev Issue 10, finding 8: the same inputs give another commitment on another chain.
    function test_commitmentOf_dependsOnChainId() public {
        bytes32 salt = keccak256("salt");
        bytes32 here = market.commitmentOf(7, doctors[0], 2, salt);
        vm.chainId(1);
        bytes32 mainnet = market.commitmentOf(7, doctors[0], 2, salt);
        assertTrue(here != mainnet);
        assertEq(
            mainnet,
            keccak256(abi.encode(uint256(1), address(market), uint256(7), doctors[0], uint8(2), salt))
        );
    }

    /// @dev Issue 10, finding 8: the same inputs give another commitment on another market.
    function test_commitmentOf_dependsOnMarket() public {
        DiagnosisMarket other = new DiagnosisMarket(admin, registry);
        bytes32 salt = keccak256("salt");
        assertTrue(market.commitmentOf(7, doctors[0], 2, salt) != other.commitmentOf(7, doctors[0], 2, salt));
    }

    function testFuzz_commitmentOf_bindsEveryField(uint256 taskId, address doctor, uint8 dx, bytes32 salt)
        public
        view
    {
        bytes32 c = market.commitmentOf(taskId, doctor, dx, salt);
        assertEq(c, keccak256(abi.encode(block.chainid, address(market), taskId, doctor, dx, salt)));
        assertTrue(c != market.commitmentOf(taskId ^ 1, doctor, dx, salt));
        assertTrue(c != market.commitmentOf(taskId, address(uint160(doctor) ^ 1), dx, salt));
        assertTrue(c != market.commitmentOf(taskId, doctor, dx ^ 1, salt));
        assertTrue(c != market.commitmentOf(taskId, doctor, dx, salt ^ bytes32(uint256(1))));
    }

    function test_views_unknownTaskIsEmpty() public view {
        assertEq(uint8(market.phaseOf(5)), uint8(IDiagnosisMarket.Phase.None));
        assertEq(market.getTask(5).poster, address(0));
        assertEq(uint8(market.getTask(5).status), uint8(IDiagnosisMarket.Status.None));
        assertEq(market.seatsOf(5).length, 0);
        assertEq(market.voteOf(5, doctors[0]).seat, 0);
        assertEq(market.creditOf(doctors[0], address(usdc)), 0);
    }

    function test_seatsOf_listsSeatOrder() public {
        uint256 taskId = _postDefault();
        _claim(taskId, doctors[3]);
        _claim(taskId, doctors[1]);
        address[] memory seated = market.seatsOf(taskId);
        assertEq(seated.length, 2);
        assertEq(seated[0], doctors[3]);
        assertEq(seated[1], doctors[1]);
    }

    function test_phaseOf_walksTheLifecycle() public {
        uint256 taskId = _post(_params(3, 2));
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Commit));
        _claimFirst(taskId, 3);
        _commit(taskId, doctors[0], 1);
        _commit(taskId, doctors[1], 1);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Commit));
        _toCommitDeadline(taskId);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Reveal));
        _reveal(taskId, doctors[0], 1);
        _reveal(taskId, doctors[1], 1);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Reveal));
        _toRevealDeadline(taskId);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Finalizable));
        _finalize(taskId);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Resolved));
        vm.warp(block.timestamp + 365 days);
        assertEq(uint8(_phase(taskId)), uint8(IDiagnosisMarket.Phase.Resolved));
    }

    /// @dev Phase as a function of the clock alone, for a task with every seat filled and some
    /// commits, at random times.
    function testFuzz_phaseOf_timing(
        uint40 commitWindow,
        uint40 revealWindow,
        uint256 elapsed,
        bool allCommitted
    ) public {
        commitWindow = uint40(bound(commitWindow, 1, 30 days));
        revealWindow = uint40(bound(revealWindow, 1, 30 days));
        elapsed = bound(elapsed, 0, uint256(commitWindow) + revealWindow + 30 days);
        IDiagnosisMarket.TaskParams memory p = _params(3, 2);
        p.commitDeadline = uint40(block.timestamp) + commitWindow;
        p.revealDeadline = p.commitDeadline + revealWindow;
        uint256 taskId = _post(p);
        _claimFirst(taskId, 3);
        _commit(taskId, doctors[0], 1);
        _commit(taskId, doctors[1], 1);
        if (allCommitted) _commit(taskId, doctors[2], 1);

        vm.warp(block.timestamp + elapsed);
        IDiagnosisMarket.Phase expected;
        if (block.timestamp < p.commitDeadline && !allCommitted) expected = IDiagnosisMarket.Phase.Commit;
        else if (block.timestamp < p.revealDeadline) expected = IDiagnosisMarket.Phase.Reveal;
        else expected = IDiagnosisMarket.Phase.Finalizable;
        assertEq(uint8(_phase(taskId)), uint8(expected));
    }

    /// @dev With seats still free the task goes straight from Commit to Finalizable (cancel) at
    /// its fill deadline: the commit deadline or 7 days after posting, whichever comes first.
    function testFuzz_phaseOf_unfilledTiming(uint40 commitWindow, uint256 elapsed, uint8 filled) public {
        commitWindow = uint40(bound(commitWindow, 1, 30 days));
        elapsed = bound(elapsed, 0, uint256(commitWindow) + 60 days);
        filled = uint8(bound(filled, 0, 4));
        IDiagnosisMarket.TaskParams memory p = _params(5, 3);
        p.commitDeadline = uint40(block.timestamp) + commitWindow;
        p.revealDeadline = p.commitDeadline + 1 days;
        uint256 fillDeadline = block.timestamp + (commitWindow < 7 days ? commitWindow : 7 days);
        uint256 taskId = _post(p);
        _claimFirst(taskId, filled);
        vm.warp(block.timestamp + elapsed);
        IDiagnosisMarket.Phase expected = block.timestamp < fillDeadline
            ? IDiagnosisMarket.Phase.Commit
            : IDiagnosisMarket.Phase.Finalizable;
        assertEq(uint8(_phase(taskId)), uint8(expected));
        if (expected == IDiagnosisMarket.Phase.Finalizable) {
            _finalize(taskId);
            assertEq(uint8(market.getTask(taskId).status), uint8(IDiagnosisMarket.Status.Cancelled));
        }
    }
}
