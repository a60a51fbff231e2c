import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { request as httpRequest } from "node:http";
import type { Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactPath, type Browser, launchChromium } from "./support/browser.js";
import {
  CLI,
  copyExample,
  discardProject,
  expectOk,
  jsonField,
  shellIn,
  type TestProject,
} from "./support/harness.js";
import { routedRequest, routerOf } from "./support/routed.js";

// The dashboard as QA uses it, on the real engine and in a real Chromium: two
// environments this test makes are listed with their states; a change made in a
// terminal shows up without a reload; a snapshot, then a destroy, clicked on the page
// are what `prodlike ls` then reports; a hostile log line is shown as text; no token is
// 401 and a foreign Host is refused.

interface Listed {
  id: string;
  state: string;
  snapshots: { name: string }[];
}

let project: TestProject;
let server: ChildProcess | undefined;
let url: string;
let routedUrl: string | undefined;
const consoleErrors: string[] = [];
/** What the dashboard wrote on stderr (the router's name coming and going). */
let serverErrors = "";
let browser: Browser;
let page: Page;
const envId = (name: string) => `${project.name}-${name}`;
const XSS = `<img src=x onerror="window.__pwned=1">`;

async function listed(): Promise<Listed[]> {
  const ls = await project.cli(["ls", "--json"]);
  expectOk(ls);
  return jsonField<Listed[]>(ls, "environments").filter((environment) =>
    environment.id.startsWith(`${project.name}-`),
  );
}

