// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {DiagnosisMarket} from "../../src/DiagnosisMarket.sol";
import {ReputationToken} from "../../src/ReputationToken.sol";
import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {MockStablecoin} from "../mocks/MockStablecoin.sol";

/// @notice Drives the market through random but mostly valid lifecycles and keeps ghost totals
/// that the invariants compare with the contracts' state.
contract MarketHandler is CommonBase, StdCheats, StdUtils {
    DiagnosisMarket public immutable market;
    ReputationToken public immutable rep;
    MockStablecoin public immutable usdc;
    address public immutable admin;

    address[] public doctors;
    address[] public posters;
    uint256[] public taskIds;

    // ------------------------------------------------------------- ghost state

    /// @notice Everything that entered the market: bounties and stakes.
    uint256 public ghostDeposited;
    /// @notice Everything that left it through withdraw.
    uint256 public ghostWithdrawn;
    /// @notice What finalize credited, per task.
    mapping(uint256 taskId => uint256) public ghostPaidOut;
    /// @notice The terminal status each task reached when it was finalized (None while active).
    mapping(uint256 taskId => IDiagnosisMarket.Status) public ghostTerminal;
    /// @notice Reputation each doctor should hold: one point per agreement with a final diagnosis,
    /// counted from the handler's own record of revealed votes.
    mapping(address doctor => uint256) public ghostReputation;
    uint256 public ghostReputationTotal;
    /// @notice Set if a reveal that should fail (wrong diagnosis or salt) was accepted.
    bool public ghostBadRevealAccepted;
    /// @notice Set if finalize's outcome differs from an independent tally of the revealed votes.
    bool public ghostTallyMismatch;
    /// @notice Set if reputation moved outside finalize.
    bool public ghostReputationMovedOutsideFinalize;

    mapping(uint256 taskId => mapping(address doctor => uint8)) internal _committedDx;
    mapping(uint256 taskId => mapping(address doctor => bool)) internal _revealed;
    mapping(string action => uint256) public calls;

    constructor(
        DiagnosisMarket market_,
        ReputationToken rep_,
        MockStablecoin usdc_,
        address admin_,
        address[] memory doctors_,
        address[] memory posters_
    ) {
        market = market_;
        rep = rep_;
        usdc = usdc_;
        admin = admin_;
        doctors = doctors_;
        posters = posters_;
        // Reputation earned before the campaign started.
        for (uint256 i; i < doctors_.length; ++i) {
            ghostReputation[doctors_[i]] = rep_.balanceOf(doctors_[i]);
        }
        ghostReputationTotal = rep_.totalSupply();
    }

    // ----------------------------------------------------------------- actions

    function warp(uint256 seconds_) external {
        seconds_ = _bound(seconds_, 0, 12 hours);
        vm.warp(block.timestamp + seconds_);
        ++calls["warp"];
    }

    function postTask(
        uint256 posterSeed,
        uint96 bounty,
        uint96 stake,
        uint8 seats,
        uint8 quorumSeed,
        uint40 commitWindow,
        uint40 revealWindow,
        uint8 predicted,
        uint8 gate
    ) external {
        address poster = posters[posterSeed % posters.length];
        seats = uint8(_bound(seats, 1, 5));
        uint8 quorum = uint8(_bound(quorumSeed, seats / 2 + 1, seats));
        IDiagnosisMarket.TaskParams memory p = IDiagnosisMarket.TaskParams({
            scanCid: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
            token: address(usdc),
            bounty: uint96(_bound(bounty, 1, 100_000e6)),
            stakePerSeat: uint96(_bound(stake, 0, 1_000e6)),
            minReputation: gate % 4 == 0 ? 1 : 0, // a quarter of the tasks need reputation
            commitDeadline: uint40(block.timestamp + _bound(commitWindow, 1 hours, 12 hours)),
            revealDeadline: 0,
            predictedClass: uint8(_bound(predicted, 0, 3)),
            confidenceBps: 5_000,
            numClasses: 4,
            seats: seats,
            quorum: quorum
        });
        p.revealDeadline = p.commitDeadline + uint40(_bound(revealWindow, 1 hours, 12 hours));
        usdc.mint(poster, p.bounty);
        vm.startPrank(poster);
        usdc.approve(address(market), p.bounty);
        try market.postTask(p) returns (uint256 taskId) {
            taskIds.push(taskId);
            ghostDeposited += p.bounty;
            ++calls["postTask"];
            vm.stopPrank();
            // Doctors usually pounce on a new task: seat a few of them at once.
            _claimSome(taskId, posterSeed, uint256(gate >> 2) % (seats + 1));
            vm.startPrank(poster);
        } catch {
            ++calls["postTask.reverted"]; // paused
        }
        vm.stopPrank();
    }

    /// @notice Seats up to `count` doctors on a task in its commit phase.
    function claimSeats(uint256 taskSeed, uint256 doctorSeed, uint8 count) external {
        (bool found, uint256 taskId) = _pickTask(taskSeed, IDiagnosisMarket.Phase.Commit);
        if (!found) return;
        _claimSome(taskId, doctorSeed, _bound(count, 1, 5));
    }

    /// @notice Each seated doctor of a task in its commit phase commits with probability 7/8;
    /// most agree with the model, some vote at random, and a commit may overwrite an earlier one.
    function commitVotes(uint256 taskSeed, uint256 seed) external {
        (bool found, uint256 taskId) = _pickFullTaskInCommit(taskSeed);
        if (!found) (found, taskId) = _pickTask(taskSeed, IDiagnosisMarket.Phase.Commit);
        if (!found) return;
        address[] memory seated = market.seatsOf(taskId);
        for (uint256 i; i < seated.length; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            if (r % 8 == 0) continue;
            _commitOne(taskId, seated[i], r >> 8);
        }
    }

    /// @notice Each committed doctor of a task in its reveal phase reveals with probability 3/4,
    /// except the silent ones;
    /// one reveal in eight is wrong (diagnosis or salt) and must be refused.
    function revealVotes(uint256 taskSeed, uint256 seed) external {
        (bool found, uint256 taskId) = _pickTask(taskSeed, IDiagnosisMarket.Phase.Reveal);
        if (!found) return;
        address[] memory seated = market.seatsOf(taskId);
        for (uint256 i; i < seated.length; ++i) {
            // One doctor in five never reveals on a given task and forfeits its stake.
            if (uint256(keccak256(abi.encode(taskId, seated[i]))) % 5 == 0) continue;
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            if (r % 4 == 0) continue;
            _revealOne(taskId, seated[i], uint8((r >> 8) % 16));
        }
    }

    function _claimSome(uint256 taskId, uint256 seed, uint256 count) internal {
        for (uint256 k; k < count; ++k) {
            _claimOne(taskId, uint256(keccak256(abi.encode(seed, k))));
        }
    }

    function _claimOne(uint256 taskId, uint256 doctorSeed) internal {
        IDiagnosisMarket.Task memory t = market.getTask(taskId);
        // Prefer a doctor who can take the seat; fall back to any (then the call must revert).
        address doctor = doctors[doctorSeed % doctors.length];
        for (uint256 i; i < doctors.length; ++i) {
            address d = doctors[(doctorSeed % doctors.length + i) % doctors.length];
            if (market.voteOf(taskId, d).seat == 0 && rep.balanceOf(d) >= t.minReputation) {
                doctor = d;
                break;
            }
        }
        uint256 repBefore = rep.totalSupply();
        vm.prank(doctor);
        try market.claimSeat(taskId) {
            ghostDeposited += t.stakePerSeat;
            ++calls["claimSeat"];
        } catch {
            ++calls["claimSeat.reverted"];
        }
        _checkReputationUnchanged(repBefore);
    }

    function _commitOne(uint256 taskId, address doctor, uint256 r) internal {
        IDiagnosisMarket.Task memory t = market.getTask(taskId);
        uint8 dx = r % 4 == 0 ? uint8((r >> 8) % t.numClasses) : t.predictedClass;
        bytes32 c = market.commitmentOf(taskId, doctor, dx, _salt(taskId, doctor));
        uint256 repBefore = rep.totalSupply();
        vm.prank(doctor);
        try market.commit(taskId, c) {
            _committedDx[taskId][doctor] = dx;
            ++calls["commit"];
        } catch {
            ++calls["commit.reverted"];
        }
        _checkReputationUnchanged(repBefore);
    }

    /// @dev Modes 0-13 reveal honestly; 14 lies about the diagnosis; 15 uses a wrong salt.
    function _revealOne(uint256 taskId, address doctor, uint8 mode) internal {
        uint8 dx = _committedDx[taskId][doctor];
        bytes32 salt = _salt(taskId, doctor);
        bool wrong = mode >= 14;
        if (mode == 14) dx = uint8((uint256(dx) + 1) % 4);
        if (mode == 15) salt = keccak256(abi.encode(salt));
        uint256 repBefore = rep.totalSupply();
        vm.prank(doctor);
        try market.reveal(taskId, dx, salt) {
            if (wrong) ghostBadRevealAccepted = true;
            _revealed[taskId][doctor] = true;
            ++calls[wrong ? "reveal.wrongAccepted" : "reveal"];
        } catch {
            ++calls[wrong ? "reveal.wrongRejected" : "reveal.reverted"];
        }
        _checkReputationUnchanged(repBefore);
    }

    function finalize(uint256 taskSeed) external {
        // Mostly a finalizable task; otherwise any (finished ones must refuse a second finalize).
        (bool found, uint256 taskId) = _pickTask(taskSeed, IDiagnosisMarket.Phase.Finalizable);
        if (!found) {
            if (taskIds.length == 0) return;
            taskId = taskIds[taskSeed % taskIds.length];
        }
        uint256 creditsBefore = _totalCredits();
        try market.finalize(taskId) {
            ++calls["finalize"];
        } catch {
            ++calls["finalize.reverted"];
            return;
        }
        IDiagnosisMarket.Task memory t = market.getTask(taskId);
        ghostPaidOut[taskId] = _totalCredits() - creditsBefore;
        ghostTerminal[taskId] = t.status;
        if (t.status == IDiagnosisMarket.Status.Resolved) {
            ++calls[t.revealed < t.seats ? "finalize.resolvedWithSilent" : "finalize.resolved"];
        }
        _tallyAndCredit(taskId, t);
    }

    function withdraw(uint256 actorSeed) external {
        uint256 n = doctors.length + posters.length;
        uint256 i = actorSeed % n;
        address actor = i < doctors.length ? doctors[i] : posters[i - doctors.length];
        uint256 credit = market.creditOf(actor, address(usdc));
        if (credit == 0) return;
        uint256 before = usdc.balanceOf(actor);
        uint256 repBefore = rep.totalSupply();
        vm.prank(actor);
        uint256 paid = market.withdraw(address(usdc));
        require(paid == credit && usdc.balanceOf(actor) == before + credit, "withdraw paid wrong amount");
        ghostWithdrawn += paid;
        ++calls["withdraw"];
        _checkReputationUnchanged(repBefore);
    }

    /// @dev Pauses now and then, and unpauses on the next call, so paused stretches are short.
    function togglePause(uint8 seed) external {
        vm.startPrank(admin);
        if (market.paused()) market.unpause();
        else if (seed % 2 == 0) market.pause();
        vm.stopPrank();
        ++calls["togglePause"];
    }

    // ----------------------------------------------------------------- helpers

    function taskCount() external view returns (uint256) {
        return taskIds.length;
    }

    function doctorCount() external view returns (uint256) {
        return doctors.length;
    }

    function posterCount() external view returns (uint256) {
        return posters.length;
    }

    function _salt(uint256 taskId, address doctor) internal pure returns (bytes32) {
        return keccak256(abi.encode("invariant-salt", taskId, doctor));
    }

    /// @dev A task in its commit phase whose seats are all taken, searching from a random start.
    function _pickFullTaskInCommit(uint256 seed) internal view returns (bool, uint256) {
        uint256 n = taskIds.length;
        for (uint256 i; i < n; ++i) {
            uint256 taskId = taskIds[(seed % n + i) % n];
            IDiagnosisMarket.Task memory t = market.getTask(taskId);
            if (market.phaseOf(taskId) == IDiagnosisMarket.Phase.Commit && t.filled == t.seats) {
                return (true, taskId);
            }
        }
        return (false, 0);
    }

    /// @dev A task in `phase`, searching from a random start; (false, 0) if none.
    function _pickTask(uint256 seed, IDiagnosisMarket.Phase phase) internal view returns (bool, uint256) {
        uint256 n = taskIds.length;
        for (uint256 i; i < n; ++i) {
            uint256 taskId = taskIds[(seed % n + i) % n];
            if (market.phaseOf(taskId) == phase) return (true, taskId);
        }
        return (false, 0);
    }

    function _totalCredits() internal view returns (uint256 total) {
        for (uint256 i; i < doctors.length; ++i) {
            total += market.creditOf(doctors[i], address(usdc));
        }
        for (uint256 i; i < posters.length; ++i) {
            total += market.creditOf(posters[i], address(usdc));
        }
    }

    /// @dev Recounts the revealed votes independently and credits the ghost reputation of the
    /// agreeing doctors.
    function _tallyAndCredit(uint256 taskId, IDiagnosisMarket.Task memory t) internal {
        address[] memory seated = market.seatsOf(taskId);
        uint256[4] memory counts;
        for (uint256 i; i < seated.length; ++i) {
            if (_revealed[taskId][seated[i]]) ++counts[_committedDx[taskId][seated[i]]];
        }
        bool reached;
        uint8 winner;
        for (uint8 c; c < 4; ++c) {
            if (counts[c] >= t.quorum) {
                if (reached) ghostTallyMismatch = true; // two outcomes reached quorum
                reached = true;
                winner = c;
            }
        }
        IDiagnosisMarket.Status expected = seated.length < t.seats
            ? IDiagnosisMarket.Status.Cancelled
            : (reached ? IDiagnosisMarket.Status.Resolved : IDiagnosisMarket.Status.Unresolved);
        if (t.status != expected) ghostTallyMismatch = true;
        if (expected != IDiagnosisMarket.Status.Resolved) return;
        if (t.outcome != winner || t.agreeing != counts[winner]) ghostTallyMismatch = true;
        for (uint256 i; i < seated.length; ++i) {
            if (_revealed[taskId][seated[i]] && _committedDx[taskId][seated[i]] == winner) {
                ++ghostReputation[seated[i]];
                ++ghostReputationTotal;
            }
        }
    }

    function _checkReputationUnchanged(uint256 before) internal {
        if (rep.totalSupply() != before) ghostReputationMovedOutsideFinalize = true;
    }
}
