// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IDiagnosisMarket
/// @notice Escrowed bounties for blind second opinions on encrypted scans.
///
/// An accredited hospital posts a task with a bounty; accredited doctors claim seats by staking;
/// the hospital releases the scan key to each seated doctor; doctors commit to a diagnosis, then
/// reveal it. When at least `quorum` revealed votes agree, the agreeing doctors share the bounty
/// and, on tasks that meet the reputation minimum (seats, bounty, commit window), earn
/// reputation. Every payout is credited and withdrawn by its owner (pull payments).
///
/// Commitment (v2): `keccak256(abi.encode(uint256 chainId, address market, uint256 taskId,
/// address doctor, uint8 diagnosis, bytes32 salt))`. Binding the chain, the market, the task and
/// the voter means a copied commitment cannot be revealed by anyone else or anywhere else.
interface IDiagnosisMarket {
    /// @notice Where a task's life ended, or `Active` while it runs.
    enum Status {
        None,
        Active,
        Resolved,
        Unresolved,
        Cancelled
    }

    /// @notice What a task accepts now, derived from its status, counters and the clock.
    enum Phase {
        None,
        Commit,
        Reveal,
        Finalizable,
        Resolved,
        Unresolved,
        Cancelled
    }

    /// @notice What a hospital asks for when posting.
    /// @param scanCid IPFS CID of the sealed scan (only its keccak256 is stored).
    /// @param token Allow-listed ERC20 for the bounty and the stakes.
    /// @param bounty Escrowed reward, shared by the agreeing doctors.
    /// @param stakePerSeat What each doctor locks to claim a seat; lost by not revealing.
    /// @param minReputation Reputation a doctor needs to claim a seat.
    /// @param commitDeadline End of the commit phase (unix seconds), at most MAX_COMMIT_WINDOW away.
    /// @param revealDeadline End of the reveal phase (unix seconds), at most MAX_REVEAL_WINDOW
    /// after the commit deadline.
    /// @param predictedClass The encrypted model's predicted class.
    /// @param confidenceBps The model's calibrated confidence in basis points.
    /// @param numClasses Size of the diagnosis code set, 2..MAX_CLASSES.
    /// @param seats Number of doctors, 1..MAX_SEATS.
    /// @param quorum Agreeing votes needed; more than half of `seats` so only one outcome can win.
    struct TaskParams {
        string scanCid;
        address token;
        uint96 bounty;
        uint96 stakePerSeat;
        uint32 minReputation;
        uint40 commitDeadline;
        uint40 revealDeadline;
        uint8 predictedClass;
        uint16 confidenceBps;
        uint8 numClasses;
        uint8 seats;
        uint8 quorum;
    }

    /// @notice A task's parameters and progress. The market stores these fields repacked by what
    /// each call reads (see DiagnosisMarket), so the slot comments below only group them.
    /// `fillDeadline` is when a task with free seats may be cancelled (the commit deadline or
    /// FILL_WINDOW after posting, whichever is first); `earnsReputation` whether agreeing doctors
    /// will be minted reputation (decided at posting from the market's minimums).
    struct Task {
        // slot 0: what claimSeat, commit and reveal read and update
        address poster;
        uint40 commitDeadline;
        uint8 numClasses;
        uint8 seats;
        uint8 quorum;
        uint8 filled;
        uint8 committed;
        uint8 revealed;
        Status status;
        // slot 1
        address token;
        uint40 revealDeadline;
        uint16 confidenceBps;
        uint8 predictedClass;
        uint8 outcome;
        uint8 agreeing;
        // slot 2
        uint96 bounty;
        uint96 stakePerSeat;
        uint32 minReputation;
        uint40 fillDeadline;
        bool earnsReputation;
        // slot 3
        bytes32 scanDigest;
    }

    /// @notice A seat's vote.
    /// @param seat 1-based seat number, 0 when the account holds no seat.
    /// @param revealed Whether the vote was revealed.
    /// @param diagnosis The revealed diagnosis (meaningful only when revealed).
    /// @param commitment The current commitment, zero before the first commit.
    struct Vote {
        uint8 seat;
        bool revealed;
        uint8 diagnosis;
        bytes32 commitment;
    }

    // ---------------------------------------------------------------- errors

