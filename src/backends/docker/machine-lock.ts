import type { HeldLock, LockHolder } from "../../env/lock.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { Clock } from "../../waits/clock.js";
import type { Claim, MachineClaims } from "./machine-claims.js";

// One prodlike at a time, of any user of the engine, on something every environment
// shares (the local router). A `lock` claim is held once its holder made it and then saw
// no other live one; two that see each other both step back and try again after a random
// pause, so one of them gets it. A waiter only looks (one listing) until the holder is
// gone, then claims.

export interface MachineLockOptions {
  timeoutMs: number;
  clock: Clock;
  /** How long a holder may keep it before it counts for nothing (a hung process). */
  ttlMs: number;
  /** What is locked, in words: "the local router". */
  what: string;
  onWait?: (holder: LockHolder & { uid: number }) => void;
  /** Random in [0, 1): the pause before another try (tests pass their own). */
  random?: () => number;
}

export async function acquireMachineLock(
  claims: MachineClaims,
  name: string,
  options: MachineLockOptions,
): Promise<HeldLock> {
  const deadline = options.clock.now() + options.timeoutMs;
  const random = options.random ?? Math.random;
  let reported = false;
  for (;;) {
    let holder = (await claims.others("lock", { key: name }))[0];
    if (holder === undefined) {
      const mine = await claims.make("lock", { key: name, ttlMs: options.ttlMs });
      holder = (await claims.others("lock", { key: name, mine }))[0];
      if (holder === undefined) return heldBy(claims, mine);
      await claims.release(mine);
    }
    if (options.clock.now() >= deadline) {
      throw new ProdlikeError(
        "ENV_BUSY",
        `${options.what} is being changed by another prodlike (pid ${holder.holder.pid}, uid ${holder.uid})`,
        {
          hint: `Wait for it to finish and try again. Its claim is the Docker volume ${holder.volume}; it counts for nothing once that process ends.`,
          data: { pid: holder.holder.pid, uid: holder.uid, claim: holder.volume },
        },
      );
    }
    if (!reported) {
      options.onWait?.({ ...holder.holder, uid: holder.uid });
      reported = true;
    }
    await options.clock.sleep(50 + Math.floor(random() * 200));
  }
}

function heldBy(claims: MachineClaims, claim: Claim): HeldLock {
  return { release: () => claims.release(claim) };
}
