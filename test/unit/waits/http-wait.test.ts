import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorAnswers, forHttp, judgeAnswer, phpFatalIn } from "../../../src/waits/http-wait.js";
import { WaitFailed } from "../../../src/waits/wait.js";
import { FakeClock } from "../../support/fake-clock.js";

// A real HTTP server on 127.0.0.1 that answers each request from a script: status, body,
// and how long it takes. It counts requests and the most that were in flight at once.
interface Answer {
  status: number;
  body?: string;
  delayMs?: number;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(
  answers: Answer[],
): Promise<{ url: string; stats: { requests: number; maxInFlight: number } }> {
  const stats = { requests: 0, maxInFlight: 0 };
  let inFlight = 0;
  server = createServer((_request, response) => {
    const answer = answers[Math.min(stats.requests, answers.length - 1)] ?? { status: 200 };
    stats.requests += 1;
    inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    setTimeout(() => {
      response.statusCode = answer.status;
      response.end(answer.body ?? "x");
      inFlight -= 1;
    }, answer.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { url: `http://127.0.0.1:${address.port}/`, stats };
}

const OPTIONS = { timeoutMs: 60_000, intervalMs: 10, requestTimeoutMs: 30_000, failAfterMs: 5_000 };

describe("forHttp", () => {
  it("waits for a slow first page with one request, never a second beside it", async () => {
    // A framework's cold first page: 1.5 s. The old probe gave up after 1 s and asked
    // again every 50 ms while php-fpm kept running every abandoned request.
    const { url, stats } = await serve([{ status: 200, delayMs: 1500 }]);
    await forHttp(url, OPTIONS).wait(new FakeClock());
    expect(stats.requests).toBe(1);
    expect(stats.maxInFlight).toBe(1);
  });

  it("waits through 502s and accepts a redirect as up", async () => {
    const { url } = await serve([{ status: 502 }, { status: 504 }, { status: 302 }]);
    const details: string[] = [];
    await forHttp(url, OPTIONS).wait(new FakeClock(), (detail) => details.push(detail));
    expect(details).toEqual(["answered 502", "answered 504"]);
  });

  it("fails on a constant 500 after failAfterMs, long before the whole time-out", async () => {
    const { url, stats } = await serve([{ status: 500 }]);
    const clock = new FakeClock();
    const error = await forHttp(url, OPTIONS)
      .wait(clock)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ErrorAnswers);
    expect((error as ErrorAnswers).timedOut).toBe(false);
    expect((error as ErrorAnswers).last.status).toBe(500);
    expect(clock.now()).toBeGreaterThanOrEqual(5_000);
    expect(clock.now()).toBeLessThan(6_000);
    // Paced: an app that answers errors is not hammered (250 ms apart on the clock).
    expect(stats.requests).toBeLessThanOrEqual(22);
  });

  it("names a PHP fatal error shown in a 200 page", async () => {
    const { url } = await serve([
      { status: 200, body: "<b>Fatal error</b>: Uncaught Error: Call to undefined function x()" },
    ]);
    const error = (await forHttp(url, OPTIONS)
      .wait(new FakeClock())
      .catch((caught: unknown) => caught)) as ErrorAnswers;
    expect(error).toBeInstanceOf(ErrorAnswers);
    expect(error.last.fatal).toContain("Call to undefined function x()");
  });

  it("takes a 404 where the page should be for an error, and recovers when the page comes", async () => {
    const { url } = await serve([{ status: 404 }, { status: 404 }, { status: 200 }]);
    const details: string[] = [];
    await forHttp(url, OPTIONS).wait(new FakeClock(), (detail) => details.push(detail));
    expect(details).toEqual(["answered 404"]);
  });

  it("counts a request over requestTimeoutMs as no reply and asks again after it ended", async () => {
    const { url, stats } = await serve([{ status: 200, delayMs: 400 }, { status: 200 }]);
    const details: string[] = [];
    await forHttp(url, { ...OPTIONS, requestTimeoutMs: 100 }).wait(new FakeClock(), (detail) =>
      details.push(detail),
    );
    expect(details).toEqual(["not answering yet (no reply within 0 s)"]);
    expect(stats.requests).toBe(2);
  });

  it("says why nothing answers yet, not fetch's bare `fetch failed`", async () => {
    const { url } = await serve([]);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const details: string[] = [];
    const error = await forHttp(url, { ...OPTIONS, timeoutMs: 0 })
      .wait(new FakeClock(), (detail) => details.push(detail))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WaitFailed);
    expect((error as WaitFailed).timedOut).toBe(true);
    expect(details).toEqual(["not answering yet (ECONNREFUSED)"]);
  });
});

describe("judgeAnswer", () => {
  it.each([
    [200, "ok", "ok"],
    [302, "", "ok"],
    [401, "login", "ok"],
    [403, "", "error"],
    [404, "", "error"],
    [500, "", "error"],
    [503, "", "error"],
    [200, "PHP Parse error:  syntax error", "error"],
  ] as const)("%i %j -> %s", (status, body, kind) => {
    expect(judgeAnswer(status, body).kind).toBe(kind);
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
