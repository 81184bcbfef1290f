// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {IDiagnosisMarket} from "./interfaces/IDiagnosisMarket.sol";
import {IDoctorRegistry} from "./interfaces/IDoctorRegistry.sol";
import {IReputationToken} from "./interfaces/IReputationToken.sol";

/// @title DiagnosisMarket
/// @notice Task escrow, seats, commit-reveal voting, finalisation and pull payouts.
contract DiagnosisMarket is IDiagnosisMarket, AccessControl, Pausable {
    using SafeERC20 for IERC20;

    /// @notice The role allowed to pause new tasks and seats.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Upper bound on seats; finalize loops over them, so it bounds finalize's gas.
    uint8 public constant MAX_SEATS = 15;
    /// @notice Upper bound on the diagnosis code set; finalize tallies one counter per code.
    uint8 public constant MAX_CLASSES = 16;
    /// @notice Reputation minted to each doctor who agreed with a final diagnosis.
    uint256 public constant REPUTATION_PER_AGREEMENT = 1;

    /// @notice Accreditation and encryption keys of doctors.
    IDoctorRegistry public immutable registry;
    /// @notice Reputation minted on agreement and required by high-bounty tasks.
    IReputationToken public immutable reputation;

    /// @inheritdoc IDiagnosisMarket
    uint256 public taskCount;

    mapping(uint256 taskId => Task) private _tasks;
    mapping(uint256 taskId => mapping(uint256 seatIndex => address doctor)) private _seatHolders;
    mapping(uint256 taskId => mapping(address doctor => Vote)) private _votes;
    mapping(address account => mapping(address token => uint256)) private _credits;
    mapping(address token => bool) private _allowedTokens;

    /// @param admin Holder of the admin and pauser roles.
    /// @param registry_ The doctor registry.
    /// @param reputation_ The reputation token; this market needs its minter role.
    constructor(address admin, IDoctorRegistry registry_, IReputationToken reputation_) {
        registry = registry_;
        reputation = reputation_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc IDiagnosisMarket
    function setTokenAllowed(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _allowedTokens[token] = allowed;
        emit TokenAllowed(token, allowed);
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
    function postTask(TaskParams calldata params) external whenNotPaused returns (uint256 taskId) {
        _validate(params);

        taskId = ++taskCount;
        Task storage task = _tasks[taskId];
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
            params.quorum
        );

        // Escrow must hold exactly what the task promises, so fee-on-transfer tokens are refused.
        IERC20 token = IERC20(params.token);
        uint256 balanceBefore = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), params.bounty);
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != params.bounty) revert FeeOnTransferToken(params.token, params.bounty, received);
    }

    /// @inheritdoc IDiagnosisMarket
    function claimSeat(uint256 taskId) external whenNotPaused {
        Task storage task = _existing(taskId);
        _requirePhase(taskId, task, Phase.Commit);
        if (task.filled == task.seats) revert NoFreeSeat(taskId);
        if (msg.sender == task.poster) revert PosterCannotClaim(taskId);
        Vote storage vote = _votes[taskId][msg.sender];
        if (vote.seat != 0) revert AlreadySeated(taskId, msg.sender);
        if (!registry.canServe(msg.sender)) revert DoctorCannotServe(msg.sender);
        uint256 minReputation = task.minReputation;
        if (minReputation != 0) {
            uint256 held = reputation.balanceOf(msg.sender);
            if (held < minReputation) revert InsufficientReputation(msg.sender, held, minReputation);
        }

        uint8 seat = task.filled + 1;
        task.filled = seat;
        _seatHolders[taskId][seat - 1] = msg.sender;
        vote.seat = seat;
        emit SeatClaimed(taskId, msg.sender, seat);

        uint256 stake = task.stakePerSeat;
        if (stake != 0) IERC20(task.token).safeTransferFrom(msg.sender, address(this), stake);
    }

    /// @inheritdoc IDiagnosisMarket
    function releaseKey(uint256 taskId, address doctor, bytes calldata wrappedKey) external {
        Task storage task = _existing(taskId);
        if (msg.sender != task.poster) revert NotPoster(taskId, msg.sender);
        if (task.status != Status.Active) revert TaskClosed(taskId, task.status);
        if (_votes[taskId][doctor].seat == 0) revert NotSeated(taskId, doctor);
        if (wrappedKey.length == 0) revert EmptyWrappedKey();
        emit KeyReleased(taskId, doctor, wrappedKey);
    }

    /// @inheritdoc IDiagnosisMarket
    function commit(uint256 taskId, bytes32 commitment) external {
        Task storage task = _existing(taskId);
        _requirePhase(taskId, task, Phase.Commit);
        Vote storage vote = _votes[taskId][msg.sender];
        if (vote.seat == 0) revert NotSeated(taskId, msg.sender);
        if (commitment == bytes32(0)) revert ZeroCommitment();

        if (vote.commitment == bytes32(0)) ++task.committed;
        vote.commitment = commitment;
        emit VoteCommitted(taskId, msg.sender, commitment);
    }

    /// @inheritdoc IDiagnosisMarket
    function reveal(uint256 taskId, uint8 diagnosis, bytes32 salt) external {
        Task storage task = _existing(taskId);
        _requirePhase(taskId, task, Phase.Reveal);
        Vote storage vote = _votes[taskId][msg.sender];
        if (vote.seat == 0) revert NotSeated(taskId, msg.sender);
        if (vote.revealed) revert AlreadyRevealed(taskId, msg.sender);
        bytes32 commitment = vote.commitment;
        if (commitment == bytes32(0)) revert NotCommitted(taskId, msg.sender);
        if (diagnosis >= task.numClasses) revert DiagnosisOutOfRange(diagnosis, task.numClasses);
        if (_commitment(taskId, msg.sender, diagnosis, salt) != commitment) {
            revert CommitmentMismatch(taskId, msg.sender);
        }

        vote.revealed = true;
        vote.diagnosis = diagnosis;
        ++task.revealed;
        emit VoteRevealed(taskId, msg.sender, diagnosis);
    }

    /// @inheritdoc IDiagnosisMarket
    function finalize(uint256 taskId) external {
        Task storage task = _existing(taskId);
        _requirePhase(taskId, task, Phase.Finalizable);

        if (task.filled < task.seats) {
            _cancel(taskId, task);
            return;
        }
        (bool resolved, uint8 diagnosis, uint8 agreeing) = _tally(taskId, task);
        if (resolved) _resolve(taskId, task, diagnosis, agreeing);
        else _unresolve(taskId, task);
    }

    /// @inheritdoc IDiagnosisMarket
    function withdraw(address token) external returns (uint256 amount) {
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
        pure
        returns (bytes32)
    {
        return _commitment(taskId, doctor, diagnosis, salt);
    }

    /// @inheritdoc IDiagnosisMarket
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _tasks[taskId];
    }

    /// @inheritdoc IDiagnosisMarket
    function phaseOf(uint256 taskId) external view returns (Phase) {
        return _phase(_tasks[taskId]);
    }

    /// @inheritdoc IDiagnosisMarket
    function seatsOf(uint256 taskId) external view returns (address[] memory doctors) {
        uint256 filled = _tasks[taskId].filled;
        doctors = new address[](filled);
        for (uint256 i; i < filled; ++i) {
            doctors[i] = _seatHolders[taskId][i];
        }
    }

    /// @inheritdoc IDiagnosisMarket
    function voteOf(uint256 taskId, address doctor) external view returns (Vote memory) {
        return _votes[taskId][doctor];
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
    }

    function _existing(uint256 taskId) private view returns (Task storage task) {
        task = _tasks[taskId];
        if (task.status == Status.None) revert UnknownTask(taskId);
    }

    function _requirePhase(uint256 taskId, Task storage task, Phase expected) private view {
        Phase actual = _phase(task);
        if (actual != expected) revert WrongPhase(taskId, expected, actual);
    }

    function _phase(Task storage task) private view returns (Phase) {
        Status status = task.status;
        if (status == Status.Active) {
            uint256 seats = task.seats;
            if (block.timestamp < task.commitDeadline) {
                // Everyone seated and committed: nothing is left to wait for, so reveal opens early.
                if (task.filled < seats || task.committed < seats) return Phase.Commit;
                return task.revealed < seats ? Phase.Reveal : Phase.Finalizable;
            }
            if (task.filled < seats) return Phase.Finalizable;
            if (block.timestamp < task.revealDeadline && task.revealed < seats) return Phase.Reveal;
            return Phase.Finalizable;
        }
        if (status == Status.Resolved) return Phase.Resolved;
        if (status == Status.Unresolved) return Phase.Unresolved;
        if (status == Status.Cancelled) return Phase.Cancelled;
        return Phase.None;
    }

    /// @dev Seats still free at the commit deadline: nobody could vote blind in time, so
    /// everyone gets back exactly what they put in.
    function _cancel(uint256 taskId, Task storage task) private {
        task.status = Status.Cancelled;
        emit TaskFinalized(taskId, Status.Cancelled, 0, 0);
        address token = task.token;
        uint256 stake = task.stakePerSeat;
        uint256 filled = task.filled;
        for (uint256 i; i < filled; ++i) {
            _credit(taskId, _seatHolders[taskId][i], token, stake);
        }
        _credit(taskId, task.poster, token, task.bounty);
    }

    /// @dev No quorum: the poster gets the bounty back plus the stakes of those who never revealed.
    function _unresolve(uint256 taskId, Task storage task) private {
        task.status = Status.Unresolved;
        emit TaskFinalized(taskId, Status.Unresolved, 0, 0);
        address token = task.token;
        uint256 stake = task.stakePerSeat;
        uint256 seats = task.seats;
        for (uint256 i; i < seats; ++i) {
            address doctor = _seatHolders[taskId][i];
            if (_votes[taskId][doctor].revealed) _credit(taskId, doctor, token, stake);
        }
        _credit(taskId, task.poster, token, task.bounty + stake * (seats - task.revealed));
    }

    /// @dev Quorum: the agreeing doctors share the bounty and the forfeited stakes, get their own
    /// stake back and earn reputation; disagreeing revealers get their stake back.
    function _resolve(uint256 taskId, Task storage task, uint8 diagnosis, uint8 agreeing) private {
        task.status = Status.Resolved;
        task.outcome = diagnosis;
        task.agreeing = agreeing;
        emit TaskFinalized(taskId, Status.Resolved, diagnosis, agreeing);

        uint256 seats = task.seats;
        uint256 stake = task.stakePerSeat;
        uint256 pool = task.bounty + stake * (seats - task.revealed);
        uint256 share = pool / agreeing;
        address token = task.token;
        address[] memory winners = new address[](agreeing);
        uint256 w;
        for (uint256 i; i < seats; ++i) {
            address doctor = _seatHolders[taskId][i];
            Vote storage vote = _votes[taskId][doctor];
            if (!vote.revealed) continue;
            if (vote.diagnosis == diagnosis) {
                winners[w++] = doctor;
                _credit(taskId, doctor, token, stake + share);
            } else {
                _credit(taskId, doctor, token, stake);
            }
        }
        // Integer division leaves at most agreeing - 1 units; they go back to whoever paid them.
        _credit(taskId, task.poster, token, pool - share * agreeing);
        reputation.mintBatch(winners, REPUTATION_PER_AGREEMENT);
    }

    /// @dev The winning code is the only one that can reach quorum, since quorum > seats / 2.
    function _tally(uint256 taskId, Task storage task)
        private
        view
        returns (bool resolved, uint8 diagnosis, uint8 agreeing)
    {
        uint256 seats = task.seats;
        uint256 quorum = task.quorum;
        // Counts never exceed seats <= MAX_SEATS, so uint8 cannot overflow.
        uint8[] memory counts = new uint8[](task.numClasses);
        for (uint256 i; i < seats; ++i) {
            Vote storage vote = _votes[taskId][_seatHolders[taskId][i]];
            if (!vote.revealed) continue;
            uint8 code = vote.diagnosis;
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
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(taskId, doctor, diagnosis, salt));
    }
}