    /// @notice No task has this id.
    /// @param taskId The id that was asked for.
    error UnknownTask(uint256 taskId);
    /// @notice The task is not in the phase that the call needs.
    /// @param taskId The task.
    /// @param expected The phase the call needs.
    /// @param actual The phase the task is in.
    error WrongPhase(uint256 taskId, Phase expected, Phase actual);
    /// @notice The token is not allow-listed for bounties.
    /// @param token The token that was asked for.
    error TokenNotAllowed(address token);
    /// @notice The token delivered less than was transferred (fee on transfer or rebasing), for
    /// a bounty or a stake.
    /// @param token The token.
    /// @param expected The amount transferred.
    /// @param received The amount the market's balance grew by.
    error FeeOnTransferToken(address token, uint256 expected, uint256 received);
    /// @notice A bounty must be positive.
    error ZeroBounty();
    /// @notice The scan CID was empty.
    error EmptyScanCid();
    /// @notice The diagnosis code set must have 2..maxClasses codes.
    /// @param numClasses The size of the code set that was asked for.
    /// @param maxClasses The largest allowed (MAX_CLASSES).
    error InvalidClassCount(uint8 numClasses, uint8 maxClasses);
    /// @notice The model's prediction is not a code of the set.
    /// @param predictedClass The model's predicted class.
    /// @param numClasses The size of the task's code set.
    error PredictionOutOfRange(uint8 predictedClass, uint8 numClasses);
    /// @notice Confidence is in basis points, at most 10000.
    /// @param confidenceBps The confidence that was given, in basis points.
    error ConfidenceOutOfRange(uint16 confidenceBps);
    /// @notice Seats must be 1..maxSeats.
    /// @param seats The number of seats that was asked for.
    /// @param maxSeats The largest allowed (MAX_SEATS).
    error InvalidSeatCount(uint8 seats, uint8 maxSeats);
    /// @notice Quorum must be at most `seats` and more than half of it.
    /// @param quorum The quorum that was asked for.
    /// @param seats The task's number of seats.
    error InvalidQuorum(uint8 quorum, uint8 seats);
    /// @notice Deadlines must satisfy now < commitDeadline < revealDeadline.
    /// @param commitDeadline The commit deadline that was asked for (unix seconds).
    /// @param revealDeadline The reveal deadline that was asked for (unix seconds).
    /// @param nowTimestamp The current block time.
    error InvalidDeadlines(uint40 commitDeadline, uint40 revealDeadline, uint256 nowTimestamp);
    /// @notice A phase may last at most `maxWindow` seconds, so no stake is locked for long.
    /// @param window The window that was asked for, in seconds.
    /// @param maxWindow The longest allowed.
    error WindowTooLong(uint256 window, uint256 maxWindow);
    /// @notice Only an accredited hospital may post tasks.
    /// @param poster The caller.
    error HospitalNotAccredited(address poster);
    /// @notice The reputation commit window must not exceed the longest commit window.
    /// @param window The window that was asked for.
    /// @param maxWindow The longest commit window.
    error ReputationWindowTooLong(uint40 window, uint40 maxWindow);
    /// @notice The doctor is not accredited or has no encryption key.
    /// @param doctor The caller.
    error DoctorCannotServe(address doctor);
    /// @notice The doctor's reputation is below the task's minimum.
    /// @param doctor The caller.
    /// @param reputation The caller's reputation.
    /// @param required The task's minimum.
    error InsufficientReputation(address doctor, uint256 reputation, uint256 required);
    /// @notice Every seat of the task is taken.
    /// @param taskId The task.
    error NoFreeSeat(uint256 taskId);
    /// @notice The doctor already holds a seat on this task.
    /// @param taskId The task.
    /// @param doctor The caller.
    error AlreadySeated(uint256 taskId, address doctor);
    /// @notice The poster cannot review its own task.
    /// @param taskId The task.
    error PosterCannotClaim(uint256 taskId);
    /// @notice Only the task's poster may do this.
    /// @param taskId The task.
    /// @param caller The caller.
    error NotPoster(uint256 taskId, address caller);
    /// @notice The account holds no seat on the task.
    /// @param taskId The task.
    /// @param account The account without a seat.
    error NotSeated(uint256 taskId, address account);
    /// @notice The task already reached a terminal status.
    /// @param taskId The task.
    /// @param status The terminal status it reached.
    error TaskClosed(uint256 taskId, Status status);
    /// @notice A wrapped key must not be empty.
    error EmptyWrappedKey();
    /// @notice A zero commitment cannot be told apart from no commitment.
    error ZeroCommitment();
    /// @notice The doctor never committed, so there is nothing to reveal.
    /// @param taskId The task.
    /// @param doctor The caller.
    error NotCommitted(uint256 taskId, address doctor);
    /// @notice The vote was already revealed.
    /// @param taskId The task.
    /// @param doctor The caller.
    error AlreadyRevealed(uint256 taskId, address doctor);
    /// @notice The revealed diagnosis and salt do not hash to the commitment.
    /// @param taskId The task.
    /// @param doctor The caller.
    error CommitmentMismatch(uint256 taskId, address doctor);
    /// @notice The revealed diagnosis is not a code of the task's set.
    /// @param diagnosis The revealed diagnosis.
    /// @param numClasses The size of the task's code set.
    error DiagnosisOutOfRange(uint8 diagnosis, uint8 numClasses);
    /// @notice Nothing is credited to the caller in this token.
    /// @param account The caller.
    /// @param token The token asked for.
    error NothingToWithdraw(address account, address token);

