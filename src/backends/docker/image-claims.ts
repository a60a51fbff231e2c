import type { Claim, MachineClaims } from "./machine-claims.js";

// Images are shared by every environment of every user: `destroy` removes the ones no
// container uses, yet an `up` may be about to use one (compose creates php-fpm, cli and
// web only once the database is healthy, so no container holds their images yet).
//
// An `up` claims the images it needs before it checks which exist; a removal claims its
// turn before it reads those claims. Whichever of the two comes second sees the other:
// the removal then keeps the claimed images, or the `up` waits for the removal to end
// and then checks (and builds what went).

const INTENT_MS = 2 * 60 * 60_000;
const REMOVAL_MS = 10 * 60_000;
const REMOVAL_WAIT_MS = 10 * 60_000;

export class ImageClaims {
  constructor(private readonly claims: MachineClaims) {}

  /** Claims `refs` for an `up`; resolves once no removal is under way. Release the claim
   *  when the environment's containers exist. */
  async intend(
    envId: string,
    refs: readonly string[],
    options: { sleep: (ms: number) => Promise<void>; now: () => number },
  ): Promise<Claim> {
    const mine = await this.claims.make("images", { envId, items: refs, ttlMs: INTENT_MS });
    const deadline = options.now() + REMOVAL_WAIT_MS;
    while ((await this.claims.others("removal")).length > 0 && options.now() < deadline) {
      await options.sleep(100);
    }
    return mine;
  }

  /** Starts a removal: the images live `up`s have claimed (keep them), and the claim to
   *  release once the removal is done. */
  async removing(envId: string): Promise<{ inUse: Set<string>; claim: Claim }> {
    const claim = await this.claims.make("removal", { envId, ttlMs: REMOVAL_MS });
    const inUse = new Set<string>();
    for (const intent of await this.claims.others("images")) {
      for (const ref of intent.items) inUse.add(ref);
    }
    return { inUse, claim };
  }

  release(claim: Claim): Promise<void> {
    return this.claims.release(claim);
  }
}
