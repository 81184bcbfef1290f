// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {DiagnosisMarket} from "../../src/DiagnosisMarket.sol";
import {DoctorRegistry} from "../../src/DoctorRegistry.sol";
import {ReputationToken} from "../../src/ReputationToken.sol";
import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {MockStablecoin} from "../mocks/MockStablecoin.sol";
import {SwitchableFeeToken} from "../mocks/SwitchableFeeToken.sol";

/// @notice Drives the market through random but mostly valid lifecycles, plus the attacks of
/// issue 10 (reputation farming with tiny tasks, stakes in a token whose fee is switched on,
/// revocations), and keeps ghost totals that the invariants compare with the contracts' state.
contract MarketHandler is CommonBase, StdCheats, StdUtils {
    /// @notice Everything the handler is built with.
    struct Setup {
        DiagnosisMarket market;
        DoctorRegistry registry;
        MockStablecoin usdc;
        SwitchableFeeToken feeToken;
        address admin;
        address issuer;
        address[] doctors;
        address[] posters;
        address farmer;
        uint96 minReputationBounty;
        uint40 minReputationWindow;
    }

    DiagnosisMarket public immutable market;
    DoctorRegistry public immutable registry;
    ReputationToken public immutable rep;
    MockStablecoin public immutable usdc;
    SwitchableFeeToken public immutable feeToken;
    address public immutable admin;
    address public immutable issuer;
    /// @notice Not a hospital: every task it tries to post must be refused.
    address public immutable farmer;
    /// @notice The market's minimums, as the handler configured them (its own record, not read back).
    uint96 public immutable minReputationBounty;
    uint40 public immutable minReputationWindow;

    address[] public doctors;
    address[] public posters;
    address[] public tokens;
    uint256[] public taskIds;

    // ------------------------------------------------------------- ghost state

    /// @notice Everything that entered the market, per token: bounties and stakes.
    mapping(address token => uint256) public ghostDeposited;
    /// @notice Everything that left it through withdraw, per token.
    mapping(address token => uint256) public ghostWithdrawn;
    /// @notice What finalize credited, per task.
    mapping(uint256 taskId => uint256) public ghostPaidOut;
    /// @notice The terminal status each task reached when it was finalized (None while active).
    mapping(uint256 taskId => IDiagnosisMarket.Status) public ghostTerminal;
    /// @notice Whether a task should earn reputation, from the handler's own record of its
    /// parameters and the market's minimums.
    mapping(uint256 taskId => bool) public ghostEarns;
    /// @notice Reputation each doctor should hold: one point per agreement with a final diagnosis
    /// on a task that earns reputation, while accredited, from the handler's own records.
    mapping(address doctor => uint256) public ghostReputation;
    uint256 public ghostReputationTotal;
    /// @notice Whether the handler accredited (true) or revoked (false) each doctor last.
    mapping(address doctor => bool) public ghostAccredited;
    /// @notice Set if a reveal that should fail (wrong diagnosis or salt) was accepted.
    bool public ghostBadRevealAccepted;
    /// @notice Set if finalize's outcome differs from an independent tally of the revealed votes.
    bool public ghostTallyMismatch;
    /// @notice Set if reputation moved outside finalize.
    bool public ghostReputationMovedOutsideFinalize;
    /// @notice Set if a non-hospital posted a task.
    bool public ghostFarmPostAccepted;
    /// @notice Set if a task's earnsReputation differs from the handler's expectation.
    bool public ghostEarnsMismatch;
    /// @notice Set if a stake or bounty in the fee token was accepted while its fee was on.
    bool public ghostShortDepositAccepted;

    mapping(uint256 taskId => mapping(address doctor => uint8)) internal _committedDx;
    mapping(uint256 taskId => mapping(address doctor => bool)) internal _revealed;
    mapping(string action => uint256) public calls;
    uint256 internal _revokedCount;

    constructor(Setup memory s) {
        market = s.market;
        registry = s.registry;
        rep = ReputationToken(s.market.reputation());
        usdc = s.usdc;
        feeToken = s.feeToken;
        admin = s.admin;
        issuer = s.issuer;
        farmer = s.farmer;
        minReputationBounty = s.minReputationBounty;
        minReputationWindow = s.minReputationWindow;
        doctors = s.doctors;
        posters = s.posters;
        tokens.push(address(s.usdc));
        tokens.push(address(s.feeToken));
        // Reputation earned before the campaign started.
        for (uint256 i; i < s.doctors.length; ++i) {
            ghostReputation[s.doctors[i]] = rep.balanceOf(s.doctors[i]);
            ghostAccredited[s.doctors[i]] = true;
        }
        ghostReputationTotal = rep.totalSupply();
    }

    // ----------------------------------------------------------------- actions

    function warp(uint256 seconds_) external {
        seconds_ = _bound(seconds_, 0, 1 days);
        vm.warp(block.timestamp + seconds_);
        ++calls["warp"];
    }

    /// @notice An ordinary task from an accredited hospital, in usdc or (one in three) in the fee
    /// token; its reputation eligibility follows from its random parameters.
    function postTask(
        uint256 posterSeed,
        uint96 bounty,
        uint96 stake,
        uint8 seats,
        uint8 quorumSeed,
        uint40 commitWindow,
        uint40 revealWindow,
        uint8 predicted,
        uint256 gate
    ) external {
        // The fuzzer favours edge values; hashing spreads the choices below evenly.
        gate = uint256(keccak256(abi.encode(gate, posterSeed)));
        // Mostly tasks that earn reputation (the farm action covers the small ones); one in
        // eight has too few seats, one in eight too short a window, and one in four a bounty
        // around the minimum.
        seats = uint8(gate % 8 == 7 ? _bound(seats, 1, 2) : _bound(seats, 3, 5));
        uint256 window = gate % 8 == 6
            ? _bound(commitWindow, 30 minutes, 1 hours)
            : _bound(commitWindow, 1 hours, 12 hours);
        IDiagnosisMarket.TaskParams memory p = _taskParams(
            posterSeed % 3 == 2 ? address(feeToken) : address(usdc),
            uint96(
                gate % 4 == 1
                    ? _bound(bounty, minReputationBounty - 2, minReputationBounty + 2)
                    : _bound(bounty, minReputationBounty, 100_000e6)
            ),
            seats,
            uint8(_bound(quorumSeed, seats / 2 + 1, seats)),
            window
        );
        p.stakePerSeat = uint96(_bound(stake, 0, 1_000e6));
        p.minReputation = gate % 4 == 0 ? 1 : 0; // a quarter of the tasks need reputation
        p.revealDeadline = p.commitDeadline + uint40(_bound(revealWindow, 1 hours, 12 hours));
        p.predictedClass = uint8(_bound(predicted, 0, 3));
        (bool posted, uint256 taskId) = _post(posters[posterSeed % posters.length], p);
        // Doctors usually pounce on a new task: mostly every seat at once, sometimes a few.
        if (posted) _claimSome(taskId, posterSeed, gate % 3 == 2 ? (gate >> 8) % (seats + 1) : seats);
    }

    /// @notice The farming attack of issue 10: tiny tasks finished in the same block by
    /// colluding doctors. Mode 0: a non-hospital posts (must be refused). Modes 1-3: a hospital
    /// posts below one minimum each (one seat; a bounty under the minimum; a commit window under
    /// the minimum); the task pays but must mint nothing.
    function farm(uint256 seed, uint8 mode) external {
        mode = mode % 4;
        IDiagnosisMarket.TaskParams memory p;
        if (mode == 0) {
            p = _taskParams(address(usdc), 1, 1, 1, 1);
            p.stakePerSeat = 0;
            usdc.mint(farmer, p.bounty);
            vm.prank(farmer);
            usdc.approve(address(market), p.bounty);
            vm.prank(farmer);
            try market.postTask(p) {
                ghostFarmPostAccepted = true;
            } catch {
                ++calls["farm.refused"];
            }
            return;
        }
        if (mode == 1) {
            p = _taskParams(address(usdc), minReputationBounty * 10, 1, 1, 1);
        } else if (mode == 2) {
            p = _taskParams(address(usdc), minReputationBounty - 1, 3, 3, 1 hours);
        } else {
            p = _taskParams(address(usdc), minReputationBounty * 10, 3, 3, minReputationWindow - 1);
        }
        p.stakePerSeat = 0;
        p.revealDeadline = p.commitDeadline + 1;
        (bool posted, uint256 taskId) = _post(posters[seed % posters.length], p);
        if (!posted) return;
        // Everything in the same block: seat, commit, reveal (opens early), finalize.
        _claimSome(taskId, seed, p.seats);
        address[] memory seated = market.seatsOf(taskId);
        for (uint256 i; i < seated.length; ++i) {
            _commitOne(taskId, seated[i], 1); // r % 4 != 0: the predicted class
        }
        for (uint256 i; i < seated.length; ++i) {
            _revealOne(taskId, seated[i], 0);
        }
        _finalizeTask(taskId);
        ++calls["farm.played"];
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

    /// @notice Each committed doctor of a task in its reveal phase reveals with probability 7/8,
    /// except the silent ones; one reveal in eight is wrong (diagnosis or salt) and must be refused.
    function revealVotes(uint256 taskSeed, uint256 seed) external {
        (bool found, uint256 taskId) = _pickTask(taskSeed, IDiagnosisMarket.Phase.Reveal);
        if (!found) return;
        address[] memory seated = market.seatsOf(taskId);
        for (uint256 i; i < seated.length; ++i) {
            // One doctor in five never reveals on a given task and forfeits its stake.
            if (uint256(keccak256(abi.encode(taskId, seated[i]))) % 5 == 0) continue;
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            if (r % 8 == 0) continue;
            _revealOne(taskId, seated[i], uint8((r >> 8) % 16));
        }
    }

    /// @notice Plays a whole task whose seats are all taken: every doctor commits (most agree),
    /// the non-silent ones reveal, time runs to the reveal deadline if someone stayed silent,
    /// and the task is finalized; so that full lifecycles happen often in a short campaign.
    function playOut(uint256 taskSeed, uint256 seed) external {
        (bool found, uint256 taskId) = _pickFullTaskInCommit(taskSeed);
        if (!found) return;
        address[] memory seated = market.seatsOf(taskId);
        for (uint256 i; i < seated.length; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // One vote in eight at random (r % 4 == 0 picks a random code in _commitOne).
            _commitOne(taskId, seated[i], r % 8 == 0 ? r : r | 1);
        }
        for (uint256 i; i < seated.length; ++i) {
            if (uint256(keccak256(abi.encode(taskId, seated[i]))) % 5 == 0) continue; // silent
            // One reveal in sixteen is wrong (modes 14 and 15).
            _revealOne(taskId, seated[i], uint8(uint256(keccak256(abi.encode(seed, i, "reveal"))) % 32));
        }
        if (market.phaseOf(taskId) == IDiagnosisMarket.Phase.Reveal) {
            vm.warp(market.getTask(taskId).revealDeadline);
        }
        _finalizeTask(taskId);
        ++calls["playOut"];
    }

    function finalize(uint256 taskSeed) external {
        // Mostly a finalizable task; otherwise any (finished ones must refuse a second finalize).
        (bool found, uint256 taskId) = _pickTask(taskSeed, IDiagnosisMarket.Phase.Finalizable);
        if (!found) {
            if (taskIds.length == 0) return;
            taskId = taskIds[taskSeed % taskIds.length];
        }
        _finalizeTask(taskId);
    }

    function withdraw(uint256 actorSeed, bool inFeeToken) external {
        uint256 n = doctors.length + posters.length;
        uint256 i = actorSeed % n;
        address actor = i < doctors.length ? doctors[i] : posters[i - doctors.length];
        address token = inFeeToken ? address(feeToken) : address(usdc);
        uint256 credit = market.creditOf(actor, token);
        if (credit == 0) return;
        uint256 marketBefore = _balance(token, address(market));
        uint256 actorBefore = _balance(token, actor);
        uint256 repBefore = rep.totalSupply();
        vm.prank(actor);
        uint256 paid = market.withdraw(token);
        require(paid == credit, "withdraw paid a wrong amount");
        // The market parts with exactly the credit; a fee, if on, is the recipient's loss.
        require(_balance(token, address(market)) == marketBefore - credit, "market balance off");
        uint256 fee = token == address(feeToken) ? _fee(credit) : 0;
        require(_balance(token, actor) == actorBefore + credit - fee, "recipient balance off");
        ghostWithdrawn[token] += paid;
        ++calls["withdraw"];
        _checkReputationUnchanged(repBefore);
    }

    /// @dev Pauses now and then, and unpauses on the next call, so paused stretches are short.
    function togglePause(uint8 seed) external {
        vm.startPrank(admin);
        if (market.paused()) market.unpause();
        else if (seed % 4 == 1) market.pause();
        vm.stopPrank();
        ++calls["togglePause"];
    }

    /// @notice Switches the fee token's 1% fee on or off, at any point of any task.
    function toggleFee(bool on) external {
        feeToken.setFeeBps(on ? 100 : 0);
        ++calls[on ? "fee.on" : "fee.off"];
    }

    /// @notice Revokes an accredited doctor now and then (at most two at a time, so tasks still
    /// fill), and re-accredits revoked ones: seats already held stay valid, and a doctor revoked
    /// at finalize earns no reputation.
    function toggleAccreditation(uint256 doctorSeed) external {
        address doctor = doctors[doctorSeed % doctors.length];
        vm.startPrank(issuer);
        if (ghostAccredited[doctor]) {
            if (_revokedCount < 2) {
                registry.revoke(doctor);
                ghostAccredited[doctor] = false;
                ++_revokedCount;
                ++calls["revoke"];
            }
        } else {
            registry.accredit(
                doctor, keccak256(abi.encode("licence", doctor)), uint64(block.timestamp + 3650 days)
            );
            ghostAccredited[doctor] = true;
            --_revokedCount;
            ++calls["reaccredit"];
        }
        vm.stopPrank();
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

    function tokenCount() external view returns (uint256) {
        return tokens.length;
    }

    function _taskParams(address token, uint96 bounty, uint8 seats, uint8 quorum, uint256 commitWindow)
        internal
        view
        returns (IDiagnosisMarket.TaskParams memory p)
    {
        p = IDiagnosisMarket.TaskParams({
            scanCid: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
            token: token,
            bounty: bounty,
            stakePerSeat: 0,
            minReputation: 0,
            // forge-lint: disable-next-line(unsafe-typecast)
            commitDeadline: uint40(block.timestamp + commitWindow),
            // forge-lint: disable-next-line(unsafe-typecast)
            revealDeadline: uint40(block.timestamp + commitWindow + 1 hours),
            predictedClass: 1,
            confidenceBps: 5_000,
            numClasses: 4,
            seats: seats,
            quorum: quorum
        });
    }

    /// @dev Posts `p` as `poster` and records the task and the handler's own expectation of
    /// whether it earns reputation. (false, 0) if refused (pause, or the fee token's fee is on).
    function _post(address poster, IDiagnosisMarket.TaskParams memory p) internal returns (bool, uint256) {
        SwitchableFeeToken(p.token).mint(poster, p.bounty); // both tokens share `mint`
        vm.startPrank(poster);
        MockStablecoin(p.token).approve(address(market), p.bounty);
        try market.postTask(p) returns (uint256 taskId) {
            vm.stopPrank();
            if (p.token == address(feeToken) && _fee(p.bounty) != 0) ghostShortDepositAccepted = true;
            taskIds.push(taskId);
            ghostDeposited[p.token] += p.bounty;
            bool earns = p.seats >= 3 && p.commitDeadline - block.timestamp >= minReputationWindow
                && p.bounty >= minReputationBounty;
            ghostEarns[taskId] = earns;
            if (market.getTask(taskId).earnsReputation != earns) ghostEarnsMismatch = true;
            ++calls[earns ? "postTask.earning" : "postTask.notEarning"];
            return (true, taskId);
        } catch {
            vm.stopPrank();
            ++calls["postTask.reverted"]; // paused, or a fee on the bounty
            return (false, 0);
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
            if (
                market.voteOf(taskId, d).seat == 0 && rep.balanceOf(d) >= t.minReputation
                    && ghostAccredited[d]
            ) {
                doctor = d;
                break;
            }
        }
        uint256 repBefore = rep.totalSupply();
        vm.prank(doctor);
        try market.claimSeat(taskId) {
            ghostDeposited[t.token] += t.stakePerSeat;
            if (t.token == address(feeToken) && _fee(t.stakePerSeat) != 0) ghostShortDepositAccepted = true;
            ++calls["claimSeat"];
        } catch {
            ++calls["claimSeat.reverted"];
        }
        _checkReputationUnchanged(repBefore);
    }

    function _commitOne(uint256 taskId, address doctor, uint256 r) internal {
        IDiagnosisMarket.Task memory t = market.getTask(taskId);
        uint8 dx = r % 4 == 0 ? uint8((r >> 8) % t.numClasses) : t.predictedClass;
        bytes32 c = _commitment(taskId, doctor, dx, _salt(taskId, doctor));
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

    /// @dev Mode 14 lies about the diagnosis, 15 uses a wrong salt; every other mode is honest.
    function _revealOne(uint256 taskId, address doctor, uint8 mode) internal {
        uint8 dx = _committedDx[taskId][doctor];
        bytes32 salt = _salt(taskId, doctor);
        bool wrong = mode == 14 || mode == 15;
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

    function _finalizeTask(uint256 taskId) internal {
        address token = market.getTask(taskId).token;
        uint256 creditsBefore = _totalCredits(token);
        try market.finalize(taskId) {
            ++calls["finalize"];
        } catch {
            ++calls["finalize.reverted"];
            return;
        }
        IDiagnosisMarket.Task memory t = market.getTask(taskId);
        ghostPaidOut[taskId] = _totalCredits(token) - creditsBefore;
        ghostTerminal[taskId] = t.status;
        if (t.status == IDiagnosisMarket.Status.Resolved) {
            ++calls[t.revealed < t.seats ? "finalize.resolvedWithSilent" : "finalize.resolved"];
            if (ghostEarns[taskId]) ++calls["finalize.resolvedEarning"];
        }
        _tallyAndCredit(taskId, t);
    }

    /// @dev Commitment v2, computed by the handler itself.
    function _commitment(uint256 taskId, address doctor, uint8 dx, bytes32 salt)
        internal
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(market), taskId, doctor, dx, salt));
    }

    function _salt(uint256 taskId, address doctor) internal pure returns (bytes32) {
        return keccak256(abi.encode("invariant-salt", taskId, doctor));
    }

    /// @dev What the fee token would burn of a transfer of `amount` now.
    function _fee(uint256 amount) internal view returns (uint256) {
        return amount * feeToken.feeBps() / 10_000;
    }

    function _balance(address token, address account) internal view returns (uint256) {
        return MockStablecoin(token).balanceOf(account);
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

    function _totalCredits(address token) internal view returns (uint256 total) {
        for (uint256 i; i < doctors.length; ++i) {
            total += market.creditOf(doctors[i], token);
        }
        for (uint256 i; i < posters.length; ++i) {
            total += market.creditOf(posters[i], token);
        }
    }

    /// @dev Recounts the revealed votes independently and credits the ghost reputation of the
    /// agreeing doctors, on tasks that earn it, to those the handler left accredited.
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
        if (!ghostEarns[taskId]) return;
        for (uint256 i; i < seated.length; ++i) {
            address doctor = seated[i];
            if (
                _revealed[taskId][doctor] && _committedDx[taskId][doctor] == winner && ghostAccredited[doctor]
            ) {
                ++ghostReputation[doctor];
                ++ghostReputationTotal;
            }
        }
    }

    function _checkReputationUnchanged(uint256 before) internal {
        if (rep.totalSupply() != before) ghostReputationMovedOutsideFinalize = true;
    }
}