    // ---------------------------------------------------------------- events

    /// @notice Emitted after `token` was added to or removed from the bounty allow-list.
    /// @param token The token.
    /// @param allowed Whether bounties may now be posted in it.
    event TokenAllowed(address indexed token, bool allowed);
    /// @notice Emitted after the smallest bounty in `token` that earns reputation was set.
    /// @param token The token.
    /// @param minBounty The smallest bounty in `token` that earns reputation; zero: none does.
    event MinReputationBountySet(address indexed token, uint96 minBounty);
    /// @notice Emitted after the shortest commit window that earns reputation was set.
    /// @param window The shortest commit window that earns reputation, in seconds.
    event MinReputationWindowSet(uint40 window);
    /// @notice Emitted after a task was posted and its bounty escrowed.
    /// @param taskId The new task's id.
    /// @param poster The hospital that posted it.
    /// @param scanCid IPFS CID of the sealed scan.
    /// @param token The token of the bounty and the stakes.
    /// @param bounty The escrowed bounty.
    /// @param stakePerSeat What each doctor stakes to claim a seat.
    /// @param predictedClass The encrypted model's predicted class.
    /// @param confidenceBps The model's confidence in basis points.
    /// @param seats The number of seats.
    /// @param quorum Agreeing votes needed to resolve.
    /// @param earnsReputation Whether the task meets the reputation minimum.
    event TaskPosted(
        uint256 indexed taskId,
        address indexed poster,
        string scanCid,
        address token,
        uint256 bounty,
        uint256 stakePerSeat,
        uint8 predictedClass,
        uint16 confidenceBps,
        uint8 seats,
        uint8 quorum,
        bool earnsReputation
    );
    /// @notice Emitted after `doctor` took seat number `seat` and staked.
    /// @param taskId The task.
    /// @param doctor The doctor.
    /// @param seat The seat number, from 1.
    event SeatClaimed(uint256 indexed taskId, address indexed doctor, uint8 seat);
    /// @notice Emitted after the poster released the scan key, wrapped to `doctor`'s encryption key.
    /// @param taskId The task.
    /// @param doctor The doctor.
    /// @param wrappedKey The scan key, wrapped to the doctor's encryption key.
    event KeyReleased(uint256 indexed taskId, address indexed doctor, bytes wrappedKey);
    /// @notice Emitted after `doctor` committed (or replaced) a blind vote.
    /// @param taskId The task.
    /// @param doctor The doctor.
    /// @param commitment The commitment (v2) to the diagnosis and salt.
    event VoteCommitted(uint256 indexed taskId, address indexed doctor, bytes32 commitment);
    /// @notice Emitted after `doctor` revealed `diagnosis`.
    /// @param taskId The task.
    /// @param doctor The doctor.
    /// @param diagnosis The revealed diagnosis code.
    event VoteRevealed(uint256 indexed taskId, address indexed doctor, uint8 diagnosis);
    /// @notice Emitted after a task reached its terminal status. `diagnosis` and `agreeing` are
    /// meaningful only when `status` is Resolved.
    /// @param taskId The task.
    /// @param status Its terminal status.
    /// @param diagnosis The agreed diagnosis (when Resolved).
    /// @param agreeing How many revealed votes agreed on it (when Resolved).
    event TaskFinalized(uint256 indexed taskId, Status status, uint8 diagnosis, uint8 agreeing);
    /// @notice Emitted after `amount` of `token` was credited to `account` from task `taskId`.
    /// @param taskId The task the credit comes from.
    /// @param account The account credited.
    /// @param token The token.
    /// @param amount The amount credited.
    event Credited(uint256 indexed taskId, address indexed account, address indexed token, uint256 amount);
    /// @notice Emitted after `account` withdrew its whole credit of `token`.
    /// @param account The account.
    /// @param token The token.
    /// @param amount The amount paid out.
    event Withdrawn(address indexed account, address indexed token, uint256 amount);

    // ---------------------------------------------------------------- admin

