import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { EXEC_PROTOCOLS_V5 } from "../support/kube-wire/channels.js";
import { DockerRuntime } from "../support/kube-wire/docker-runtime.js";
import { requireType } from "../support/kube-wire/routes.js";
import { KubeWireServer, kubeconfigYaml } from "../support/kube-wire/server.js";
import { type LocalRegistry, startLocalRegistry } from "../support/local-registry.js";
import { artifactPath, type Browser, launchChromium } from "./support/browser.js";
import { CLI, copyExample, expectOk, type TestProject } from "./support/harness.js";

// The dashboard's "On team clusters" section, on Kubernetes API wire doubles and in a
// real Chromium: another owner's labelled namespace shows with its owner, lifetime and
// context and without any button; one added later shows without a reload (the server
// lists each context every 15 s and pushes what changed); a context that refuses the
// listing and one that does not answer are warnings, and the page still works; the
// user's own `up --backend cluster` there is marked theirs and opens its local row, where
// the actions are.
// Hostile text: Kubernetes label values cannot hold markup (`[A-Za-z0-9._-]`, 63 at
// most), and the team rows read labels alone, so the markup comes through the two
// channels that can carry it: a kubeconfig context's name and the API server's own
// refusal message. Both must render as text.

const XSS = `<img src=x onerror="window.__pwned=1">`;
const HOSTILE_CONTEXT = `team-b ${XSS}`;
const REFUSAL = `listing namespaces is for the platform team ${XSS}`;

let teamA: KubeWireServer;
let teamB: KubeWireServer;
let registry: LocalRegistry;
let project: TestProject;
let home = "";
let kubeconfig = "";
let server: ChildProcess | undefined;
let serverErrors = "";
let url = "";
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

