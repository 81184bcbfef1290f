/**
 * Vote salts kept in the browser (localStorage), keyed by chain, market, task and doctor, so a
 * reload or a crash between commit and reveal loses nothing. The salt is also recoverable from
 * the wallet (see crypto/vote.ts), so clearing this storage is never fatal.
 */
import type { Address, Hex } from "viem";

export interface StoredVote {
  diagnosis: number;
  salt: Hex;
  commitment: Hex;
  /** Unix ms when the vote was stored (before the commit transaction was sent). */
  storedAt: number;
}

/** What localStorage offers; injectable for tests. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface VoteKey {
  chainId: number;
  market: Address;
  taskId: bigint;
  doctor: Address;
}

export function saltStorageKey(k: VoteKey): string {
  return `crypdoc:vote:v1:${k.chainId}:${k.market.toLowerCase()}:${k.taskId.toString()}:${k.doctor.toLowerCase()}`;
}

function isStoredVote(v: unknown): v is StoredVote {
  const o = v as StoredVote | null;
  return (
    !!o &&
    typeof o.diagnosis === "number" &&
    typeof o.salt === "string" &&
    /^0x[0-9a-fA-F]{64}$/.test(o.salt) &&
    typeof o.commitment === "string" &&
    /^0x[0-9a-fA-F]{64}$/.test(o.commitment)
  );
}

export class SaltStore {
  constructor(private readonly store: KeyValueStore) {}

  get(k: VoteKey): StoredVote | null {
    let raw: string | null;
    try {
      raw = this.store.getItem(saltStorageKey(k));
    } catch {
      return null;
    }
    if (!raw) return null;
    try {
      const value: unknown = JSON.parse(raw);
      return isStoredVote(value) ? value : null;
    } catch {
      return null;
    }
  }

  put(k: VoteKey, vote: StoredVote): void {
    this.store.setItem(saltStorageKey(k), JSON.stringify(vote));
  }

  remove(k: VoteKey): void {
    this.store.removeItem(saltStorageKey(k));
  }
}

/** An in-memory store, for tests and browsers that refuse localStorage. */
export class MemoryStore implements KeyValueStore {
  private readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

export function browserStore(): KeyValueStore {
  try {
    const s = window.localStorage;
    const probe = "crypdoc:probe";
    s.setItem(probe, "1");
    s.removeItem(probe);
    return s;
  } catch {
    return new MemoryStore();
  }
}
