import { createServer, type Server } from "node:http";
import { describe, expect, it } from "vitest";
import {
  forAll,
  forHttp,
  type Probe,
  phpFatalIn,
  poll,
  WaitFailed,
} from "../../../src/waits/wait.js";
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

describe("forHttp", () => {
  async function serve(statuses: number[]): Promise<{ server: Server; url: string }> {
    let index = 0;
    const server = createServer((_request, response) => {
      response.statusCode = statuses[Math.min(index++, statuses.length - 1)] ?? 200;
      response.end("x");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    return { server, url: `http://127.0.0.1:${address.port}/` };
  }

  it("waits through 502s and accepts a redirect as up", async () => {
    const { server, url } = await serve([502, 504, 302]);
    try {
      const details: string[] = [];
      await forHttp(url, { timeoutMs: 5000, intervalMs: 10 }).wait(new FakeClock(), (d) =>
        details.push(d),
      );
      expect(details).toEqual(["answered 502", "answered 504"]);
    } finally {
      server.close();
    }
  });

  it("says why nothing answers yet, not fetch's bare `fetch failed`", async () => {
    const { server, url } = await serve([]);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const details: string[] = [];
    const error = await forHttp(url, { timeoutMs: 0, intervalMs: 10 })
      .wait(new FakeClock(), (d) => details.push(d))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WaitFailed);
    expect(details).toEqual(["not answering yet (ECONNREFUSED)"]);
  });
});

describe("phpFatalIn", () => {
  it("finds PHP's own fatal error output in a page, and nothing in a working one", () => {
    expect(
      phpFatalIn(
        "<br />\n<b>Fatal error</b>:  Uncaught Error: Call to undefined function prodlike_x() in /var/www/html/web/index.php:2",
      ),
    ).toBe(
      "a PHP Fatal error: Uncaught Error: Call to undefined function prodlike_x() in /var/www/html/web/index.php:2",
    );
    expect(phpFatalIn("PHP Parse error:  syntax error, unexpected end of file")).toContain(
      "Parse error",
    );
    expect(phpFatalIn("<h1>drupal-basic</h1><p>greeting</p>")).toBeUndefined();
  });
});
