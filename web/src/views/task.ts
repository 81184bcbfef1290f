/** One task: summary, the guided claim, the scan reader, the blind vote and the outcome. */

import type { App } from "../app.js";
import { Phase, phaseName, statusName } from "../chain/abi.js";
import type { Task, Vote } from "../chain/client.js";
import { explainError } from "../chain/errors.js";
import { diagnosisName, diagnosisNames } from "../diagnosis.js";
import { formatAmount, formatPercent, formatTime, shortAddress } from "../format.js";
import { fill, h } from "./dom.js";
import { ScanReader } from "./reader.js";
import { countdown, phaseDeadline } from "./time.js";

const ZERO = `0x${"0".repeat(64)}`;

interface Live {
  vote: Vote | null;
  seats: readonly string[];
  keyReleased: boolean;
  credited: bigint;
  reputationEarned: bigint;
  /** Loaded after the task ended, so credited and reputationEarned are final. */
  settled: boolean;
}

export class TaskView {
  readonly element: HTMLElement;
  private readonly summary = h("section", { class: "card", "data-section": "summary" });
  private readonly claimCard = h("section", { class: "card", "data-section": "claim" });
  private readonly readCard = h("section", { class: "card", "data-section": "read" });
  private readonly voteCard = h("section", { class: "card", "data-section": "vote" });
  private readonly outcomeCard = h("section", { class: "card", "data-section": "outcome" });
  private readonly reader = new ScanReader();
  private readonly readStatus = h("div", { class: "read-status", "data-read-status": "" });
  private readonly readButton: HTMLButtonElement;
  private claimLog: HTMLElement | null = null;
  private voteMessage: string | null = null;
  private selected: number | null = null;
  private changing = false;
  private busy = false;
  private live: Live | null = null;
  private updating = false;
  private stale = false;

  constructor(
    private readonly app: App,
    readonly taskId: bigint,
  ) {
    this.readButton = h("button", { type: "button", "data-action": "read-scan", onclick: () => void this.read() }, "Read scan");
    fill(
      this.readCard,
      h("h2", {}, "Scan"),
      h("p", { class: "muted" }, "The sealed scan is fetched from the hospital's gateway and decrypted in this page with your wallet-derived key; the image never leaves your browser."),
      h("div", { class: "actions" }, this.readButton),
      this.readStatus,
      this.reader.element,
    );
    this.element = h(
      "div",
      { class: "task-view", "data-task-view": taskId.toString() },
      h("p", {}, h("a", { href: "#board" }, "← Task board")),
      this.summary,
      this.claimCard,
      this.readCard,
      this.voteCard,
      this.outcomeCard,
    );
  }

  get scanReader(): ScanReader {
    return this.reader;
  }

  private get task(): Task | undefined {
    return this.app.taskById(this.taskId);
  }

  private amount(v: bigint): string {
    const t = this.app.token;
    return t ? formatAmount(v, t.decimals, t.symbol) : v.toString();
  }

  /** Reloads what depends on the account and redraws. Coalesces overlapping calls. */
  async update(): Promise<void> {
    if (this.updating) {
      this.stale = true;
      return;
    }
    this.updating = true;
    try {
      do {
        this.stale = false;
        await this.load();
        this.render();
      } while (this.stale);
    } finally {
      this.updating = false;
    }
  }

  private async load(): Promise<void> {
    const task = this.task;
    const account = this.app.account;
    if (!task) {
      this.live = null;
      return;
    }
    const chain = this.app.chain;
    try {
      const seats = await chain.seats(task.id);
      const seated = !!account && seats.some((s) => s.toLowerCase() === account.toLowerCase());
      const [vote, key] = seated && account
        ? await Promise.all([chain.vote(task.id, account), chain.wrappedKey(task.id, account)])
        : [null, null];
      const terminal = task.phase >= Phase.Resolved;
      const [credited, reputationEarned] = terminal && account && seated
        ? await Promise.all([chain.creditedBy(task.id, account), chain.reputationEarned(task.id, account)])
        : [0n, 0n];
      this.live = { vote, seats, keyReleased: key !== null, credited, reputationEarned, settled: terminal };
    } catch (e) {
      this.app.setNotice("error", `Reading task ${task.id}: ${explainError(e)}`);
    }
  }

