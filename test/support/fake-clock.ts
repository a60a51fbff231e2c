import type { Clock } from "../../src/waits/clock.js";

// Time that moves only when something sleeps.
export class FakeClock implements Clock {
  private current = 0;
  readonly sleeps: number[] = [];

  now(): number {
    return this.current;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.current += ms;
  }
}
