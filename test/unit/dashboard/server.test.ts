import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OwnerLabel } from "../../../src/backends/docker/environment-owners.js";
import type { TeamSource } from "../../../src/dashboard/live-team.js";
import { type RunningDashboard, startDashboard } from "../../../src/dashboard/server.js";
import { servicesOver } from "../../support/dashboard-services.js";
import { FakeEngine } from "../../support/fake-engine.js";
import { fakeContainers } from "../../support/many-environments.js";

// The dashboard's HTTP API on a fake engine: who may read, who may change, what the
// events carry. The page itself is checked in a real Chromium (integration).

const TOKEN = "0123456789abcdef".repeat(4);

/** The name /etc/passwd gives a uid here, if any (uid 1000 may have none). */
function userOf(uid: number): { user?: string } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.split(":")[2] === String(uid));
  const user = line?.split(":")[0];
  return user ? { user } : {};
}
const HOSTILE = `<img src=x onerror="alert(1)">`;
// One team cluster with another owner's environment (hostile context name), one silent.
const teamSource: TeamSource = {
  contexts: async () => ({
    contexts: [
      { kubeconfig: "/k", context: HOSTILE },
      { kubeconfig: "/k", context: "gone" },
    ],
    recorded: new Set<string>(),
    warnings: [],
  }),
  list: async (context) => {
    if (context.context === "gone") throw new Error("connect ECONNREFUSED 127.0.0.1:9");
    return [
      {
        context: context.context,
        namespace: "prodlike-web-bob",
        env: "web-bob",
        project: "web",
        preset: "drupal",
        owner: "bob.laptop",
        kept: false,
        terminating: false,
        recorded: false,
      },
    ];
  },
  problem: (error) => (error instanceof Error ? error.message : String(error)),
};
let dashboard: RunningDashboard;
let engine: FakeEngine;
let base: string;

beforeAll(async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), "prodlike-dash-"));
  const assets = await mkdtemp(path.join(os.tmpdir(), "prodlike-dash-assets-"));
  const { writeFile } = await import("node:fs/promises");
  await writeFile(
    path.join(assets, "index.html"),
    '<script src="/app.js?token=__TOKEN__"></script>',
  );
  await writeFile(path.join(assets, "app.js"), "export {};");
  await writeFile(path.join(assets, "app.css"), "");
  engine = new FakeEngine();
  engine.containers = fakeContainers(3);
  // Owner records as `up` leaves them: qa-000 is this user's (uid 1000), qa-001 root's.
  for (const [name, uid] of [
    ["qa-000", "1000"],
    ["qa-001", "0"],
  ] as const) {
    engine.volumes.push({
      name: `prodlike-env-fake-${name}`,
      labels: {
        [OwnerLabel.record]: "environment",
        [OwnerLabel.env]: `fake-${name}`,
        [OwnerLabel.uid]: uid,
        [OwnerLabel.codeRoot]: `/nonexistent/${name}`,
        [OwnerLabel.project]: "fake",
        [OwnerLabel.name]: name,
        [OwnerLabel.createdAt]: "2026-12-01T00:00:00Z",
      },
    });
  }
  engine.logLines.set("fake-qa-000-web", [
    { stream: "stdout", text: "GET / 200" },
    { stream: "stderr", text: HOSTILE },
  ]);
  dashboard = await startDashboard(servicesOver(engine, home), {
    port: 0,
    token: TOKEN,
    assetsDir: assets,
    team: teamSource,
  });
  base = `http://127.0.0.1:${dashboard.port}`;
});