  render(): void {
    const task = this.task;
    if (!task) {
      fill(this.summary, h("h2", {}, `Task #${this.taskId}`), h("p", {}, this.app.tasks.length ? "No such task." : "Loading…"));
      this.claimCard.hidden = this.readCard.hidden = this.voteCard.hidden = this.outcomeCard.hidden = true;
      return;
    }
    const live = this.live;
    const seated = !!live?.vote && live.vote.seat > 0;
    this.renderSummary(task, live);
    this.claimCard.hidden = seated || !this.app.ready;
    if (!this.claimCard.hidden) this.renderClaim(task);
    this.readCard.hidden = !seated;
    if (seated && live) this.renderReadState(task, live);
    this.voteCard.hidden = !seated && task.phase !== Phase.Finalizable;
    if (!this.voteCard.hidden) this.renderVote(task, live);
    this.outcomeCard.hidden = task.phase < Phase.Resolved;
    if (!this.outcomeCard.hidden) this.renderOutcome(task, live);
  }

  private renderSummary(task: Task, live: Live | null): void {
    const deadline = phaseDeadline(task);
    const me = this.app.profile;
    const locked = !!me && BigInt(task.minReputation) > me.reputation;
    fill(
      this.summary,
      h(
        "h2",
        {},
        `Task #${task.id} `,
        h("span", { class: `phase phase-${phaseName(task.phase)}`, "data-phase": phaseName(task.phase) }, phaseName(task.phase)),
        deadline ? h("span", { class: "muted small" }, " ", countdown(deadline)) : null,
      ),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Model's prediction"),
        h("dd", {}, `${diagnosisName(task.numClasses, task.predictedClass)} at ${formatPercent(task.confidenceBps)} confidence (on the encrypted scan)`),
        h("dt", {}, "Bounty"),
        h("dd", {}, this.amount(task.bounty), task.earnsReputation ? " + 1 reputation to each agreeing doctor" : " (earns no reputation)"),
        h("dt", {}, "Stake per seat"),
        h("dd", {}, `${this.amount(task.stakePerSeat)}, returned when you reveal`),
        h("dt", {}, "Seats"),
        h("dd", { "data-seats": `${task.filled}/${task.seats}` }, `${task.filled} of ${task.seats} taken, ${task.committed} committed, ${task.revealed} revealed; quorum ${task.quorum}`),
        h("dt", {}, "Reputation needed"),
        h("dd", { class: locked ? "tier" : "" }, task.minReputation === 0 ? "none" : `${task.minReputation}${locked ? ` (you have ${me?.reputation ?? 0n})` : ""}`),
        h("dt", {}, "Commit deadline"),
        h("dd", {}, formatTime(task.commitDeadline), task.filled < task.seats ? ` (free seats cancel the task at ${formatTime(task.fillDeadline)})` : ""),
        h("dt", {}, "Reveal deadline"),
        h("dd", {}, formatTime(task.revealDeadline)),
        h("dt", {}, "Posted by"),
        h("dd", { title: task.poster }, shortAddress(task.poster)),
        live ? h("dt", {}, "Doctors") : null,
        live ? h("dd", {}, live.seats.length ? live.seats.map((s) => shortAddress(s)).join(", ") : "none yet") : null,
      ),
    );
  }

  private renderClaim(task: Task): void {
    const blocker = this.app.claimBlocker(task);
    const token = this.app.token;
    const balance = this.app.profile?.balance ?? null;
    const button = h(
      "button",
      {
        type: "button",
        "data-action": "claim",
        disabled: !!blocker || this.busy,
        onclick: () => void this.claim(task),
      },
      `Stake ${this.amount(task.stakePerSeat)} and claim a seat`,
    );
    this.claimLog ??= h("div", { class: "claim-log", "data-claim-log": "" });
    fill(
      this.claimCard,
      h("h2", {}, "Claim a seat"),
      h(
        "p",
        {},
        "Claiming locks the stake until you reveal your vote. Two wallet confirmations: approve the stake, then claim.",
      ),
      balance !== null && token ? h("p", {}, "Your balance: ", h("strong", { "data-balance": balance.toString() }, this.amount(balance))) : null,
      blocker ? h("p", { class: "blocker", "data-blocker": "" }, `You cannot claim: ${blocker}.`) : null,
      h("div", { class: "actions" }, button),
      this.claimLog,
    );
  }

  private async claim(task: Task): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const log = this.claimLog ?? h("div");
    fill(log, "Preparing…");
    this.render();
    const result = await this.app.claim(task, (step) => fill(log, step));
    this.busy = false;
    if (result) {
      fill(
        log,
        h(
          "div",
          { class: "claim-result", "data-claim-result": "" },
          h("strong", {}, "Seat claimed. "),
          `Balance before ${this.amount(result.balanceBefore)}, after ${this.amount(result.balanceAfter)} (staked ${this.amount(result.stake)}).`,
        ),
      );
      // The claim card disappears once seated: keep the receipt on the read card.
      this.readStatus.replaceChildren(log.cloneNode(true));
    } else {
      fill(log, "");
    }
    await this.update();
  }

  private renderReadState(task: Task, live: Live): void {
    const canRead = live.keyReleased && task.phase !== Phase.Cancelled;
    this.readButton.disabled = !canRead || this.busy;
    this.readButton.title = live.keyReleased ? "" : "Waiting for the hospital to release your key";
    if (!live.keyReleased && !this.reader.image) {
      const waiting = this.readStatus.querySelector("[data-waiting]");
      if (!waiting) this.readStatus.append(h("p", { class: "muted", "data-waiting": "" }, "Waiting for the hospital's node to release your scan key…"));
    } else {
      this.readStatus.querySelector("[data-waiting]")?.remove();
    }
  }

  private async read(): Promise<void> {
    const task = this.task;
    if (!task || this.busy) return;
    this.busy = true;
    this.readButton.disabled = true;
    const status = h("p", { class: "muted" }, "Fetching and decrypting…");
    this.readStatus.replaceChildren(status);
    const t0 = performance.now();
    try {
      const result = await this.app.readScan(task);
      this.reader.show(
        result.bitmap,
        `${result.width}×${result.height} ${result.type}, ${(result.plainBytes / 1024).toFixed(1)} KB decrypted from ${(result.sealedBytes / 1024).toFixed(1)} KB sealed`,
      );
      // On screen: wait for the frame that shows the drawn canvas.
      await new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));
      const shownMs = performance.now() - t0;
      const parts = Object.entries(result.timings).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(", ");
      status.className = "read-timing";
      status.dataset.readMs = shownMs.toFixed(1);
      status.dataset.sealedBytes = String(result.sealedBytes);
      status.textContent = `On screen in ${shownMs.toFixed(0)} ms (${parts}, draw ${(shownMs - result.totalMs).toFixed(0)} ms).`;
    } catch (e) {
      status.className = "blocker";
      status.textContent = explainError(e);
    } finally {
      this.busy = false;
      this.readButton.disabled = false;
    }
  }

  private renderVote(task: Task, live: Live | null): void {
    const vote = live?.vote ?? null;
    const committed = !!vote && vote.commitment !== ZERO;
    const stored = this.app.storedVote(task.id);
    const storedMatches = !!stored && !!vote && stored.commitment.toLowerCase() === vote.commitment.toLowerCase();
    const names = diagnosisNames(task.numClasses);
    const parts: (HTMLElement | null)[] = [h("h2", {}, "Your vote")];
    if (this.voteMessage) parts.push(h("p", { class: "info", "data-vote-message": "" }, this.voteMessage));

    if (task.phase === Phase.Commit && vote && vote.seat > 0) {
      if (committed && !this.changing) {
        parts.push(
          h(
            "p",
            { "data-vote-state": "committed" },
            "Committed. Nobody can see your diagnosis until you reveal it",
            storedMatches && stored ? ` (yours: ${diagnosisName(task.numClasses, stored.diagnosis)}, kept in this browser)` : " (not stored in this browser: it will be recovered from your wallet when you reveal)",
            ". Reveal opens when every seat has committed or at the commit deadline.",
          ),
          h("div", { class: "actions" }, h("button", { type: "button", class: "ghost", "data-action": "change-vote", onclick: () => { this.changing = true; this.render(); } }, "Change vote")),
        );
      } else {
        const choices = names.map((name, code) =>
          h(
            "label",
            { class: "choice" },
            h("input", {
              type: "radio",
              name: `dx-${task.id}`,
              value: code,
              checked: this.selected === code,
              "data-diagnosis": name,
              onchange: () => {
                this.selected = code;
                this.render();
              },
            }),
            ` ${name}`,
          ),
        );
        parts.push(
          h("p", {}, "Choose your diagnosis. Your wallet signs a message that derives a secret salt; only the commitment (a hash) goes on chain."),
          h("div", { class: "choices" }, choices),
          h(
            "div",
            { class: "actions" },
            h("button", { type: "button", "data-action": "commit", disabled: this.selected === null || this.busy, onclick: () => void this.commit(task) }, "Commit vote"),
            this.changing ? h("button", { type: "button", class: "ghost", onclick: () => { this.changing = false; this.render(); } }, "Keep my vote") : null,
          ),
        );
      }
    } else if (task.phase === Phase.Reveal && vote) {
      if (!committed) {
        parts.push(h("p", { class: "blocker" }, "You did not commit a vote before the deadline: your stake is forfeited."));
      } else if (vote.revealed) {
        parts.push(h("p", { "data-vote-state": "revealed" }, `Revealed: ${diagnosisName(task.numClasses, vote.diagnosis)}. Waiting for the other doctors to reveal.`));
      } else {
        parts.push(
          h(
            "p",
            { "data-vote-state": "reveal-now" },
            "Reveal opens: publish your vote now to get your stake back",
            storedMatches ? " (salt kept in this browser)." : ". Your salt is not in this browser: your wallet will sign again to recover it.",
          ),
          h("div", { class: "actions" }, h("button", { type: "button", "data-action": "reveal", disabled: this.busy, onclick: () => void this.reveal(task) }, "Reveal vote")),
        );
      }
    } else if (task.phase === Phase.Finalizable) {
      parts.push(
        vote?.revealed ? h("p", {}, `You revealed ${diagnosisName(task.numClasses, vote.diagnosis)}.`) : null,
        h("p", {}, "Voting is over. Anyone may finalize the task to settle payouts."),
        h("div", { class: "actions" }, h("button", { type: "button", "data-action": "finalize", disabled: this.busy || !this.app.ready, onclick: () => void this.finalize(task) }, "Finalize task")),
      );
    } else if (vote?.revealed) {
      parts.push(h("p", { "data-vote-state": "revealed" }, `You voted ${diagnosisName(task.numClasses, vote.diagnosis)}.`));
    }
    fill(this.voteCard, ...parts);
  }

  private async commit(task: Task): Promise<void> {
    if (this.selected === null || this.busy) return;
    this.busy = true;
    this.voteMessage = "Sign the salt message in your wallet, then confirm the commit transaction…";
    this.render();
    const ok = await this.app.commitVote(task, this.selected);
    this.busy = false;
    this.voteMessage = ok ? "Your blind vote is committed." : null;
    if (ok) this.changing = false;
    await this.update();
  }

  private async reveal(task: Task): Promise<void> {
    this.busy = true;
    this.voteMessage = "Confirm the reveal in your wallet…";
    this.render();
    const result = await this.app.revealVote(task);
    this.busy = false;
    this.voteMessage = result ? (result.recovered ? "Your vote was recovered from your wallet and revealed." : "Your vote is revealed.") : null;
    await this.update();
  }

  private async finalize(task: Task): Promise<void> {
    this.busy = true;
    this.render();
    await this.app.finalize(task);
    this.busy = false;
    await this.update();
  }

  private renderOutcome(task: Task, live: Live | null): void {
    const vote = live?.vote ?? null;
    const parts: (HTMLElement | null)[] = [h("h2", {}, "Outcome")];
    if (task.phase === Phase.Resolved) {
      parts.push(
        h("p", { "data-outcome": diagnosisName(task.numClasses, task.outcome) }, h("strong", {}, `Resolved: ${diagnosisName(task.numClasses, task.outcome)}`), ` (${task.agreeing} of ${task.seats} agreeing).`),
      );
    } else {
      parts.push(h("p", { "data-outcome": statusName(task.status) }, h("strong", {}, `${statusName(task.status)}`), task.phase === Phase.Cancelled ? ": seats did not fill in time, everyone was refunded." : ": no quorum agreed; the bounty went back to the hospital."));
    }
    if (vote && vote.seat > 0 && !live?.settled) {
      parts.push(h("p", { class: "muted" }, "Reading your payout…"));
    } else if (vote && vote.seat > 0) {
      const agreed = task.phase === Phase.Resolved && vote.revealed && vote.diagnosis === task.outcome;
      parts.push(
        h(
          "p",
          { "data-payout": live?.credited.toString() ?? "0" },
          vote.revealed ? `You voted ${diagnosisName(task.numClasses, vote.diagnosis)}${agreed ? " and agreed with the outcome" : ""}. ` : "You did not reveal. ",
          `Credited to you: ${this.amount(live?.credited ?? 0n)}`,
          live && live.reputationEarned > 0n ? ` and +${live.reputationEarned} reputation` : "",
          ". Withdraw credits under Account.",
        ),
      );
    }
    fill(this.outcomeCard, ...parts);
  }
}

