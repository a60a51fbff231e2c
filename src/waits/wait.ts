import type { Clock } from "./clock.js";

// Composable waits: each polls one condition until it holds, fails for good, or times
// out. `forAll` runs several side by side and fails as soon as one fails.

export type Probe =
  | { done: true }
  | { done: false; detail: string }
  | { failed: true; reason: string };

export interface WaitStrategy {
  readonly description: string;
  /** Resolves when ready; rejects with WaitFailed on failure or time-out. */
  wait(clock: Clock, onDetail?: (detail: string) => void): Promise<void>;
}

export class WaitFailed extends Error {
  constructor(
    readonly description: string,
    readonly reason: string,
    readonly timedOut: boolean,
  ) {
    super(`${description}: ${reason}`);
    this.name = "WaitFailed";
  }
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs: number;
}

export function poll(
  description: string,
  probe: () => Promise<Probe>,
  options: PollOptions,
): WaitStrategy {
  return {
    description,
    async wait(clock, onDetail) {
      const deadline = clock.now() + options.timeoutMs;
      let lastDetail = "not checked yet";
      for (;;) {
        const result = await probe();
        if ("failed" in result) throw new WaitFailed(description, result.reason, false);
        if (result.done) return;
        if (result.detail !== lastDetail) onDetail?.(result.detail);
        lastDetail = result.detail;
        if (clock.now() >= deadline) {
          throw new WaitFailed(
            description,
            `timed out after ${options.timeoutMs} ms (${lastDetail})`,
            true,
          );
        }
        await clock.sleep(options.intervalMs);
      }
    },
  };
}

export function forAll(strategies: readonly WaitStrategy[]): WaitStrategy {
  return {
    description: strategies.map((strategy) => strategy.description).join(", "),
    async wait(clock, onDetail) {
      await Promise.all(strategies.map((strategy) => strategy.wait(clock, onDetail)));
    },
  };
}
