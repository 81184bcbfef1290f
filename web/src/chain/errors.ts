/**
 * Contract errors as sentences that say what happened and what to do; nobody sees a raw revert.
 * Mirrors `crypdoc_contracts::revert` (the CLI's wording), with the page's own hints.
 */
import { decodeErrorResult, type Hex } from "viem";
import { errorsAbi, phaseName, roleName, statusName } from "./abi.js";

type Args = readonly unknown[];

const str = (v: unknown): string => String(v);
const article = (role: string): string => (role === "none" ? "nothing" : `a ${role}`);

/** One sentence per custom error, by name. */
export const ERROR_SENTENCES: Record<string, (a: Args) => string> = {
  // IDiagnosisMarket
  UnknownTask: (a) => `Task ${str(a[0])} does not exist.`,
  WrongPhase: (a) =>
    `Task ${str(a[0])} is in the ${phaseName(Number(a[2]))} phase, but this needs the ${phaseName(
      Number(a[1]),
    )} phase.`,
  TokenNotAllowed: (a) => `Token ${str(a[0])} is not allow-listed for bounties.`,
  FeeOnTransferToken: (a) =>
    `Token ${str(a[0])} delivered ${str(a[2])} instead of ${str(a[1])}: fee-on-transfer tokens cannot back an escrow.`,
  ZeroBounty: () => "The bounty must be positive.",
  EmptyScanCid: () => "The scan CID is empty.",
  InvalidClassCount: (a) => `A task needs 2..${str(a[1])} classes, got ${str(a[0])}.`,
  PredictionOutOfRange: (a) =>
    `Predicted class ${str(a[0])} is not below the ${str(a[1])} classes.`,
  ConfidenceOutOfRange: (a) => `Confidence ${str(a[0])} bps is above 10000.`,
  InvalidSeatCount: (a) => `Seats must be 1..${str(a[1])}, got ${str(a[0])}.`,
  InvalidQuorum: (a) =>
    `Quorum ${str(a[0])} must be more than half of ${str(a[1])} seats and at most ${str(a[1])}.`,
  InvalidDeadlines: (a) =>
    `Deadlines must satisfy now (${str(a[2])}) < commit (${str(a[0])}) < reveal (${str(a[1])}).`,
  WindowTooLong: (a) =>
    `A ${str(a[0])} s phase is longer than the market's maximum of ${str(a[1])} s: shorten the commit or reveal window.`,
  HospitalNotAccredited: (a) =>
    `${str(a[0])} is not an accredited hospital, so it cannot post tasks.`,
  ReputationWindowTooLong: (a) =>
    `A reputation commit window of ${str(a[0])} s exceeds the longest commit window (${str(a[1])} s).`,
  DoctorCannotServe: (a) =>
    `${str(a[0])} cannot take seats: not accredited (ask your credential issuer) or no encryption key published (publish it under "Account").`,
  InsufficientReputation: (a) =>
    `${str(a[0])} has reputation ${str(a[1])} but the task needs ${str(a[2])}: take lower-bounty tasks first.`,
  NoFreeSeat: (a) => `Every seat of task ${str(a[0])} is taken.`,
  AlreadySeated: (a) => `${str(a[1])} already holds a seat on task ${str(a[0])}.`,
  PosterCannotClaim: (a) => `The poster of task ${str(a[0])} cannot review it.`,
  NotPoster: (a) => `Only the poster of task ${str(a[0])} can do this (${str(a[1])} is not).`,
  NotSeated: (a) => `${str(a[1])} holds no seat on task ${str(a[0])}: claim one first.`,
  TaskClosed: (a) => `Task ${str(a[0])} is already closed (${statusName(Number(a[1]))}).`,
  EmptyWrappedKey: () => "The wrapped key is empty.",
  ZeroCommitment: () => "A zero commitment is not allowed.",
  NotCommitted: (a) => `${str(a[1])} never committed on task ${str(a[0])}: nothing to reveal.`,
  AlreadyRevealed: (a) => `${str(a[1])} already revealed on task ${str(a[0])}.`,
  CommitmentMismatch: (a) =>
    `The diagnosis and salt do not match the commitment of ${str(a[1])} on task ${str(a[0])}: wrong salt or diagnosis.`,
  DiagnosisOutOfRange: (a) => `Diagnosis ${str(a[0])} is not below the task's ${str(a[1])} classes.`,
  NothingToWithdraw: (a) => `Nothing is credited to ${str(a[0])} in token ${str(a[1])}.`,
  // IDoctorRegistry
  ZeroAccount: () => "The account address is zero.",
  EmptyLicenseHash: () => "The licence hash is zero.",
  ExpiryNotInFuture: (a) => `Expiry ${str(a[0])} is not after the current block time ${str(a[1])}.`,
  NoCredential: (a) => `${str(a[0])} was never accredited.`,
  AlreadyRevoked: (a) => `The accreditation of ${str(a[0])} is already revoked.`,
  RoleConflict: (a) =>
    `${str(a[0])} is accredited as ${article(roleName(Number(a[1])))}, so it cannot also be accredited as ${article(
      roleName(Number(a[2])),
    )}: one account cannot both post tasks and review them.`,
  NotAccredited: (a) =>
    `${str(a[0])} is not accredited as a doctor (or the accreditation expired): ask your credential issuer.`,
  ZeroEncryptionKey: () => "The encryption key is zero.",
  // IReputationToken
  ReputationNonTransferable: () => "Reputation cannot be transferred or approved.",
  NotMinter: (a) =>
    `${str(a[0])} cannot mint reputation: only the market that created the token mints it, when a task is finalized.`,
  // OpenZeppelin
  ReentrancyGuardReentrantCall: () =>
    "The market refused a call made from inside another of its calls (reentrancy): a token that calls back on transfer cannot act on a task mid-call.",
  EnforcedPause: () => "The market is paused: new tasks and seats are refused for now (reveal, finalize and withdraw still work).",
  ExpectedPause: () => "The market is not paused.",
  AccessControlUnauthorizedAccount: (a) =>
    `${str(a[0])} lacks the role ${str(a[1])} needed for this call.`,
  AccessControlBadConfirmation: () => "A role can only be renounced by its holder.",
  SafeERC20FailedOperation: (a) => `A transfer of token ${str(a[0])} failed.`,
  ERC20InsufficientBalance: (a) =>
    `${str(a[0])} holds ${str(a[1])} of the token but ${str(a[2])} is needed.`,
  ERC20InsufficientAllowance: (a) =>
    `The allowance of ${str(a[0])} is ${str(a[1])} but ${str(a[2])} is needed: approve first.`,
  ERC20InvalidSender: (a) => `${str(a[0])} cannot send tokens.`,
  ERC20InvalidReceiver: (a) => `${str(a[0])} cannot receive tokens.`,
  ERC20InvalidApprover: (a) => `${str(a[0])} cannot approve.`,
  ERC20InvalidSpender: (a) => `${str(a[0])} cannot be approved as a spender.`,
  OwnableUnauthorizedAccount: (a) => `${str(a[0])} is not the owner.`,
};

