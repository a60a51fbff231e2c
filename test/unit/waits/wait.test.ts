import { describe, expect, it } from "vitest";
import { forAll, type Probe, poll, WaitFailed } from "../../../src/waits/wait.js";
import { FakeClock } from "../../support/fake-clock.js";

function sequence(...results: Probe[]): () => Promise<Probe> {
  let index = 0;
  return async () => results[Math.min(index++, results.length - 1)] as Probe;
}

describe("poll", () => {
  it("resolves once the probe is done and reports each new detail once", async () => {
    const details: string[] = [];
    const clock = new FakeClock();
    await poll(
      "db",
      sequence(
        { done: false, detail: "starting" },
        { done: false, detail: "starting" },
        { done: true },
      ),
      { timeoutMs: 10_000, intervalMs: 100 },
    ).wait(clock, (detail) => details.push(detail));
    expect(details).toEqual(["starting"]);
    expect(clock.sleeps).toEqual([100, 100]);
  });

  it("fails at once on a failed probe", async () => {
    const error = await poll("db", sequence({ failed: true, reason: "container exited" }), {
      timeoutMs: 10_000,
      intervalMs: 100,
    })
      .wait(new FakeClock())
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WaitFailed);
    expect((error as WaitFailed).timedOut).toBe(false);
    expect((error as WaitFailed).reason).toBe("container exited");
  });

  it("times out with the last detail", async () => {
    const error = await poll("db", sequence({ done: false, detail: "health: starting" }), {
      timeoutMs: 1000,
      intervalMs: 250,
    })
      .wait(new FakeClock())
      .catch((caught: unknown) => caught);
    expect((error as WaitFailed).timedOut).toBe(true);
    expect((error as WaitFailed).reason).toContain("health: starting");
  });

  it("forAll fails when one of its waits fails", async () => {
    const ok = poll("a", sequence({ done: true }), { timeoutMs: 100, intervalMs: 10 });
    const bad = poll("b", sequence({ failed: true, reason: "no" }), {
      timeoutMs: 100,
      intervalMs: 10,
    });
    await expect(forAll([ok, bad]).wait(new FakeClock())).rejects.toBeInstanceOf(WaitFailed);
    await expect(forAll([ok, ok]).wait(new FakeClock())).resolves.toBeUndefined();
  });
});
