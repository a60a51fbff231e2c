import { mkdir, open, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { currentProcess, isRunning } from "./lock.js";

// Environments started side by side (QA's ten at once) choose their host ports before any
// of them has a container that claims one, so two could choose the same. A reservation
// file per port bridges that window: it is another environment's while the `up` that
// wrote it is alive and younger than RESERVATION_MS; after that the containers' own port
// claims take over, so nothing has to release it.

const RESERVATION_MS = 15 * 60_000;

interface Reservation {
  envId: string;
  pid: number;
  /** The pid's start time (lock.ts): a reused pid does not keep a port reserved. */
  started?: string | undefined;
  at: number;
}

export class PortReservations {
  constructor(
    private readonly dir: string,
    private readonly envId: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Ports other live `up`s have reserved. */
  async heldByOthers(): Promise<Set<number>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return new Set();
    }
    const held = new Set<number>();
    for (const name of names) {
      const reservation = await this.read(name);
      if (reservation && this.isOthers(reservation)) held.add(Number(name));
    }
    return held;
  }

  /** Reserves the ports; resolves those another live `up` reserved first (none: done). */
  async reserve(ports: readonly number[]): Promise<number[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const conflicts: number[] = [];
    for (const port of ports) {
      const file = path.join(this.dir, String(port));
      const { pid, started } = currentProcess();
      const mine: Reservation = { envId: this.envId, pid, started, at: this.now() };
      for (;;) {
        try {
          // wx: created only if absent, atomically; of two racing writers one wins.
          const handle = await open(file, "wx", 0o600);
          await handle.writeFile(JSON.stringify(mine));
          await handle.close();
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
          const current = await this.read(String(port));
          if (current && this.isOthers(current)) {
            conflicts.push(port);
            break;
          }
          // Ours from an earlier run, stale, or unreadable: replace it.
          await rm(file, { force: true });
        }
      }
    }
    return conflicts;
  }

  /** Removes this environment's reservations, and any whose `up` is over (destroy, gc). */
  async release(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const reservation = await this.read(name);
      if (!reservation || reservation.envId === this.envId || !this.isLive(reservation)) {
        await rm(path.join(this.dir, name), { force: true });
      }
    }
  }

  private async read(name: string): Promise<Reservation | undefined> {
    try {
      const parsed = JSON.parse(await readFile(path.join(this.dir, name), "utf8")) as Reservation;
      return typeof parsed.envId === "string" && typeof parsed.pid === "number"
        ? parsed
        : undefined;
    } catch {
      return undefined;
    }
  }

  private isOthers(reservation: Reservation): boolean {
    return reservation.envId !== this.envId && this.isLive(reservation);
  }

  private isLive(reservation: Reservation): boolean {
    return (
      this.now() - reservation.at < RESERVATION_MS &&
      isRunning({ pid: reservation.pid, started: reservation.started })
    );
  }
}