/** Explains revert data, or null for data that matches no known error. */
export function explainRevertData(data: Hex): string | null {
  if (data === "0x" || data.length < 10) return null;
  try {
    const decoded = decodeErrorResult({ abi: errorsAbi, data });
    const explain = ERROR_SENTENCES[decoded.errorName];
    return explain ? explain(decoded.args ?? []) : null;
  } catch {
    return null;
  }
}

function isHex(v: unknown): v is Hex {
  return typeof v === "string" && /^0x[0-9a-fA-F]*$/.test(v);
}

/** Finds revert data anywhere in an error chain (viem wraps RPC errors several times; wallets
 * put it in `data` or `data.data`). */
export function findRevertData(error: unknown): Hex | null {
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (isHex(o.raw) && o.raw.length >= 10) return o.raw;
    if (isHex(o.data) && o.data.length >= 10) return o.data;
    if (o.data && typeof o.data === "object") {
      const inner = o.data as Record<string, unknown>;
      if (isHex(inner.data) && inner.data.length >= 10) return inner.data;
    }
    e = o.cause ?? o.error;
  }
  return null;
}

function errorCode(error: unknown): number | null {
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (typeof o.code === "number") return o.code;
    e = o.cause ?? o.error;
  }
  return null;
}

/** One sentence for anything a chain call or a wallet request threw. */
export function explainError(error: unknown): string {
  const data = findRevertData(error);
  if (data) {
    return explainRevertData(data) ?? `The contract refused the call with an unknown error (selector ${data.slice(0, 10)}).`;
  }
  const code = errorCode(error);
  if (code === 4001) return "You rejected the request in your wallet.";
  if (code === 4100) return "The wallet has not authorised this page: connect it first.";
  if (code === 4902) return "The wallet does not know this network: add it first.";
  const message = error instanceof Error ? error.message : String(error);
  if (/user (rejected|denied)/i.test(message)) return "You rejected the request in your wallet.";
  if (/insufficient funds/i.test(message)) {
    return "Your account cannot pay the gas for this transaction: fund it with the chain's native coin.";
  }
  if (/fetch failed|Failed to fetch|HTTP request failed|ECONNREFUSED/i.test(message)) {
    return "The chain's RPC endpoint cannot be reached: check your connection or the node.";
  }
  // viem's messages carry a multi-line report; the first line says what happened.
  const first = (error as { shortMessage?: unknown })?.shortMessage;
  return typeof first === "string" && first ? first : (message.split("\n")[0] ?? message);
}
