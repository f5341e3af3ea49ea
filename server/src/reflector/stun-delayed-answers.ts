/**
 * DelayedAnswers holds the answers the STUN reflector owes after an ALGWATCH-RESPONSE-DELAY: one
 * unref'd timer each, bounded per source IP and in total so a flood of delay requests cannot grow
 * memory. The final answer goes out twice, DUPLICATE_GAP_MS apart: one lost datagram would
 * otherwise read to the probe as an expired NAT binding.
 */
export const DUPLICATE_GAP_MS = 100;

export interface DelayedAnswersOptions<Answer> {
  maxPendingPerSource: number;
  maxPendingTotal: number;
  send(answer: Answer): void;
}

interface Pending<Answer> {
  source: string;
  answer: Answer;
  timer: NodeJS.Timeout;
}

export class DelayedAnswers<Answer> {
  private readonly pending = new Map<string, Pending<Answer>>();
  private readonly perSource = new Map<string, number>();

  constructor(private readonly options: DelayedAnswersOptions<Answer>) {}

  /**
   * schedule owes `answer` in delayMs. The same key again (a retransmitted request) restarts the
   * wait: the binding's idle time starts at the last packet the client sent. False when full.
   */
  schedule(key: string, source: string, delayMs: number, answer: Answer): boolean {
    const existing = this.pending.get(key);
    if (existing) {
      clearTimeout(existing.timer);
      existing.timer = this.timer(key, delayMs);
      return true;
    }
    const count = this.perSource.get(source) ?? 0;
    if (count >= this.options.maxPendingPerSource || this.pending.size >= this.options.maxPendingTotal) return false;
    this.perSource.set(source, count + 1);
    this.pending.set(key, { source, answer, timer: this.timer(key, delayMs) });
    return true;
  }

  get size(): number {
    return this.pending.size;
  }

  /** clear drops every owed answer (on close). */
  clear(): void {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
    this.perSource.clear();
  }

  private timer(key: string, delayMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.fire(key), delayMs);
    timer.unref();
    return timer;
  }

  private fire(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.options.send(entry.answer);
    entry.timer = setTimeout(() => {
      this.forget(key, entry);
      this.options.send(entry.answer);
    }, DUPLICATE_GAP_MS);
    entry.timer.unref();
  }

  private forget(key: string, entry: Pending<Answer>): void {
    this.pending.delete(key);
    const count = (this.perSource.get(entry.source) ?? 1) - 1;
    if (count <= 0) this.perSource.delete(entry.source);
    else this.perSource.set(entry.source, count);
  }
}
