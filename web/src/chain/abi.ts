/**
 * ABI fragments of the v2 contracts (contracts/src/interfaces/*.sol), written with viem's
 * parseAbi so the page does not depend on forge's build output. Enums are uint8.
 */
import { parseAbi } from "viem";

export const marketAbi = parseAbi([
  "struct Task { address poster; uint40 commitDeadline; uint8 numClasses; uint8 seats; uint8 quorum; uint8 filled; uint8 committed; uint8 revealed; uint8 status; address token; uint40 revealDeadline; uint16 confidenceBps; uint8 predictedClass; uint8 outcome; uint8 agreeing; uint96 bounty; uint96 stakePerSeat; uint32 minReputation; uint40 fillDeadline; bool earnsReputation; bytes32 scanDigest; }",
  "struct Vote { uint8 seat; bool revealed; uint8 diagnosis; bytes32 commitment; }",
  "function claimSeat(uint256 taskId)",
  "function commit(uint256 taskId, bytes32 commitment)",
  "function reveal(uint256 taskId, uint8 diagnosis, bytes32 salt)",
  "function finalize(uint256 taskId)",
  "function withdraw(address token) returns (uint256 amount)",
  "function commitmentOf(uint256 taskId, address doctor, uint8 diagnosis, bytes32 salt) view returns (bytes32)",
  "function taskCount() view returns (uint256)",
  "function getTask(uint256 taskId) view returns (Task)",
  "function phaseOf(uint256 taskId) view returns (uint8)",
  "function seatsOf(uint256 taskId) view returns (address[])",
  "function voteOf(uint256 taskId, address doctor) view returns (Vote)",
  "function creditOf(address account, address token) view returns (uint256)",
  "function registry() view returns (address)",
  "function reputation() view returns (address)",
  "function paused() view returns (bool)",
  "event TaskPosted(uint256 indexed taskId, address indexed poster, string scanCid, address token, uint256 bounty, uint256 stakePerSeat, uint8 predictedClass, uint16 confidenceBps, uint8 seats, uint8 quorum, bool earnsReputation)",
  "event SeatClaimed(uint256 indexed taskId, address indexed doctor, uint8 seat)",
  "event KeyReleased(uint256 indexed taskId, address indexed doctor, bytes wrappedKey)",
  "event VoteCommitted(uint256 indexed taskId, address indexed doctor, bytes32 commitment)",
  "event VoteRevealed(uint256 indexed taskId, address indexed doctor, uint8 diagnosis)",
  "event TaskFinalized(uint256 indexed taskId, uint8 status, uint8 diagnosis, uint8 agreeing)",
  "event Credited(uint256 indexed taskId, address indexed account, address indexed token, uint256 amount)",
  "event Withdrawn(address indexed account, address indexed token, uint256 amount)",
]);

export const registryAbi = parseAbi([
  "struct Credential { uint64 expiresAt; bool revoked; uint8 role; bytes32 licenseHash; }",
  "function setEncryptionKey(bytes32 encryptionKey)",
  "function isAccredited(address doctor) view returns (bool)",
  "function canServe(address doctor) view returns (bool)",
  "function credentialOf(address account) view returns (Credential)",
  "function encryptionKeyOf(address doctor) view returns (bytes32)",
  "event EncryptionKeySet(address indexed doctor, bytes32 encryptionKey)",
]);

export const reputationAbi = parseAbi([
  "function balanceOf(address account) view returns (uint256)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
]);

export const erc20Abi = parseAbi([
  "function balanceOf(address account) view returns (uint256)",
  "function allowance(address owner, address spender) view returns (uint256)",
  "function approve(address spender, uint256 amount) returns (bool)",
  "function decimals() view returns (uint8)",
  "function symbol() view returns (string)",
]);

/** Every custom error the page can meet: the three interfaces, plus OpenZeppelin's errors that
 * the market, the registry and the test stablecoin inherit. */
