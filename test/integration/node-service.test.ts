import { appendFile, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  discardProject,
  expectOk,
  httpGet,
  jsonField,
  resourcesOf,
  shellIn,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";

// The node preset on the real engine with examples/node-service plus PostgreSQL turned on:
// `up` waits on the app's /healthz (which pings the real Redis and reaches PostgreSQL),
// the visit counter lives in Redis, and an edit of the live code is served after
// node --watch restarts the app.

let project: TestProject;
let webUrl: string;

beforeAll(async () => {
  project = await copyExample("it-node", "node-service");
  await appendFile(
    path.join(project.dir, "prodlike.yaml"),
    "  postgres: { enabled: true }\n  app: { inspect: true }\n",
  );
  webUrl = await upForWebUrl(project);
}, 900_000);

afterAll(async () => {
  await discardProject(project);
});

describe("node preset (examples/node-service)", { timeout: 300_000 }, () => {
  it("answers its health endpoint once up returns, with Redis behind it", async () => {
    const health = await httpGet(`${webUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ redis: "PONG", postgres: true });
    const first = JSON.parse((await httpGet(`${webUrl}/`)).body) as { visits: number };
    const second = JSON.parse((await httpGet(`${webUrl}/`)).body) as { visits: number };
    expect(second.visits).toBe(first.visits + 1);
    const status = await project.cli(["status", "--json"]);
    const services = jsonField<{ services: { name: string; health: string }[] }>(
      status,
      "environment",
    ).services;
    expect(services.map((service) => `${service.name}:${service.health}`).sort()).toEqual([
      "app:none",
      "mail:none",
      "postgres:healthy",
      "redis:healthy",
    ]);
    // PostgreSQL 17 (Debian trixie) unless prodlike.yaml chooses 15.
    const postgres = await shellIn(project, "postgres", "postgres --version");
    expect(postgres.stdout).toMatch(/\(PostgreSQL\) 17\.\d+/);
  });

  it("catches what the app sends to SMTP_URL, in the catcher's API and behind `prodlike mail`", async () => {
    const to = `reset-${Date.now()}@example.com`;
    const sent = await fetch(`${webUrl}/mail?to=${encodeURIComponent(to)}`, { method: "POST" });
    expect(sent.status, await sent.text()).toBe(202);
    const mail = await project.cli(["mail", "--json"]);
    expectOk(mail);
    const api = jsonField<string>(mail, "api");
    expect(api).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/messages$/);
    const listed = (await (await fetch(api)).json()) as {
      messages: { Subject: string; To: { Address: string }[] }[];
    };
    expect(listed.messages).toContainEqual(
      expect.objectContaining({
        Subject: "Reset your password",
        To: [expect.objectContaining({ Address: to })],
      }),
    );
  });

  it("gives the app a PostgreSQL login through DATABASE_URL's credentials", async () => {
    const result = await shellIn(
      project,
      "postgres",
      'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "CREATE TABLE t (x int); INSERT INTO t VALUES (42); SELECT x FROM t"',
    );
    expectOk(result);
    expect(result.stdout.trim().split("\n").at(-1)).toBe("42");
  });

  async function served(text: string): Promise<string> {
    const deadline = Date.now() + 30_000;
    let body = "";
    while (Date.now() < deadline) {
      body = await httpGet(`${webUrl}/`).then(
        (response) => response.body,
        () => "",
      );
      if (body.includes(text)) break;
      await sleep(100);
    }
    return body;
  }

  it("serves an edit of the live code after the watcher restarts the app", async () => {
    const file = path.join(project.dir, "server.js");
    const edited = `edited-${process.pid}`;
    await writeFile(
      file,
      (await readFile(file, "utf8")).replace("hello from node-service", edited),
    );
    expect(await served(edited)).toContain(edited);
  });

  it("keeps restarting after rename-style saves (sed -i, editors' safe write) and new files", async () => {
    const file = path.join(project.dir, "server.js");
    for (const round of [1, 2, 3]) {
      const text = `renamed-${round}-${process.pid}`;
      const next = (await readFile(file, "utf8")).replace(/(edited|renamed)-[\w-]+/, text);
      // What sed -i and most editors do: a new file, renamed over the old one.
      await writeFile(`${file}.tmp-save`, next);
      await rename(`${file}.tmp-save`, file);
      expect(await served(text), `save ${round}`).toContain(text);
    }
    // A new module the app then requires.
    const text = `from-a-new-file-${process.pid}`;
    await writeFile(path.join(project.dir, "message.js"), `module.exports = "${text}";\n`);
    const source = await readFile(file, "utf8");
    await writeFile(
      file,
      source.replace(/const MESSAGE = [^;]+;/, 'const MESSAGE = require("./message.js");'),
    );
    expect(await served(text)).toContain(text);
  });

  it("runs a supported Node.js: 22 LTS from its official binary, not Debian's Node 18", async () => {
    const version = await project.cli(["exec", "app", "--", "node", "--version"]);
    expectOk(version);
    expect(version.stdout.trim()).toMatch(/^v22\.\d+\.\d+$/);
  });

  it("opens Node's debugger on a published 127.0.0.1 port, again after each restart", async () => {
    const status = await project.cli(["status", "--json"]);
    const app = jsonField<{
      services: {
        name: string;
        ports: { name?: string; containerPort: number; hostPort: number; hostIp: string }[];
      }[];
    }>(status, "environment").services.find((service) => service.name === "app");
    const inspect = app?.ports.find((port) => port.containerPort === 9229);
    expect(inspect?.hostIp).toBe("127.0.0.1");
    // The earlier tests restarted the app several times: its debugger is open again.
    const version = await fetch(`http://127.0.0.1:${inspect?.hostPort}/json/version`);
    expect(version.status).toBe(200);
    expect((await version.json()) as { Browser: string }).toMatchObject({
      Browser: expect.stringMatching(/^node\.js\/v\d+/),
    });
  });

  it("destroy leaves nothing of it behind", async () => {
    expectOk(await project.cli(["destroy"]));
    expect(await resourcesOf(`${project.name}-local`)).toMatchObject({
      containers: [],
      volumes: [],
      networks: [],
      images: [],
    });
  });
});
