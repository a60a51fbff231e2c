import { setTimeout as delay } from "node:timers/promises";

// Time as a collaborator, so waits and locks are unit-tested without real sleeping.
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms) => {
    await delay(ms);
  },
};