afterAll(async () => {
  await dashboard.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  pathname: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = httpRequest(
      `${base}${pathname}`,
      { method: options.method ?? "GET", headers: options.headers },
      (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => {
          body += chunk.toString("utf8");
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    sent.on("error", reject);
    sent.end(options.body);
  });
}

/** Reads server-sent events until `done` says so (or 5 s pass: the test fails). */
function events<T>(pathname: string, done: (messages: T[]) => boolean): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const messages: T[] = [];
    const sent = httpRequest(`${base}${pathname}`, (response) => {
      let pending = "";
      response.on("data", (chunk: Buffer) => {
        pending += chunk.toString("utf8");
        const blocks = pending.split("\n\n");
        pending = blocks.pop() ?? "";
        for (const block of blocks) {
          const data = block.split("\n").find((line) => line.startsWith("data: "));
          if (data) messages.push(JSON.parse(data.slice(6)) as T);
        }
        if (done(messages)) {
          sent.destroy();
          resolve(messages);
        }
      });
    });
    sent.on("error", (error) => (sent.destroyed ? undefined : reject(error)));
    setTimeout(
      () => reject(new Error(`no end after 5 s: ${JSON.stringify(messages).slice(0, 400)}`)),
      5000,
    );
    sent.end();
  });
}

const changeHeaders = {
  Origin: "",
  "Content-Type": "application/json",
  "X-Prodlike-Token": TOKEN,
};
const post = (pathname: string, body: unknown, headers: Record<string, string> = {}) =>
  call(pathname, {
    method: "POST",
    headers: { ...changeHeaders, Origin: base, ...headers },
    body: JSON.stringify(body),
  });

