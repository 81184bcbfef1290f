// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {ReputationToken} from "./ReputationToken.sol";
import {IDiagnosisMarket} from "./interfaces/IDiagnosisMarket.sol";
import {IDoctorRegistry} from "./interfaces/IDoctorRegistry.sol";
import {IReputationToken} from "./interfaces/IReputationToken.sol";

/// @title DiagnosisMarket
/// @notice Task escrow, seats, commit-reveal voting, finalisation and pull payouts.
/// @dev Every state-changing entry point is `nonReentrant` (transient storage), so a token that
/// calls back on transfer cannot act on a task halfway through a call.
contract DiagnosisMarket is IDiagnosisMarket, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice The role allowed to pause new tasks and seats.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Upper bound on seats; finalize loops over them, so it bounds finalize's gas.
    uint8 public constant MAX_SEATS = 15;
    /// @notice Upper bound on the diagnosis code set; finalize tallies one counter per code.
    uint8 public constant MAX_CLASSES = 16;
    /// @notice Reputation minted to each doctor who agreed with a final diagnosis.
    uint256 public constant REPUTATION_PER_AGREEMENT = 1;
    /// @inheritdoc IDiagnosisMarket
    uint8 public constant MIN_REPUTATION_SEATS = 3;
    /// @inheritdoc IDiagnosisMarket
    uint40 public constant MAX_COMMIT_WINDOW = 30 days;
    /// @inheritdoc IDiagnosisMarket
    uint40 public constant MAX_REVEAL_WINDOW = 30 days;
    /// @inheritdoc IDiagnosisMarket
    uint40 public constant FILL_WINDOW = 7 days;

    IDoctorRegistry private immutable _registry;
    IReputationToken private immutable _reputation;

    /// @inheritdoc IDiagnosisMarket
    uint256 public taskCount;
    /// @inheritdoc IDiagnosisMarket
    uint40 public minReputationWindow;

    /// @dev A task as stored: the fields of {Task} repacked so that each call reads as few slots
    /// as possible, plus the head of the task's seat list.
    struct TaskRecord {
        // slot 0: read by claimSeat, commit and reveal; their counters are written here
        address lastSeated;
        uint40 commitDeadline;
        uint8 numClasses;
        uint8 seats;
        uint8 quorum;
        uint8 filled;
        uint8 committed;
        uint8 revealed;
        Status status;
        // slot 1: read by claimSeat
        address token;
        uint96 stakePerSeat;
        // slot 2: read by claimSeat (and by commit while seats are free)
        address poster;
        uint32 minReputation;
        uint40 fillDeadline;
        uint8 outcome;
        // slot 3: read by reveal after the commit deadline, and by finalize
        uint96 bounty;
        uint40 revealDeadline;
        uint8 agreeing;
        uint16 confidenceBps;
        uint8 predictedClass;
        bool earnsReputation;
        // slot 4
        bytes32 scanDigest;
    }

    /// @dev A seat. Seats form a list from the task's `lastSeated` back to seat 1, so that one
    /// slot per doctor holds both the seat list and the vote.
    struct Ballot {
        address previous;
        uint8 seat;
        bool revealed;
        uint8 diagnosis;
    }

    mapping(uint256 taskId => TaskRecord) private _tasks;
    mapping(uint256 taskId => mapping(address doctor => Ballot)) private _ballots;
    /// @dev The bitwise complement of each seated doctor's commitment. claimSeat writes it (all
    /// ones: no commitment yet), so commit rewrites a non-zero slot (about 2.9k gas) instead of
    /// filling a fresh one (22.1k), while every commitment value stays representable.
    mapping(uint256 taskId => mapping(address doctor => bytes32)) private _sealedCommitments;
    mapping(address account => mapping(address token => uint256)) private _credits;
    mapping(address token => bool) private _allowedTokens;
    mapping(address token => uint96) private _minReputationBounty;

    /// @param admin Holder of the admin and pauser roles.
    /// @param registry_ The registry of doctors and hospitals.
    /// @dev Creates the reputation token with this market as its only minter, for good: nobody
    /// can revoke the market's right to mint and so freeze finalize.
    constructor(address admin, IDoctorRegistry registry_) {
        _registry = registry_;
        _reputation = new ReputationToken(address(this));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        minReputationWindow = 1 hours;
        emit MinReputationWindowSet(1 hours);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IDiagnosisMarket
    function setTokenAllowed(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _allowedTokens[token] = allowed;
        emit TokenAllowed(token, allowed);
    }

    /// @inheritdoc IDiagnosisMarket
    function setMinReputationBounty(address token, uint96 minBounty) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _minReputationBounty[token] = minBounty;
        emit MinReputationBountySet(token, minBounty);
    }

    /// @inheritdoc IDiagnosisMarket
    function setMinReputationWindow(uint40 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (window > MAX_COMMIT_WINDOW) revert ReputationWindowTooLong(window, MAX_COMMIT_WINDOW);
        minReputationWindow = window;
        emit MinReputationWindowSet(window);
    }

    /// @inheritdoc IDiagnosisMarket
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IDiagnosisMarket
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // -------------------------------------------------------------- lifecycle

    /// @inheritdoc IDiagnosisMarket
    function postTask(TaskParams calldata params)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 taskId)
    {
        if (!_registry.isAccreditedHospital(msg.sender)) {
            revert HospitalNotAccredited(msg.sender);
        }
        _validate(params);

        // The bounty arrives before the task exists, so there is never an unfunded task; the
        // escrow must hold exactly what the task promises, so fee-on-transfer tokens are refused.
        _pull(params.token, params.bounty);

        taskId = ++taskCount;
        uint256 commitWindow = params.commitDeadline - block.timestamp;
        bool earnsReputation = params.seats >= MIN_REPUTATION_SEATS && commitWindow >= minReputationWindow;
        if (earnsReputation) {
            uint96 minBounty = _minReputationBounty[params.token];
            earnsReputation = minBounty != 0 && params.bounty >= minBounty;
        }
        TaskRecord storage task = _tasks[taskId];
        task.poster = msg.sender;
        task.commitDeadline = params.commitDeadline;
        task.numClasses = params.numClasses;
        task.seats = params.seats;
        task.quorum = params.quorum;
        task.status = Status.Active;
        task.token = params.token;
        task.revealDeadline = params.revealDeadline;
        task.confidenceBps = params.confidenceBps;
        task.predictedClass = params.predictedClass;
        task.bounty = params.bounty;
        task.stakePerSeat = params.stakePerSeat;
        task.minReputation = params.minReputation;
        task.fillDeadline =
            commitWindow > FILL_WINDOW ? uint40(block.timestamp + FILL_WINDOW) : params.commitDeadline;
        task.earnsReputation = earnsReputation;
        task.scanDigest = keccak256(bytes(params.scanCid));
        emit TaskPosted(
            taskId,
            msg.sender,
            params.scanCid,
            params.token,
            params.bounty,
            params.stakePerSeat,
            params.predictedClass,
            params.confidenceBps,
            params.seats,
            params.quorum,
            earnsReputation
        );
    }

    /// @inheritdoc IDiagnosisMarket
    function claimSeat(uint256 taskId) external whenNotPaused nonReentrant {
        TaskRecord storage task = _existing(taskId);
        _requirePhase(taskId, task, Phase.Commit);
        if (task.filled == task.seats) revert NoFreeSeat(taskId);
        if (msg.sender == task.poster) revert PosterCannotClaim(taskId);
        Ballot storage ballot = _ballots[taskId][msg.sender];
        if (ballot.seat != 0) revert AlreadySeated(taskId, msg.sender);
        if (!_registry.canServe(msg.sender)) revert DoctorCannotServe(msg.sender);
        uint256 minReputation = task.minReputation;
        if (minReputation != 0) {
            uint256 held = _reputation.balanceOf(msg.sender);
            if (held < minReputation) revert InsufficientReputation(msg.sender, held, minReputation);
        }

        uint8 seat = task.filled + 1;
        ballot.previous = task.lastSeated;
        ballot.seat = seat;
        task.filled = seat;
        task.lastSeated = msg.sender;
        _sealedCommitments[taskId][msg.sender] = ~bytes32(0);
        emit SeatClaimed(taskId, msg.sender, seat);

        // A stake that arrives short would be credited in full at finalize and leave the last
        // withdrawal unpaid, so it is measured like the bounty.
        uint256 stake = task.stakePerSeat;
        if (stake != 0) _pull(task.token, stake);
    }

    /// @inheritdoc IDiagnosisMarket
    function releaseKey(uint256 taskId, address doctor, bytes calldata wrappedKey) external nonReentrant {
        TaskRecord storage task = _existing(taskId);
        if (msg.sender != task.poster) revert NotPoster(taskId, msg.sender);
        if (task.status != Status.Active) revert TaskClosed(taskId, task.status);
        if (_ballots[taskId][doctor].seat == 0) revert NotSeated(taskId, doctor);
        if (wrappedKey.length == 0) revert EmptyWrappedKey();
        emit KeyReleased(taskId, doctor, wrappedKey);
    }

    /// @inheritdoc IDiagnosisMarket
    function commit(uint256 taskId, bytes32 commitment) external nonReentrant {
        TaskRecord storage task = _existing(taskId);
        _requirePhase(taskId, task, Phase.Commit);
        if (_ballots[taskId][msg.sender].seat == 0) revert NotSeated(taskId, msg.sender);
        if (commitment == bytes32(0)) revert ZeroCommitment();

        mapping(address => bytes32) storage sealedOf = _sealedCommitments[taskId];
        if (sealedOf[msg.sender] == ~bytes32(0)) ++task.committed;
        sealedOf[msg.sender] = ~commitment;
        emit VoteCommitted(taskId, msg.sender, commitment);
    }

    /// @inheritdoc IDiagnosisMarket
    function reveal(uint256 taskId, uint8 diagnosis, bytes32 salt) external nonReentrant {
        TaskRecord storage task = _existing(taskId);
        _requirePhase(taskId, task, Phase.Reveal);
        Ballot storage ballot = _ballots[taskId][msg.sender];
        if (ballot.seat == 0) revert NotSeated(taskId, msg.sender);
        if (ballot.revealed) revert AlreadyRevealed(taskId, msg.sender);
        bytes32 commitment = ~_sealedCommitments[taskId][msg.sender];
        if (commitment == bytes32(0)) revert NotCommitted(taskId, msg.sender);
        if (diagnosis >= task.numClasses) revert DiagnosisOutOfRange(diagnosis, task.numClasses);
        if (_commitment(taskId, msg.sender, diagnosis, salt) != commitment) {
            revert CommitmentMismatch(taskId, msg.sender);
        }

        ballot.revealed = true;
        ballot.diagnosis = diagnosis;
        ++task.revealed;
        emit VoteRevealed(taskId, msg.sender, diagnosis);
    }

    /// @inheritdoc IDiagnosisMarket
    function finalize(uint256 taskId) external nonReentrant {
        TaskRecord storage task = _existing(taskId);
        _requirePhase(taskId, task, Phase.Finalizable);

        address[] memory seated = _seated(taskId, task);
        if (task.filled < task.seats) {
            _cancel(taskId, task, seated);
            return;
        }
        (bool resolved, uint8 diagnosis, uint8 agreeing) = _tally(taskId, task, seated);
        if (resolved) _resolve(taskId, task, seated, diagnosis, agreeing);
        else _unresolve(taskId, task, seated);
    }

    /// @inheritdoc IDiagnosisMarket
    function withdraw(address token) external nonReentrant returns (uint256 amount) {
        amount = _credits[msg.sender][token];
        if (amount == 0) revert NothingToWithdraw(msg.sender, token);
        _credits[msg.sender][token] = 0;
        emit Withdrawn(msg.sender, token, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDiagnosisMarket
    function commitmentOf(uint256 taskId, address doctor, uint8 diagnosis, bytes32 salt)
        external
        view
        returns (bytes32)
    {
        return _commitment(taskId, doctor, diagnosis, salt);
    }

    /// @inheritdoc IDiagnosisMarket
    function minReputationBounty(address token) external view returns (uint96) {
        return _minReputationBounty[token];
    }

    /// @inheritdoc IDiagnosisMarket
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IDiagnosisMarket
    function reputation() external view returns (address) {
        return address(_reputation);
    }

    /// @inheritdoc IDiagnosisMarket
    function getTask(uint256 taskId) external view returns (Task memory task) {
        TaskRecord storage r = _tasks[taskId];
        task.poster = r.poster;
        task.commitDeadline = r.commitDeadline;
        task.numClasses = r.numClasses;
        task.seats = r.seats;
        task.quorum = r.quorum;
        task.filled = r.filled;
        task.committed = r.committed;
        task.revealed = r.revealed;
        task.status = r.status;
        task.token = r.token;
        task.revealDeadline = r.revealDeadline;
        task.confidenceBps = r.confidenceBps;
        task.predictedClass = r.predictedClass;
        task.outcome = r.outcome;
        task.agreeing = r.agreeing;
        task.bounty = r.bounty;
        task.stakePerSeat = r.stakePerSeat;
        task.minReputation = r.minReputation;
        task.fillDeadline = r.fillDeadline;
        task.earnsReputation = r.earnsReputation;
        task.scanDigest = r.scanDigest;
    }

    /// @inheritdoc IDiagnosisMarket
    function phaseOf(uint256 taskId) external view returns (Phase) {
        return _phase(_tasks[taskId]);
    }

    /// @inheritdoc IDiagnosisMarket
    function seatsOf(uint256 taskId) external view returns (address[] memory) {
        return _seated(taskId, _tasks[taskId]);
    }

    /// @inheritdoc IDiagnosisMarket
    function voteOf(uint256 taskId, address doctor) external view returns (Vote memory vote) {
        Ballot storage ballot = _ballots[taskId][doctor];
        if (ballot.seat == 0) return vote;
        vote.seat = ballot.seat;
        vote.revealed = ballot.revealed;
        vote.diagnosis = ballot.diagnosis;
        vote.commitment = ~_sealedCommitments[taskId][doctor];
    }

    /// @inheritdoc IDiagnosisMarket
    function creditOf(address account, address token) external view returns (uint256) {
        return _credits[account][token];
    }

    /// @inheritdoc IDiagnosisMarket
    function isTokenAllowed(address token) external view returns (bool) {
        return _allowedTokens[token];
    }

    // --------------------------------------------------------------- internal

    function _validate(TaskParams calldata params) private view {
        if (!_allowedTokens[params.token]) revert TokenNotAllowed(params.token);
        if (params.bounty == 0) revert ZeroBounty();
        if (bytes(params.scanCid).length == 0) revert EmptyScanCid();
        if (params.numClasses < 2 || params.numClasses > MAX_CLASSES) {
            revert InvalidClassCount(params.numClasses, MAX_CLASSES);
        }
        if (params.predictedClass >= params.numClasses) {
            revert PredictionOutOfRange(params.predictedClass, params.numClasses);
        }
        if (params.confidenceBps > 10_000) revert ConfidenceOutOfRange(params.confidenceBps);
        if (params.seats == 0 || params.seats > MAX_SEATS) revert InvalidSeatCount(params.seats, MAX_SEATS);
        // A strict majority quorum means two outcomes can never both reach it.
        if (params.quorum > params.seats || uint256(params.quorum) * 2 <= params.seats) {
            revert InvalidQuorum(params.quorum, params.seats);
        }
        if (params.commitDeadline <= block.timestamp || params.revealDeadline <= params.commitDeadline) {
            revert InvalidDeadlines(params.commitDeadline, params.revealDeadline, block.timestamp);
        }
        // Bounded windows: a seated doctor's stake is never locked for longer than both together.
        uint256 commitWindow = params.commitDeadline - block.timestamp;
        if (commitWindow > MAX_COMMIT_WINDOW) revert WindowTooLong(commitWindow, MAX_COMMIT_WINDOW);
        uint256 revealWindow = params.revealDeadline - params.commitDeadline;
        if (revealWindow > MAX_REVEAL_WINDOW) revert WindowTooLong(revealWindow, MAX_REVEAL_WINDOW);
    }

    /// @dev Pulls `amount` of `token` from the caller and checks that exactly that much arrived.
    function _pull(address token, uint256 amount) private {
        IERC20 erc20 = IERC20(token);
        uint256 balanceBefore = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = erc20.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert FeeOnTransferToken(token, amount, received);
    }

    function _existing(uint256 taskId) private view returns (TaskRecord storage task) {
        task = _tasks[taskId];
        if (task.status == Status.None) revert UnknownTask(taskId);
    }

    function _requirePhase(uint256 taskId, TaskRecord storage task, Phase expected) private view {
        Phase actual = _phase(task);
        if (actual != expected) revert WrongPhase(taskId, expected, actual);
    }

    function _phase(TaskRecord storage task) private view returns (Phase) {
        Status status = task.status;
        if (status == Status.Active) {
            uint256 seats = task.seats;
            // Free seats: claims and commits until the fill deadline (never after the commit
            // deadline), then anyone may cancel, so no stake waits long for strangers.
            if (task.filled < seats) {
                return block.timestamp < task.fillDeadline ? Phase.Commit : Phase.Finalizable;
            }
            if (block.timestamp < task.commitDeadline) {
                // Everyone seated and committed: nothing is left to wait for, so reveal opens early.
                if (task.committed < seats) return Phase.Commit;
                return task.revealed < seats ? Phase.Reveal : Phase.Finalizable;
            }
            if (block.timestamp < task.revealDeadline && task.revealed < seats) return Phase.Reveal;
            return Phase.Finalizable;
        }
        if (status == Status.Resolved) return Phase.Resolved;
        if (status == Status.Unresolved) return Phase.Unresolved;
        if (status == Status.Cancelled) return Phase.Cancelled;
        return Phase.None;
    }

    /// @dev The seated doctors in seat order, walking the list back from the last one seated.
    function _seated(uint256 taskId, TaskRecord storage task)
        private
        view
        returns (address[] memory doctors)
    {
        doctors = new address[](task.filled);
        address doctor = task.lastSeated;
        for (uint256 i = doctors.length; i > 0; --i) {
            doctors[i - 1] = doctor;
            doctor = _ballots[taskId][doctor].previous;
        }
    }

    /// @dev Seats still free at the fill deadline: nobody could vote blind in time, so
    /// everyone gets back exactly what they put in.
    function _cancel(uint256 taskId, TaskRecord storage task, address[] memory seated) private {
        task.status = Status.Cancelled;
        emit TaskFinalized(taskId, Status.Cancelled, 0, 0);
        address token = task.token;
        uint256 stake = task.stakePerSeat;
        for (uint256 i; i < seated.length; ++i) {
            _credit(taskId, seated[i], token, stake);
        }
        _credit(taskId, task.poster, token, task.bounty);
    }

    /// @dev No quorum: the poster gets the bounty back; the doctors who revealed did the work, so
    /// they get their stake back and share the stakes of those who never revealed. The split's
    /// dust, or every forfeited stake when nobody revealed, goes to the poster.
    function _unresolve(uint256 taskId, TaskRecord storage task, address[] memory seated) private {
        task.status = Status.Unresolved;
        emit TaskFinalized(taskId, Status.Unresolved, 0, 0);
        address token = task.token;
        uint256 stake = task.stakePerSeat;
        uint256 revealed = task.revealed;
        uint256 forfeited = stake * (seated.length - revealed);
        uint256 share = 0;
        uint256 dust = forfeited;
        if (revealed != 0) {
            share = forfeited / revealed;
            dust = forfeited % revealed;
        }
        for (uint256 i; i < seated.length; ++i) {
            if (_ballots[taskId][seated[i]].revealed) _credit(taskId, seated[i], token, stake + share);
        }
        _credit(taskId, task.poster, token, task.bounty + dust);
    }

    /// @dev Quorum: the agreeing doctors share the bounty and the forfeited stakes and get their
    /// own stake back; those still accredited earn reputation if the task earns it. Disagreeing
    /// revealers get their stake back.
    function _resolve(
        uint256 taskId,
        TaskRecord storage task,
        address[] memory seated,
        uint8 diagnosis,
        uint8 agreeing
    ) private {
        task.status = Status.Resolved;
        task.outcome = diagnosis;
        task.agreeing = agreeing;
        emit TaskFinalized(taskId, Status.Resolved, diagnosis, agreeing);

        uint256 stake = task.stakePerSeat;
        uint256 pool = task.bounty + stake * (seated.length - task.revealed);
        uint256 share = pool / agreeing;
        address token = task.token;
        bool earnsReputation = task.earnsReputation;
        // The doctors to mint to are collected in place at the front of `seated` (w <= i, so an
        // entry is overwritten only after it was read): no second array, one slot fewer on the stack.
        uint256 w = 0;
        for (uint256 i; i < seated.length; ++i) {
            address doctor = seated[i];
            Ballot storage ballot = _ballots[taskId][doctor];
            if (!ballot.revealed) continue;
            if (ballot.diagnosis == diagnosis) {
                // A doctor revoked or expired since claiming keeps the payout, not the reputation.
                if (earnsReputation && _registry.isAccredited(doctor)) seated[w++] = doctor;
                _credit(taskId, doctor, token, stake + share);
            } else {
                _credit(taskId, doctor, token, stake);
            }
        }
        // Integer division leaves at most agreeing - 1 units; they go back to whoever paid them.
        _credit(taskId, task.poster, token, pool % agreeing);
        if (w != 0) {
            // Shrink the array to the doctors actually minted to.
            assembly ("memory-safe") {
                mstore(seated, w)
            }
            _reputation.mintBatch(seated, REPUTATION_PER_AGREEMENT);
        }
    }

    /// @dev The winning code is the only one that can reach quorum, since quorum > seats / 2.
    function _tally(uint256 taskId, TaskRecord storage task, address[] memory seated)
        private
        view
        returns (bool resolved, uint8 diagnosis, uint8 agreeing)
    {
        uint256 quorum = task.quorum;
        // Counts never exceed seats <= MAX_SEATS, so uint8 cannot overflow.
        uint8[] memory counts = new uint8[](task.numClasses);
        for (uint256 i; i < seated.length; ++i) {
            Ballot storage ballot = _ballots[taskId][seated[i]];
            if (!ballot.revealed) continue;
            uint8 code = ballot.diagnosis;
            uint8 count = ++counts[code];
            if (count >= quorum) {
                resolved = true;
                diagnosis = code;
                agreeing = count;
            }
        }
    }

    function _credit(uint256 taskId, address account, address token, uint256 amount) private {
        if (amount == 0) return;
        _credits[account][token] += amount;
        emit Credited(taskId, account, token, amount);
    }

    function _commitment(uint256 taskId, address doctor, uint8 diagnosis, bytes32 salt)
        private
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(this), taskId, doctor, diagnosis, salt));
    }
}
