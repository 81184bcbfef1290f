/**
 * Blind votes (contracts v2). The commitment is
 *   keccak256(abi.encode(uint256 chainId, address market, uint256 taskId, address doctor, uint8 diagnosis, bytes32 salt))
 * and the salt is keccak256("crypdoc.vote-salt.v1" || sig), where sig is the doctor's 65-byte
 * (r || s || v, v = 27/28) EIP-712 signature of VoteSalt(address market, uint256 taskId,
 * string purpose) in the domain CrypDoc / 1 / chainId / market, as `crypdoc_types::commitment`.
 */
import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";
import { bytesToHex, concatBytes, hexToBytes, utf8 } from "./bytes.js";

export const VOTE_SALT_PURPOSE =
  "CrypDoc vote salt v1: keeps your vote secret until reveal; moves no funds";
export const SALT_DOMAIN_TAG = utf8("crypdoc.vote-salt.v1");

export const VOTE_SALT_TYPES = {
  VoteSalt: [
    { name: "market", type: "address" },
    { name: "taskId", type: "uint256" },
    { name: "purpose", type: "string" },
  ],
} as const;

/** The typed data a wallet signs (`eth_signTypedData_v4`) for the salt of a vote. */
export function voteSaltTypedData(chainId: number, market: Address, taskId: bigint) {
  return {
    domain: { name: "CrypDoc", version: "1", chainId, verifyingContract: market },
    types: VOTE_SALT_TYPES,
    primaryType: "VoteSalt" as const,
    message: { market, taskId, purpose: VOTE_SALT_PURPOSE },
  };
}

/** The JSON that `eth_signTypedData_v4` takes (EIP712Domain spelled out, integers as strings). */
export function voteSaltTypedDataJson(chainId: number, market: Address, taskId: bigint): string {
  return JSON.stringify({
    types: {
      EIP712Domain: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
        { name: "verifyingContract", type: "address" },
      ],
      ...VOTE_SALT_TYPES,
    },
    primaryType: "VoteSalt",
    domain: { name: "CrypDoc", version: "1", chainId, verifyingContract: market },
    message: { market, taskId: taskId.toString(), purpose: VOTE_SALT_PURPOSE },
  });
}

/** Normalises v to 27/28 (some wallets return 0/1), as alloy's `Signature::as_bytes` writes it. */
export function normaliseSignature(signature: Uint8Array): Uint8Array {
  if (signature.length !== 65) throw new Error(`a signature has 65 bytes, got ${signature.length}`);
  const out = signature.slice();
  const v = out[64] ?? 0;
  if (v === 0 || v === 1) out[64] = v + 27;
  else if (v !== 27 && v !== 28) throw new Error(`unexpected signature v = ${v}`);
  return out;
}

/** The salt derived from a VoteSalt signature. */
export function saltFromSignature(signature: Hex | Uint8Array): Hex {
  const sig = normaliseSignature(typeof signature === "string" ? hexToBytes(signature) : signature);
  return keccak256(bytesToHex(concatBytes(SALT_DOMAIN_TAG, sig)));
}

export interface CommitmentInput {
  chainId: bigint | number;
  market: Address;
  taskId: bigint;
  doctor: Address;
  diagnosis: number;
  salt: Hex;
}

function lower(a: Address): Address {
  return a.toLowerCase() as Address;
}

export function commitment(v: CommitmentInput): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "uint256" },
        { type: "address" },
        { type: "uint256" },
        { type: "address" },
        { type: "uint8" },
        { type: "bytes32" },
      ],
      // Lower case: the checksum says nothing about the 20 bytes that are hashed.
      [BigInt(v.chainId), lower(v.market), v.taskId, lower(v.doctor), v.diagnosis, v.salt],
    ),
  );
}

/** The diagnosis whose commitment equals `stored`, trying every code of the task's set (how a
 * vote is recovered from the wallet alone), or null. */
export function recoverDiagnosis(
  base: Omit<CommitmentInput, "diagnosis">,
  numClasses: number,
  stored: Hex,
): number | null {
  for (let code = 0; code < numClasses; code++) {
    if (commitment({ ...base, diagnosis: code }).toLowerCase() === stored.toLowerCase()) return code;
  }
  return null;
}
