/** The deployment the page works against, served beside it as deployment.json by the hospital
 * node (or any static server). */
import { getAddress, type Address } from "viem";

export interface Deployment {
  chainId: number;
  rpcUrl: string;
  market: Address;
  registry: Address;
  reputation: Address;
  stablecoin: Address | null;
  startBlock: number;
  /** Where sealed scans are fetched: `${gateway}${cid}`, relative to the page. */
  gateway: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function address(value: unknown, field: string): Address {
  if (typeof value !== "string") throw new ConfigError(`deployment.json: "${field}" is missing`);
  try {
    return getAddress(value);
  } catch {
    throw new ConfigError(`deployment.json: "${field}" is not an address: ${value}`);
  }
}

export function parseDeployment(json: unknown, base: string): Deployment {
  if (!json || typeof json !== "object") throw new ConfigError("deployment.json is not an object");
  const o = json as Record<string, unknown>;
  const chainId = Number(o.chainId);
  if (!Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new ConfigError(`deployment.json: "chainId" must be a positive integer`);
  }
  if (typeof o.rpcUrl !== "string" || !o.rpcUrl) throw new ConfigError(`deployment.json: "rpcUrl" is missing`);
  const startBlock = Number(o.startBlock ?? 0);
  if (!Number.isSafeInteger(startBlock) || startBlock < 0) {
    throw new ConfigError(`deployment.json: "startBlock" must be a block number`);
  }
  const gateway = typeof o.gateway === "string" && o.gateway ? o.gateway : "/ipfs/";
  return {
    chainId,
    rpcUrl: new URL(o.rpcUrl, base).toString(),
    market: address(o.market, "market"),
    registry: address(o.registry, "registry"),
    reputation: address(o.reputation, "reputation"),
    stablecoin: o.stablecoin ? address(o.stablecoin, "stablecoin") : null,
    startBlock,
    gateway: new URL(gateway.endsWith("/") ? gateway : `${gateway}/`, base).toString(),
  };
}

export async function loadDeployment(pageUrl: string): Promise<Deployment> {
  const url = new URL("deployment.json", pageUrl);
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch {
    throw new ConfigError(`cannot fetch ${url.pathname}: is the hospital node running?`);
  }
  if (!response.ok) throw new ConfigError(`${url.pathname} answered HTTP ${response.status}`);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new ConfigError(`${url.pathname} is not JSON`);
  }
  return parseDeployment(json, url.toString());
}