const labelled = (owner: string, env: string, labels: Record<string, string> = {}) => ({
  "app.kubernetes.io/managed-by": "prodlike",
  "prodlike.dev/env": env,
  "prodlike.dev/owner": owner,
  "prodlike.dev/project": "web",
  "prodlike.dev/preset": "drupal",
  ...labels,
});
const putNamespace = (name: string, labels: Record<string, string>) =>
  teamA.put({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
const teamRow = (namespace: string) => page.locator(`tr[data-team-namespace="${namespace}"]`);

/** Starts `prodlike dashboard --json` as the developer would; resolves its URL. */
async function startServer(): Promise<string> {
  const child = spawn("node", [CLI, "dashboard", "--json"], {
    cwd: project.dir,
    env: {
      ...process.env,
      PRODLIKE_HOME: home,
      KUBECONFIG: kubeconfig,
      PRODLIKE_ROUTER: "off",
      NO_COLOR: "1",
      CI: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server = child;
  child.stderr.on("data", (chunk: Buffer) => {
    serverErrors += chunk.toString("utf8");
  });
  let text = "";
  for await (const chunk of child.stdout) {
    text += String(chunk);
    try {
      return (JSON.parse(text) as { url: string }).url;
    } catch {
      // the document is not complete yet
    }
  }
  throw new Error(`dashboard exited: ${text}\n${serverErrors}`);
}

beforeAll(async () => {
  teamA = await KubeWireServer.start({
    runtime: new DockerRuntime(),
    execProtocols: EXEC_PROTOCOLS_V5,
    namespaceFinalizeMs: 300,
  });
  teamB = await KubeWireServer.start({
    access: (attributes) =>
      attributes.resource === "namespaces" && attributes.verb === "list"
        ? { allowed: false, reason: REFUSAL }
        : true,
  });
  registry = await startLocalRegistry();
  project = await copyExample("wt29t-dteam");
  home = project.home;
  await mkdir(home, { recursive: true, mode: 0o700 });
  await writeFile(
    path.join(project.dir, "prodlike.yaml"),
    `name: ${project.name}\npreset: drupal\ndocroot: web\nbackend: cluster\ncluster:\n  context: team-a\n  registry: ${registry.host}/team\n`,
  );

  type Config = { clusters: unknown[]; users: unknown[]; contexts: unknown[] };
  const part = (server: KubeWireServer | undefined, context: string) =>
    parseYaml(
      kubeconfigYaml(
        server?.url ?? "https://127.0.0.1:9",
        server?.token ?? "none",
        context,
        (server ?? teamA).certificateAuthority,
      ),
    ) as Config;
  const parts = [part(teamA, "team-a"), part(teamB, HOSTILE_CONTEXT), part(undefined, "gone")];
  kubeconfig = path.join(home, "kubeconfig");
  await writeFile(
    kubeconfig,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: parts.flatMap((entry) => entry.clusters),
      users: parts.flatMap((entry) => entry.users),
      contexts: parts.flatMap((entry) => entry.contexts),
      "current-context": "team-a",
    }),
    { mode: 0o600 },
  );
  // The team clusters this user looks at, wherever the dashboard runs.
  await writeFile(
    path.join(home, "config.json"),
    JSON.stringify({
      clusters: [{ context: "team-a" }, { context: HOSTILE_CONTEXT }, { context: "gone" }],
    }),
    { mode: 0o600 },
  );

  const inThreeHours = String(Math.floor((Date.now() + 3 * 3600_000) / 1000));
  putNamespace(
    "prodlike-web-bob",
    labelled("bob.laptop", "web-bob", { "prodlike.dev/expires": inThreeHours }),
  );
  // As much markup as a label value can hold: letters, digits, `._-`.
  putNamespace(
    "prodlike-web-img",
    labelled("img.src-x_onerror-alert.1", "web-img_src-x_onerror.1", {
      "prodlike.dev/preset": "img_src-x_onerror-window.__pwned-1",
    }),
  );
  // Not prodlike's: never listed, whatever its name.
  teamA.put({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "prodlike-web-foreign", labels: { "prodlike.dev/env": "web-foreign" } },
  });

  url = await startServer();
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(`page error: ${error.message}`));
  page.on("dialog", (dialog) => {
    throw new Error(`the page opened a dialog: ${dialog.message()}`);
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await once(server, "exit");
  }
  if (project)
    await project
      .cli(["destroy", "--keep-images"], {
        env: { KUBECONFIG: kubeconfig, PRODLIKE_ROUTER: "off" },
      })
      .catch(() => undefined);
  await teamA?.close();
  await teamB?.close();
  await registry?.close();
  await project?.cleanup();
});

describe("the dashboard's team clusters (wire doubles, real Chromium)", {
  timeout: 120_000,
}, () => {
  it("shows another owner's namespace with its owner, TTL and context, read-only", async () => {
    await page.goto(url);
    try {
      await teamRow("prodlike-web-bob").waitFor({ timeout: 30_000 });
    } catch (error) {
      const body = await page.evaluate("document.body.innerText").catch(String);
      throw new Error(
        `${String(error)}\npage: ${String(body)}\nconsole: ${consoleErrors.join("\n")}\ndashboard stderr: ${serverErrors}`,
      );
    }
    const bob = teamRow("prodlike-web-bob");
    expect(await bob.locator(".team-owner").textContent()).toBe("bob.laptop");
    expect(await bob.getAttribute("data-team-context")).toBe("team-a");
    expect(await bob.getAttribute("data-mine")).toBe("false");
    expect(await bob.textContent()).toContain("team cluster: team-a");
    expect(await bob.textContent()).toContain("drupal");
    expect(await bob.textContent()).toContain("active");
    expect(await bob.textContent()).toContain("read-only");
    expect(await bob.locator("td").nth(4).textContent()).toMatch(/^2h 5\dm$|^3h$/);
    // No action on another owner's environment, and nothing to open.
    expect(await bob.locator("button, a").count()).toBe(0);
    expect(await page.locator('tr[data-team-namespace="prodlike-web-foreign"]').count()).toBe(0);

    // The server refuses acting on it too: actions take the local list's ids alone.
    const token = new URL(url).searchParams.get("token") ?? "";
    const refused = await page.evaluate(async (token) => {
      const response = await fetch("/api/environments/web-bob/actions/destroy", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Prodlike-Token": token },
        body: "{}",
      });
      return { status: response.status, body: await response.text() };
    }, token);
    expect(refused.status, refused.body).toBe(404);
    expect(refused.body).toContain("ENV_NOT_FOUND");
    // Chromium logs that 404 as a console error: the one expected here.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const expected = consoleErrors.filter((line) => line.includes("404 (Not Found)"));
    expect(expected).toHaveLength(1);
    consoleErrors.length = 0;
    expect(teamA.store.get(requireType("v1", "Namespace"), "", "prodlike-web-bob")).toBeDefined();
  });

  it("renders a hostile context name and refusal as text, and shows the silent context as a warning", async () => {
    const warnings = page.locator(".team-warning");
    await warnings.filter({ hasText: "gone" }).waitFor({ timeout: 45_000 });
    await warnings
      .filter({ hasText: "platform team" })
      .waitFor({ timeout: 30_000 })
      .catch(async (error: unknown) => {
        throw new Error(
          `${String(error)}\nwarnings: ${(await warnings.allTextContents()).join("\n")}`,
        );
      });
    const hostile = await warnings.filter({ hasText: "platform team" }).textContent();
    expect(hostile).toContain(HOSTILE_CONTEXT);
    expect(hostile).toContain(REFUSAL);
    expect(await page.locator(".team img, main img").count()).toBe(0);
    expect(await page.evaluate("window.__pwned")).toBeUndefined();
    const img = teamRow("prodlike-web-img");
    expect(await img.locator(".team-owner").textContent()).toBe("img.src-x_onerror-alert.1");
    expect(await img.textContent()).toContain("img_src-x_onerror-window.__pwned-1");
    // The local list is still there, live.
    expect(await page.locator(".live.on").count()).toBe(1);
    expect(await page.locator('[data-testid="summary"]').textContent()).toMatch(/environments/);
    await page.screenshot({ path: await artifactPath("dashboard-team-clusters.png") });
    expect(consoleErrors).toEqual([]);
  });

  it("shows a namespace made meanwhile without a reload", async () => {
    putNamespace("prodlike-web-carol", labelled("carol.desk", "web-carol"));
    const started = Date.now();
    await teamRow("prodlike-web-carol").waitFor({ timeout: 40_000 });
    process.stdout.write(
      `dashboard: a new team namespace shown after ${Date.now() - started} ms\n`,
    );
    expect(await teamRow("prodlike-web-carol").locator(".team-owner").textContent()).toBe(
      "carol.desk",
    );
    expect(await teamRow("prodlike-web-bob").count()).toBe(1);
  });

  it("marks the user's own environment there as theirs, opening its local row with the actions", async () => {
    const up = await project.cli(["up", "--backend", "cluster", "--ttl", "2h"], {
      env: { KUBECONFIG: kubeconfig, PRODLIKE_ROUTER: "off" },
    });
    expectOk(up);
    const envId = `${project.name}-local`;
    const own = page.locator(`tr[data-team-env="${envId}"]`);
    await own.waitFor({ timeout: 40_000 });
    expect(await own.getAttribute("data-mine")).toBe("true");
    expect(await own.getAttribute("data-team-context")).toBe("team-a");
    expect(await own.textContent()).toContain("drupal");
    expect(await own.locator(".team-owner").textContent()).toMatch(/\S/);
    // Its local row is there (the recorded environment): the button opens it.
    await page.locator(`tr[data-env="${envId}"]`).waitFor({ timeout: 30_000 });
    await own.getByRole("button", { name: "yours: open" }).click();
    const detail = page.locator(`[data-testid="detail"][data-env="${envId}"]`);
    await detail.waitFor({ timeout: 10_000 });
    expect(await detail.getByRole("button", { name: "Stop" }).count()).toBe(1);
    // Another owner's row still offers nothing.
    expect(await teamRow("prodlike-web-bob").locator("button").count()).toBe(0);
    await page.screenshot({ path: await artifactPath("dashboard-team-own.png") });
  }, 600_000);
});