describe("the dashboard's API", () => {
  it("serves the page with the token, under a strict CSP", async () => {
    const page = await call(`/?token=${TOKEN}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`/app.js?token=${TOKEN}`);
    expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(page.headers["x-frame-options"]).toBe("DENY");
  });

  it("answers 401 without the token and 403 to a foreign Host", async () => {
    expect((await call("/")).status).toBe(401);
    expect((await call("/api/environments")).status).toBe(401);
    expect((await call(`/app.js`)).status).toBe(401);
    const foreign = await call(`/?token=${TOKEN}`, { headers: { Host: "rebound.example:80" } });
    expect(foreign.status).toBe(403);
    expect(foreign.body).not.toContain(TOKEN);
  });

  it("lists every environment with what ls --json carries", async () => {
    const answer = await call(`/api/environments?token=${TOKEN}`);
    const { environments } = JSON.parse(answer.body) as {
      environments: {
        id: string;
        state: string;
        services: unknown[];
        snapshots: unknown[];
        owner?: unknown;
      }[];
    };
    expect(environments.map((environment) => environment.id)).toEqual([
      "fake-qa-000",
      "fake-qa-001",
      "fake-qa-002",
    ]);
    expect(environments.map((environment) => environment.state)).toEqual([
      "running",
      "running",
      "stopped",
    ]);
    expect(environments[0]?.services).toHaveLength(5);
    expect(environments[0]?.snapshots).toEqual([]);
    // Whose each is, as the engine's owner records say (qa-002 has none).
    expect(environments.map((environment) => environment.owner)).toEqual([
      { uid: 1000, checkout: "/nonexistent/qa-000", mine: true, ...userOf(1000) },
      { uid: 0, user: "root", checkout: "/nonexistent/qa-001", mine: false },
      undefined,
    ]);
  });

  it("carries the team clusters' rows and warnings, and acts on none of them", async () => {
    await dashboard.team.settled();
    const listed = JSON.parse((await call(`/api/environments?token=${TOKEN}`)).body) as {
      team: { environments: { context: string; owner: string }[]; warnings: unknown[] };
    };
    expect(listed.team.environments).toMatchObject([{ context: HOSTILE, owner: "bob.laptop" }]);
    expect(listed.team.warnings).toEqual([
      { context: "gone", problem: "connect ECONNREFUSED 127.0.0.1:9" },
    ]);
    const seen = await events<{ type: string; team?: unknown }>(
      `/api/events?token=${TOKEN}`,
      (messages) => messages.some((message) => message.type === "team"),
    );
    expect(seen.find((message) => message.type === "team")?.team).toEqual(listed.team);
    // Another owner's environment on a team cluster is not this machine's: no action.
    const refused = await post("/api/environments/web-bob/actions/destroy", {});
    expect(refused.status).toBe(404);
    expect(JSON.parse(refused.body).error.code).toBe("ENV_NOT_FOUND");
  });

  it("answers a malformed path with 404, not an error", async () => {
    expect((await call(`/api/environments/%E0%A4%A/logs?token=${TOKEN}`)).status).toBe(404);
    expect((await call(`/api/operations/%ZZ?token=${TOKEN}`)).status).toBe(404);
  });

  it("changes nothing on GET, and takes a change only from its own page", async () => {
    expect(
      (await call(`/api/environments/fake-qa-000/actions/destroy?token=${TOKEN}`)).status,
    ).toBe(404);
    expect(
      (
        await post(
          "/api/environments/fake-qa-000/actions/down",
          {},
          { Origin: "http://evil.example" },
        )
      ).status,
    ).toBe(403);
    expect(
      (await post("/api/environments/fake-qa-000/actions/down", {}, { "X-Prodlike-Token": "" }))
        .status,
    ).toBe(401);
    const plain = await post(
      "/api/environments/fake-qa-000/actions/down",
      {},
      { "Content-Type": "text/plain" },
    );
    expect(plain.status).toBe(400);
    expect(JSON.parse(plain.body).error.code).toBe("USAGE");
    expect((await post("/api/environments/nope/actions/down", {})).status).toBe(404);
    expect((await post("/api/environments/fake-qa-000/actions/format-disk", {})).status).toBe(404);
    const badTtl = await post("/api/environments/fake-qa-000/actions/ttl", { ttl: "forever" });
    expect(badTtl.status).toBe(400);
    expect(JSON.parse(badTtl.body).error).toMatchObject({ code: "USAGE" });
    const badCreate = await post("/api/environments", { dir: "relative/path" });
    expect(JSON.parse(badCreate.body).error).toMatchObject({ code: "USAGE" });
    expect(engine.removed).toEqual([]);
  });

  it("runs an accepted action as an operation every tab can follow, its error shown plainly", async () => {
    // The checkout of a fake environment does not exist: core says so, as the CLI would.
    const answer = await post("/api/environments/fake-qa-001/actions/down", {});
    expect(answer.status).toBe(202);
    const { operation } = JSON.parse(answer.body) as { operation: { id: string } };
    const seen = await events<{
      type: string;
      operation?: { id: string; state: string; error?: { code: string } };
    }>(`/api/events?token=${TOKEN}`, (messages) =>
      messages.some(
        (message) =>
          message.operation?.id === operation.id && message.operation.state !== "running",
      ),
    );
    const ended = seen
      .filter((message) => message.operation?.id === operation.id)
      .at(-1)?.operation;
    expect(ended?.state).toBe("failed");
    expect(ended?.error?.code).toMatch(/^[A-Z_]+$/);
    expect(ended?.error?.code).not.toBe("INTERNAL");
  });

  it("sends a change the engine reports, without being asked", async () => {
    let killed = false;
    const seen = await events<{ type: string; environment?: { id: string; state: string } }>(
      `/api/events?token=${TOKEN}`,
      (messages) => {
        if (!killed && messages.length > 0) {
          killed = true;
          // The first message is the whole list; then a container of qa-000 dies.
          for (const container of engine.containers) {
            if (container.labels["dev.prodlike.env"] === "fake-qa-000") container.state = "exited";
          }
          engine.emit({
            action: "die",
            id: "fake-qa-000-web",
            labels: { "dev.prodlike.env": "fake-qa-000" },
          });
        }
        return messages.some((message) => message.environment?.id === "fake-qa-000");
      },
    );
    expect(seen[0]?.type).toBe("environments");
    expect(
      seen.find((message) => message.environment?.id === "fake-qa-000")?.environment?.state,
    ).toBe("stopped");
  });

  it("streams log lines as data, hostile ones unchanged, with their level", async () => {
    const seen = await events<{
      type: string;
      lines: { service: string; text: string; level: string }[];
    }>(
      `/api/environments/fake-qa-000/logs?token=${TOKEN}`,
      (messages) => messages.flatMap((message) => message.lines).length >= 2,
    );
    const lines = seen.flatMap((message) => message.lines);
    expect(lines).toContainEqual(
      expect.objectContaining({ service: "web", text: "GET / 200", level: "info" }),
    );
    // Sent as the text it is; the page puts it in the DOM as text (checked in Chromium).
    expect(lines).toContainEqual(
      expect.objectContaining({ service: "web", stream: "stderr", text: HOSTILE }),
    );
  });
});