/** Starts `prodlike dashboard --json` as the developer would; resolves its document. */
async function startServer(): Promise<{ url: string; routedUrl?: string }> {
  const child = spawn("node", [CLI, "dashboard", "--json"], {
    cwd: project.dir,
    env: { ...process.env, PRODLIKE_HOME: project.home, NO_COLOR: "1", CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server = child;
  let text = "";
  child.stderr.on("data", (chunk: Buffer) => {
    serverErrors += chunk.toString("utf8");
  });
  for await (const chunk of child.stdout) {
    text += String(chunk);
    try {
      return JSON.parse(text) as { url: string; routedUrl?: string };
    } catch {
      // the document is not complete yet
    }
  }
  throw new Error(`dashboard exited: ${text}\n${serverErrors}`);
}

function rawGet(target: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = httpRequest(target, { headers: { Host: host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    sent.on("error", reject);
    sent.end();
  });
}

const row = (name: string) => page.locator(`tr[data-env="${envId(name)}"]`);

const inFlight = new Map<Page, Set<Request>>();

/** Every page's script errors and failed requests, for the list of console errors: a CSP
 * violation (an inline style, a script) is reported on the console. */
function watch(tab: Page): Page {
  // What each tab has in flight: event streams hold a connection for as long as they are
  // open, and Chromium gives one host six at most, all tabs together.
  const pending = new Set<Request>();
  inFlight.set(tab, pending);
  tab.on("close", () => inFlight.delete(tab));
  tab.on("request", (request) => pending.add(request));
  tab.on("requestfinished", (request) => pending.delete(request));
  tab.on("requestfailed", (request) => pending.delete(request));
  tab.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  tab.on("pageerror", (error) => consoleErrors.push(`page error: ${error.message}`));
  // An event stream the page closes (another view, the tab closed) ends as ERR_ABORTED.
  tab.on("requestfailed", (failed) => {
    const why = failed.failure()?.errorText ?? "";
    if (why !== "net::ERR_ABORTED") consoleErrors.push(`request failed: ${failed.url()} ${why}`);
  });
  return tab;
}

/** Waits for a tab's table; when it does not come, says what the tab had instead. */
async function rowsIn(tab: Page): Promise<void> {
  try {
    await tab.locator("tr[data-env]").first().waitFor({ timeout: 30_000 });
  } catch (error) {
    const seen = await tab
      .evaluate(`JSON.stringify({
        rendered: document.body.dataset.rendered,
        live: document.querySelector(".live")?.textContent,
        summary: document.querySelector('[data-testid="summary"]')?.textContent,
        visibility: document.visibilityState,
        body: document.body.innerHTML.slice(0, 600),
      })`)
      .catch((reason: unknown) => String(reason));
    const requests = [...inFlight.values()]
      .map((pending) => [...pending].map((request) => new URL(request.url()).pathname).join(" "))
      .join(" | ");
    const api = await fetch(`${url.replace("/?", "/api/environments?")}`, {
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (response) => `${response.status} ${(await response.text()).slice(0, 300)}`)
      .catch((reason: unknown) => String(reason));
    throw new Error(
      `${String(error)}\nthe tab: ${String(seen)}\nin flight, by tab: ${requests}\n/api/environments: ${api}\nconsole: ${consoleErrors.join("\n")}\ndashboard stderr: ${serverErrors}`,
    );
  }
}

/** Opens an environment's detail by its name (the middle of a row may be a link). */
const open = (name: string) => row(name).locator(".name").click();

beforeAll(async () => {
  project = await copyExample("it-dash");
  expectOk(await project.cli(["up"]));
  expectOk(await project.cli(["up", "--name", "qa", "--ttl", "4h"]));
  ({ url, routedUrl } = await startServer());
  browser = await launchChromium();
  page = watch(await browser.context.newPage());
  page.on("dialog", (dialog) => {
    throw new Error(`the page opened a dialog: ${dialog.message()}`);
  });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await once(server, "exit");
  }
  await discardProject(project, ["local", "qa"]);
});

describe("the dashboard on the real engine", { timeout: 600_000 }, () => {
  it("lists the two environments with their states, and follows a change made elsewhere", async () => {
    await page.goto(url);
    await rowsIn(page);
    await row("local").waitFor();
    await row("qa").waitFor();
    expect(await row("local").getAttribute("data-state")).toBe("running");
    expect(await row("qa").getAttribute("data-state")).toBe("running");
    expect(await row("qa").locator(".dot").count()).toBe(5);
    await page.screenshot({ path: await artifactPath("dashboard-two-environments.png") });

    // Stopped from a terminal: the page shows it without a reload (the engine's events).
    const started = Date.now();
    expectOk(await project.cli(["down"]));
    const stoppedAt = Date.now();
    await page.waitForSelector(`tr[data-env="${envId("local")}"][data-state="stopped"]`, {
      timeout: 30_000,
    });
    process.stdout.write(
      `dashboard: 'down' reflected ${Date.now() - stoppedAt} ms after it returned (down took ${stoppedAt - started} ms)\n`,
    );
  });

  it("is served at https://prodlike.localhost through the local router, behind the same guard", async () => {
    // The environments route their names, so the router runs; the dashboard joins it (at
    // once, or within its next check when the router was being replaced just then).
    const { ca, ports } = await routerOf(project);
    const token = new URL(url).searchParams.get("token") ?? "";
    const base = `https://prodlike.localhost${ports.https === 443 ? "" : `:${ports.https}`}/`;
    if (routedUrl) expect(routedUrl).toBe(`${base}?token=${token}`);
    let failure = "";
    const get = () =>
      routedRequest(`${base}?token=${token}`, { ca }).catch((error: unknown) => {
        failure = String(error);
        return undefined;
      });
    let page = await get();
    for (let waited = 0; page?.status !== 200 && waited < 30_000; waited += 1000) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      page = await get();
    }
    expect(page?.status, `${failure} ${page?.body ?? ""} (dashboard: ${serverErrors})`).toBe(200);
    expect(page?.headers["content-security-policy"]).toContain("default-src 'none'");
    const api = await routedRequest(`${base}api/environments?token=${token}`, { ca });
    expect(JSON.parse(api.body).environments.map((e: { id: string }) => e.id)).toContain(
      envId("qa"),
    );
    expect((await routedRequest(base, { ca })).status).toBe(401);
  });

  it("shows a hostile log line and mail subject as text, never as markup", async () => {
    // Written to a container's own output, as a server would log a request: the first
    // service whose main process the exec user may write to (code containers run as the
    // developer, others as root).
    let written = false;
    for (const service of ["web", "mail", "db", "php-fpm", "cli"]) {
      if (written) break;
      written =
        (await shellIn(project, service, `echo '${XSS}' > /proc/1/fd/1`, { name: "qa" }))
          .exitCode === 0;
    }
    expect(written).toBe(true);
    await open("qa");
    await page.getByRole("button", { name: "Logs" }).click();
    await page.getByLabel("filter", { exact: true }).fill("onerror");
    const line = page.locator(".log-line .text", { hasText: "onerror" }).first();
    await line.waitFor({ timeout: 30_000 });
    expect(await line.textContent()).toBe(XSS);
    expect(await page.locator(".log-box img").count()).toBe(0);
    expect(await page.evaluate("window.__pwned")).toBeUndefined();
    await page.screenshot({ path: await artifactPath("dashboard-logs.png") });

    // A mail subject is the app's (or an attacker's) text too.
    const subject = `<script>window.__pwned=2</script>${XSS} hostile`;
    expectOk(
      await shellIn(
        project,
        "cli",
        `php -r 'mail("qa@example.test", $argv[1], "body");' '${subject}'`,
        { name: "qa" },
      ),
    );
    await page.getByRole("button", { name: "Services" }).click();
    const caught = page.getByTestId("mail").locator(".subject", { hasText: "hostile" });
    await caught.waitFor({ timeout: 60_000 });
    expect(await caught.textContent()).toBe(subject);
    expect(await page.getByTestId("mail").locator("img, script").count()).toBe(0);
    expect(await page.evaluate("window.__pwned")).toBeUndefined();
  });

  it("takes a snapshot, then destroys an environment, from the page; ls agrees", async () => {
    // Another tab, on no environment in particular, follows what this one starts.
    const other = watch(await browser.context.newPage());
    await other.goto(url);
    await rowsIn(other);
    await open("qa");
    await page.getByLabel("snapshot name").fill("from-the-page");
    await page.getByRole("button", { name: "Snapshot", exact: true }).click();
    const snapshot = page.locator('[data-operation="snapshot-create"]');
    await snapshot.locator(".state-done").waitFor({ timeout: 300_000 });
    expect(await snapshot.locator(".step").count()).toBeGreaterThan(0);
    const followed = other.locator('[data-operation="snapshot-create"]');
    await followed.locator(".state-done").waitFor({ timeout: 10_000 });
    expect(await followed.locator(".step-done").count()).toBe(
      await snapshot.locator(".step-done").count(),
    );
    await other.close();
    const afterSnapshot = (await listed()).find((environment) => environment.id === envId("qa"));
    expect(afterSnapshot?.snapshots.map((meta) => meta.name)).toEqual(["from-the-page"]);
    await page.getByTestId("snapshots").getByText("from-the-page").waitFor({ timeout: 10_000 });
    await page.screenshot({ path: await artifactPath("dashboard-detail.png"), fullPage: true });

    await page.getByRole("button", { name: "Destroy" }).click();
    await page.getByRole("button", { name: `Really destroy ${envId("qa")}?` }).click();
    await row("qa").waitFor({ state: "detached", timeout: 300_000 });
    expect((await listed()).map((environment) => environment.id)).toEqual([envId("local")]);
  });

  it("ran without a console error (no CSP violation, no failed request)", () => {
    expect(consoleErrors).toEqual([]);
  });

  it("answers 401 without the token and refuses a foreign Host", async () => {
    const bare = url.replace(/\?token=.*$/, "");
    const port = new URL(url).port;
    const response = await page.request.get(bare);
    expect(response.status()).toBe(401);
    expect(await rawGet(`${bare}api/environments`, `127.0.0.1:${port}`)).toBe(401);
    expect(await rawGet(url, "attacker.example")).toBe(403);
    expect(await rawGet(url, `attacker.example:${port}`)).toBe(403);
  });
});
