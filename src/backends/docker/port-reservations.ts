import type { Claim, MachineClaims } from "./machine-claims.js";

// Environments started side by side (QA's ten at once, two users on one engine) choose
// their host ports before any of them has a container that holds one. A `ports` claim
// bridges that window for every user of the engine: made before the ports are used, it
// is released when the `up` ends (its containers hold the ports from then on), or counts
// for nothing once that `up`'s process is gone.

const RESERVATION_MS = 15 * 60_000;

export class PortReservations {
  private mine: Claim | undefined;

  constructor(
    private readonly claims: MachineClaims,
    private readonly envId: string,
  ) {}

  /** Ports other live `up`s (of any user) have reserved. */
  async heldByOthers(): Promise<Set<number>> {
    const held = new Set<number>();
    for (const claim of await this.claims.others("ports", this.mine ? { mine: this.mine } : {})) {
      if (claim.envId === this.envId) continue;
      for (const item of claim.items) held.add(Number(item));
    }
    return held;
  }

  /** Reserves the ports (replacing this run's earlier reservation); resolves those another
   *  live `up` reserved too: then nothing is reserved, and the caller chooses again. */
  async reserve(ports: readonly number[]): Promise<number[]> {
    await this.release();
    const mine = await this.claims.make("ports", {
      envId: this.envId,
      items: ports.map(String),
      ttlMs: RESERVATION_MS,
    });
    const wanted = new Set(ports);
    const conflicts = new Set<number>();
    for (const claim of await this.claims.others("ports", { mine })) {
      if (claim.envId === this.envId) continue;
      for (const item of claim.items) if (wanted.has(Number(item))) conflicts.add(Number(item));
    }
    if (conflicts.size > 0) await this.claims.release(mine);
    else this.mine = mine;
    return [...conflicts].sort((a, b) => a - b);
  }

  async release(): Promise<void> {
    if (!this.mine) return;
    await this.claims.release(this.mine);
    this.mine = undefined;
  }
}
