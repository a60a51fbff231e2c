import type { Backend } from "../backends/backend.js";
import { levelOf } from "./log-levels.js";
import type { LogLineView } from "./wire.js";

// Each watched environment's output, merged from all its services, in one bounded
// buffer: the server never holds more than MAX_LINES lines of one environment, however
// long it runs, and a page that connects gets that buffer, then the new lines in batches
// (one message per 100 ms, not one per line). Following stops a while after the last
// page leaves.

export const MAX_LINES = 100_000;
const TAIL_PER_SERVICE = 2_000;
const BATCH_MS = 100;
const LINGER_MS = 30_000;
const RESUME_MS = 2_000;

/** `reset`: these are all the lines kept (a page's first message, or after a reconnect). */
type Listener = (lines: LogLineView[], reset: boolean) => void;

class EnvironmentLog {
  readonly lines: LogLineView[] = [];
  private seq = 0;
  private pending: LogLineView[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /** Each page's listener, with the last line it was sent (a line that arrived before it
   *  joined is in the buffer it got first, never sent twice). */
  readonly listeners = new Map<Listener, { lastSeq: number }>();
  readonly stop = new AbortController();
  lingerTimer: NodeJS.Timeout | undefined;

  add(service: string, stream: "stdout" | "stderr", text: string): void {
    this.seq += 1;
    const line: LogLineView = { seq: this.seq, service, stream, level: levelOf(text), text };
    this.lines.push(line);
    // Trimmed in blocks: one splice per thousand lines, not a shift per line.
    if (this.lines.length > MAX_LINES + 1000) this.lines.splice(0, this.lines.length - MAX_LINES);
    this.pending.push(line);
    this.flushTimer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  /** The lines kept now (at most MAX_LINES). */
  kept(): LogLineView[] {
    return this.lines.length > MAX_LINES ? this.lines.slice(-MAX_LINES) : this.lines;
  }

  private flush(): void {
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    for (const [listener, sent] of this.listeners) {
      const fresh = batch.filter((line) => line.seq > sent.lastSeq);
      if (fresh.length === 0) continue;
      sent.lastSeq = fresh.at(-1)?.seq ?? sent.lastSeq;
      listener(fresh, false);
    }
  }
}

export class LogHub {
  private readonly logs = new Map<string, EnvironmentLog>();

  constructor(private readonly backendOf: (envId: string) => Promise<Backend | undefined>) {}

  /** Calls `listener` with the kept lines, then with each new batch; returns the stop. */
  async follow(envId: string, listener: Listener): Promise<() => void> {
    let log = this.logs.get(envId);
    if (!log) {
      log = new EnvironmentLog();
      this.logs.set(envId, log);
      await this.startFollowing(envId, log, TAIL_PER_SERVICE);
    }
    if (log.lingerTimer) clearTimeout(log.lingerTimer);
    log.lingerTimer = undefined;
    const kept = log.kept();
    listener(kept, true);
    log.listeners.set(listener, { lastSeq: kept.at(-1)?.seq ?? 0 });
    const followed = log;
    return () => {
      followed.listeners.delete(listener);
      if (followed.listeners.size > 0) return;
      followed.lingerTimer = setTimeout(() => this.forget(envId, followed), LINGER_MS);
      followed.lingerTimer.unref();
    };
  }

  close(): void {
    for (const [envId, log] of this.logs) this.forget(envId, log);
  }

  private async startFollowing(envId: string, log: EnvironmentLog, tail: number): Promise<void> {
    const backend = await this.backendOf(envId);
    if (!backend || log.stop.signal.aborted) return;
    // The containers stopped or were replaced: while a page watches, follow the new ones
    // from their first new line (what is kept stays).
    const ended = () => {
      if (log.stop.signal.aborted || log.listeners.size === 0) return;
      setTimeout(() => void this.startFollowing(envId, log, 0), RESUME_MS).unref();
    };
    // Failed (the environment is gone or stopped): said once in the log; the page asks
    // again when it reconnects.
    const failed = (error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      log.add("prodlike", "stderr", `error: cannot follow the logs: ${reason}`);
      this.forget(envId, log);
    };
    void backend
      .followLogLines(envId, [], { tail, signal: log.stop.signal }, (line) =>
        log.add(line.service, line.stream, line.text),
      )
      .then(ended, failed);
  }

  private forget(envId: string, log: EnvironmentLog): void {
    log.stop.abort();
    if (log.lingerTimer) clearTimeout(log.lingerTimer);
    if (this.logs.get(envId) === log) this.logs.delete(envId);
  }
}