export const errorsAbi = parseAbi([
  // IDiagnosisMarket
  "error UnknownTask(uint256 taskId)",
  "error WrongPhase(uint256 taskId, uint8 expected, uint8 actual)",
  "error TokenNotAllowed(address token)",
  "error FeeOnTransferToken(address token, uint256 expected, uint256 received)",
  "error ZeroBounty()",
  "error EmptyScanCid()",
  "error InvalidClassCount(uint8 numClasses, uint8 maxClasses)",
  "error PredictionOutOfRange(uint8 predictedClass, uint8 numClasses)",
  "error ConfidenceOutOfRange(uint16 confidenceBps)",
  "error InvalidSeatCount(uint8 seats, uint8 maxSeats)",
  "error InvalidQuorum(uint8 quorum, uint8 seats)",
  "error InvalidDeadlines(uint40 commitDeadline, uint40 revealDeadline, uint256 nowTimestamp)",
  "error WindowTooLong(uint256 window, uint256 maxWindow)",
  "error HospitalNotAccredited(address poster)",
  "error ReputationWindowTooLong(uint40 window, uint40 maxWindow)",
  "error DoctorCannotServe(address doctor)",
  "error InsufficientReputation(address doctor, uint256 reputation, uint256 required)",
  "error NoFreeSeat(uint256 taskId)",
  "error AlreadySeated(uint256 taskId, address doctor)",
  "error PosterCannotClaim(uint256 taskId)",
  "error NotPoster(uint256 taskId, address caller)",
  "error NotSeated(uint256 taskId, address account)",
  "error TaskClosed(uint256 taskId, uint8 status)",
  "error EmptyWrappedKey()",
  "error ZeroCommitment()",
  "error NotCommitted(uint256 taskId, address doctor)",
  "error AlreadyRevealed(uint256 taskId, address doctor)",
  "error CommitmentMismatch(uint256 taskId, address doctor)",
  "error DiagnosisOutOfRange(uint8 diagnosis, uint8 numClasses)",
  "error NothingToWithdraw(address account, address token)",
  // IDoctorRegistry
  "error ZeroAccount()",
  "error EmptyLicenseHash()",
  "error ExpiryNotInFuture(uint64 expiresAt, uint256 nowTimestamp)",
  "error NoCredential(address account)",
  "error AlreadyRevoked(address account)",
  "error RoleConflict(address account, uint8 held, uint8 requested)",
  "error NotAccredited(address doctor)",
  "error ZeroEncryptionKey()",
  // IReputationToken (ZeroAccount() is shared with the registry: same selector)
  "error ReputationNonTransferable()",
  "error NotMinter(address caller)",
  // OpenZeppelin 5
  "error ReentrancyGuardReentrantCall()",
  "error EnforcedPause()",
  "error ExpectedPause()",
  "error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
  "error AccessControlBadConfirmation()",
  "error SafeERC20FailedOperation(address token)",
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
  "error ERC20InvalidSender(address sender)",
  "error ERC20InvalidReceiver(address receiver)",
  "error ERC20InvalidApprover(address approver)",
  "error ERC20InvalidSpender(address spender)",
  "error OwnableUnauthorizedAccount(address account)",
]);

/** IDiagnosisMarket.Phase */
export const Phase = {
  None: 0,
  Commit: 1,
  Reveal: 2,
  Finalizable: 3,
  Resolved: 4,
  Unresolved: 5,
  Cancelled: 6,
} as const;

export const PHASE_NAMES = [
  "nonexistent",
  "commit",
  "reveal",
  "finalizable",
  "resolved",
  "unresolved",
  "cancelled",
] as const;

export function phaseName(phase: number): string {
  return PHASE_NAMES[phase] ?? "unknown";
}

/** IDiagnosisMarket.Status */
export const STATUS_NAMES = ["none", "active", "resolved", "unresolved", "cancelled"] as const;

export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? "unknown";
}

/** IDoctorRegistry.Role */
export const ROLE_NAMES = ["none", "doctor", "hospital"] as const;

export function roleName(role: number): string {
  return ROLE_NAMES[role] ?? "unknown";
}
