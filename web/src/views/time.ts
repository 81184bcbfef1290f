/** Live countdowns: elements with data-deadline are refreshed every second by main.ts. */
import { Phase } from "../chain/abi.js";
import type { Task } from "../chain/client.js";
import { formatDuration, nowSeconds } from "../format.js";
import { h } from "./dom.js";

export function countdown(deadline: number): HTMLElement {
  return h("span", { class: "countdown", "data-deadline": deadline }, countdownText(deadline));
}

export function countdownText(deadline: number): string {
  const left = deadline - nowSeconds();
  return left > 0 ? `${formatDuration(left)} left` : "deadline passed";
}

export function tickCountdowns(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>("[data-deadline]")) {
    el.textContent = countdownText(Number(el.dataset.deadline));
  }
}

/** The deadline that ends the task's current phase, if any. */
export function phaseDeadline(t: Task): number | null {
  if (t.phase === Phase.Commit) return t.filled < t.seats ? Math.min(t.fillDeadline, t.commitDeadline) : t.commitDeadline;
  if (t.phase === Phase.Reveal) return t.revealDeadline;
  return null;
}
