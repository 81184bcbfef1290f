/** The task board: open tasks first, with everything a doctor weighs before claiming. */
import type { App } from "../app.js";
import { Phase, phaseName } from "../chain/abi.js";
import type { Task } from "../chain/client.js";
import { diagnosisName } from "../diagnosis.js";
import { formatAmount, formatPercent, formatTime } from "../format.js";
import { h } from "./dom.js";
import { countdown, phaseDeadline } from "./time.js";

export function boardView(app: App): HTMLElement {
  const token = app.token;
  const amount = (v: bigint): string => (token ? formatAmount(v, token.decimals, token.symbol) : v.toString());
  const me = app.profile;
  const open = app.tasks.filter((t) => t.phase === Phase.Commit && t.filled < t.seats);
  const mine = me
    ? app.tasks.filter((t) => !open.includes(t) && app.seatedOn.has(t.id.toString()))
    : [];
  const rest = app.tasks.filter((t) => !open.includes(t) && !mine.includes(t));

  const row = (t: Task): HTMLElement => {
    const needs = BigInt(t.minReputation);
    const locked = !!me && needs > me.reputation;
    const seated = app.seatedOn.has(t.id.toString());
    const deadline = phaseDeadline(t);
    return h(
      "tr",
      { class: locked ? "locked" : "", "data-task": t.id.toString(), "data-phase": phaseName(t.phase) },
      h("td", {}, h("a", { href: `#task/${t.id}` }, `#${t.id}`)),
      h("td", {}, h("strong", {}, diagnosisName(t.numClasses, t.predictedClass)), " ", formatPercent(t.confidenceBps)),
      h("td", { class: "num" }, amount(t.bounty)),
      h("td", { class: "num" }, amount(t.stakePerSeat)),
      h("td", { class: "num" }, `${t.seats - t.filled} of ${t.seats}`),
      h(
        "td",
        {},
        h("span", { class: `phase phase-${phaseName(t.phase)}` }, phaseName(t.phase)),
        deadline ? h("span", { class: "muted" }, " · ", countdown(deadline)) : null,
      ),
      h(
        "td",
        { class: "deadlines" },
        h("div", {}, "commit ", formatTime(t.commitDeadline)),
        h("div", {}, "reveal ", formatTime(t.revealDeadline)),
      ),
      h(
        "td",
        {},
        t.minReputation === 0 ? "none" : `≥ ${t.minReputation}`,
        locked ? h("div", { class: "tier", "data-tier": t.minReputation }, `Tier ${t.minReputation}: needs reputation ${t.minReputation}, you have ${me?.reputation ?? 0n}`) : null,
        t.earnsReputation ? null : h("div", { class: "muted" }, "earns no reputation"),
      ),
      h(
        "td",
        {},
        seated
          ? h("a", { class: "button", href: `#task/${t.id}` }, "Your seat")
          : h("a", { class: `button${locked ? " disabled" : ""}`, href: `#task/${t.id}`, "aria-disabled": locked }, t.phase === Phase.Commit && t.filled < t.seats ? "View & claim" : "View"),
      ),
    );
  };

  const table = (title: string, tasks: Task[], id: string): HTMLElement =>
    h(
      "section",
      { class: "card", "data-section": id },
      h("h2", {}, title, h("span", { class: "count" }, ` (${tasks.length})`)),
      tasks.length === 0
        ? h("p", { class: "muted" }, "None right now.")
        : h(
            "table",
            { class: "tasks" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ...["Task", "Model says", "Bounty", "Stake", "Seats left", "Phase", "Deadlines", "Reputation", ""].map((c) => h("th", {}, c)),
              ),
            ),
            h("tbody", {}, tasks.map(row)),
          ),
    );

  return h(
    "div",
    { class: "board" },
    table("Open tasks", open, "open"),
    me ? table("Your tasks", mine, "mine") : null,
    table("Other tasks", rest, "closed"),
  );
}