    /// @notice Adds or removes `token` from the bounty allow-list. Tasks already posted keep
    /// their token. Only the admin.
    function setTokenAllowed(address token, bool allowed) external;
    /// @notice Sets the smallest bounty in `token` whose task earns reputation; zero (the
    /// default) means no task in `token` earns any. Tasks already posted keep what they were
    /// promised. Only the admin.
    function setMinReputationBounty(address token, uint96 minBounty) external;
    /// @notice Sets the shortest commit window (from posting to the commit deadline) whose task
    /// earns reputation, at most MAX_COMMIT_WINDOW. Only the admin.
    function setMinReputationWindow(uint40 window) external;
    /// @notice Stops new tasks and new seats; reveal, finalize and withdraw keep working so that
    /// nothing can be stranded. Only the pauser.
    function pause() external;
    /// @notice Lifts a pause. Only the pauser.
    function unpause() external;

    // ---------------------------------------------------------------- lifecycle

    /// @notice Posts a task and pulls `params.bounty` of `params.token` from the caller, who must
    /// be an accredited hospital. The task earns reputation when it has at least
    /// MIN_REPUTATION_SEATS seats, a bounty of at least the token's minimum and a commit window of
    /// at least the market's minimum.
    /// @return taskId The new task's id, counting from 1.
    function postTask(TaskParams calldata params) external returns (uint256 taskId);

    /// @notice Takes a free seat for the caller, pulling the task's stake (measured on arrival).
    function claimSeat(uint256 taskId) external;

    /// @notice Publishes the scan key wrapped to the seated `doctor`. Only the poster, while the
    /// task is active (a revoked hospital can still serve the tasks it posted).
    function releaseKey(uint256 taskId, address doctor, bytes calldata wrappedKey) external;

    /// @notice Commits or replaces the caller's blind vote, during the commit phase.
    function commit(uint256 taskId, bytes32 commitment) external;

    /// @notice Reveals the caller's vote, during the reveal phase. The reveal phase opens at the
    /// commit deadline, or as soon as every seat is filled and committed.
    function reveal(uint256 taskId, uint8 diagnosis, bytes32 salt) external;

    /// @notice Ends the task and credits every payout. Anyone may call it once the reveal
    /// deadline passed or every seat revealed, or once the fill deadline passed with seats still
    /// free (the task is then cancelled and everyone refunded). With a quorum, the agreeing
    /// doctors share the bounty and the stakes of those who did not reveal; reputation goes to
    /// those of them still accredited, on tasks that earn it. Without one, the poster gets the
    /// bounty back and the doctors who revealed share the forfeited stakes.
    function finalize(uint256 taskId) external;

    /// @notice Pays the caller everything credited to it in `token`.
    function withdraw(address token) external returns (uint256 amount);

    // ---------------------------------------------------------------- views

    /// @notice The commitment a doctor must submit on this chain and market; identical to the
    /// off-chain computation.
    function commitmentOf(uint256 taskId, address doctor, uint8 diagnosis, bytes32 salt)
        external
        view
        returns (bytes32);

    /// @notice Fewest seats a task needs to earn reputation.
    function MIN_REPUTATION_SEATS() external view returns (uint8);
    /// @notice Longest commit window (posting to commit deadline), in seconds.
    function MAX_COMMIT_WINDOW() external view returns (uint40);
    /// @notice Longest reveal window (commit deadline to reveal deadline), in seconds.
    function MAX_REVEAL_WINDOW() external view returns (uint40);
    /// @notice How long after posting a task may wait for its seats to fill before anyone can
    /// cancel it, in seconds.
    function FILL_WINDOW() external view returns (uint40);
    /// @notice The smallest bounty in `token` that earns reputation (zero: none does).
    function minReputationBounty(address token) external view returns (uint96);
    /// @notice The shortest commit window that earns reputation, in seconds.
    function minReputationWindow() external view returns (uint40);
    /// @notice The registry of doctors and hospitals.
    function registry() external view returns (address);
    /// @notice The reputation token this market created and alone mints.
    function reputation() external view returns (address);

    /// @notice Number of tasks posted so far (also the latest id).
    function taskCount() external view returns (uint256);
    /// @notice A task as stored.
    function getTask(uint256 taskId) external view returns (Task memory);
    /// @notice The phase of a task now.
    function phaseOf(uint256 taskId) external view returns (Phase);
    /// @notice The seated doctors in seat order.
    function seatsOf(uint256 taskId) external view returns (address[] memory);
    /// @notice The vote of `doctor` on a task.
    function voteOf(uint256 taskId, address doctor) external view returns (Vote memory);
    /// @notice What `account` can withdraw in `token`.
    function creditOf(address account, address token) external view returns (uint256);
    /// @notice Whether `token` is allow-listed.
    function isTokenAllowed(address token) external view returns (bool);
}
