/** Formatting for the views: amounts, times, addresses. */
import { formatUnits } from "viem";

export function formatAmount(amount: bigint, decimals: number, symbol: string): string {
  const [whole, frac = ""] = formatUnits(amount, decimals).split(".");
  const shown = frac.slice(0, 3).replace(/0+$/, "");
  const grouped = (whole ?? "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${grouped}${shown ? `.${shown}` : ""} ${symbol}`;
}

export function formatPercent(bps: number): string {
  return `${(bps / 100).toFixed(1)}%`;
}

/** "3d 4h", "4m 12s", "12s"; negative durations are "over". */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return "over";
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const hr = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${hr}h`;
  if (hr > 0) return `${hr}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

export function formatTime(unix: number): string {
  if (!unix) return "-";
  const d = new Date(unix * 1000);
  return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export function shortAddress(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

export function shortHash(hash: string): string {
  return `${hash.slice(0, 10)}…${hash.slice(-6)}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
