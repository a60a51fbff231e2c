import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  discardProject,
  expectOk,
  httpGet,
  jsonField,
  resourcesOf,
  rootSql,
  type TestProject,
  webUrlOf,
} from "./support/harness.js";

// QA's day on the real engine: five environments of one project side by side (own
// network, volumes, ports), two of them with a lifetime that runs out; `gc` removes
// exactly those and leaves nothing of them behind. A throwaway environment seeded from
// the developer's one serves that data through its own login.

let project: TestProject;
const envId = (name: string) => `${project.name}-${name}`;
const marker = `seeded-${process.pid}`;

interface Listed {
  id: string;
  state: string;
  expiresAt?: string;
  urls: Record<string, string>;
}

const sql = (name: string, statement: string) => rootSql(project, statement, name);

beforeAll(async () => {
  project = await copyExample("it-qa");
  expectOk(await project.cli(["up"]));
}, 900_000);

afterAll(async () => {
  await discardProject(project, ["local", "qa-1", "qa-2", "qa-3", "qa-4"]);
});

describe("throwaway environments", { timeout: 900_000 }, () => {
  it("seeds a new environment from another one's live data, served through its own login", async () => {
    await sql(
      "local",
      `CREATE TABLE IF NOT EXISTS greeting (id INT PRIMARY KEY, message VARCHAR(255) NOT NULL); REPLACE INTO greeting VALUES (1, '${marker}');`,
    );
    const up = await project.cli([
      "up",
      "--name",
      "qa-1",
      "--ttl",
      "3s",
      "--seed-from",
      "local",
      "--json",
    ]);
    expectOk(up);
    // A running environment's data is copied (copy-on-write starts from a snapshot).
    expect(jsonField(up, "seeded")).toMatchObject({
      from: envId("local"),
      applied: true,
      method: "copied",
    });
    // php-fpm logs in with qa-1's own password, which the copied data did not have.
    const page = await httpGet(`${webUrlOf(up)}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<span id="greeting">${marker}</span>`);
    const status = await project.cli(["status", "--name", "qa-1", "--json"]);
    expect(jsonField<{ data?: unknown }>(status, "environment").data).toMatchObject({
      kind: "seed",
      source: envId("local"),
    });
    // The source is untouched and still serves.
    expect(await sql("local", "SELECT message FROM greeting WHERE id = 1")).toBe(marker);
  });

  it("runs five environments side by side; gc removes only the expired ones, completely", async () => {
    expectOk(await project.cli(["up", "--name", "qa-2", "--ttl", "3s"]));
    expectOk(await project.cli(["up", "--name", "qa-3", "--ttl", "4h"]));
    // From a snapshot of the developer's environment: layered on its prepared copy.
    expectOk(await project.cli(["snapshot", "create", "base"]));
    const fromSnapshot = await project.cli([
      "up",
      "--name",
      "qa-4",
      "--seed-from",
      "local:base",
      "--json",
    ]);
    expectOk(fromSnapshot);
    expect(jsonField(fromSnapshot, "seeded")).toMatchObject({
      from: envId("local"),
      snapshot: "base",
      applied: true,
      method: "layered",
    });
    expect((await httpGet(`${webUrlOf(fromSnapshot)}/`)).body).toContain(
      `<span id="greeting">${marker}</span>`,
    );
    // An existing environment is never re-seeded: its data stays.
    const again = await project.cli(["up", "--name", "qa-4", "--seed-from", "local", "--json"]);
    expectOk(again);
    expect(jsonField<{ applied: boolean }>(again, "seeded").applied).toBe(false);

    const ls = await project.cli(["ls", "--json"]);
    const mine = jsonField<Listed[]>(ls, "environments").filter((environment) =>
      environment.id.startsWith(`${project.name}-`),
    );
    expect(mine.map((environment) => environment.id).sort()).toEqual(
      ["local", "qa-1", "qa-2", "qa-3", "qa-4"].map(envId),
    );
    expect(mine.every((environment) => environment.state === "running")).toBe(true);
    // Each has its own port.
    expect(new Set(mine.map((environment) => environment.urls.web)).size).toBe(5);
    const lifetimes = Object.fromEntries(mine.map((e) => [e.id, e.expiresAt]));
    expect(lifetimes[envId("local")]).toBeUndefined();
    expect(lifetimes[envId("qa-4")]).toBeUndefined();
    expect(Date.parse(lifetimes[envId("qa-3")] ?? "")).toBeGreaterThan(Date.now() + 3 * 3_600_000);
    const human = await project.cli(["ls"]);
    // Its 4 h started when it came up, a minute or two ago on a loaded machine.
    expect(human.stdout).toMatch(new RegExp(`${envId("qa-3")}\\s+compose\\s+\\S+\\s+3h5\\dm left`));

    // qa-1 and qa-2 lived 3 s.
    const latest = Math.max(
      Date.parse(lifetimes[envId("qa-1")] ?? ""),
      Date.parse(lifetimes[envId("qa-2")] ?? ""),
    );
    await sleep(Math.max(0, latest - Date.now() + 200));

    const dry = await project.cli(["gc", "--dry-run", "--json"]);
    expectOk(dry);
    const listed = jsonField<{ id: string; removed?: unknown }[]>(dry, "expired");
    expect(listed.map((entry) => entry.id).sort()).toEqual([envId("qa-1"), envId("qa-2")]);
    expect(listed.every((entry) => entry.removed === undefined)).toBe(true);
    expect((await resourcesOf(envId("qa-1"))).containers.length).toBeGreaterThan(0);

    const gc = await project.cli(["gc", "--json"]);
    expectOk(gc);
    const removed = jsonField<
      { id: string; removed: { containers: string[]; volumes: string[] } }[]
    >(gc, "expired");
    expect(removed.map((entry) => entry.id).sort()).toEqual([envId("qa-1"), envId("qa-2")]);
    for (const entry of removed) {
      expect(entry.removed.containers.length).toBe(5);
      expect(entry.removed.volumes.length).toBeGreaterThan(0);
      const left = await resourcesOf(entry.id);
      expect(left, entry.id).toMatchObject({ containers: [], volumes: [], networks: [] });
    }
    for (const name of ["local", "qa-3", "qa-4"]) {
      const status = await project.cli(["status", "--name", name, "--json"]);
      expect(jsonField<{ state: string }>(status, "environment").state, name).toBe("running");
    }
    // Nothing else expired: a second gc removes nothing.
    const second = await project.cli(["gc", "--json"]);
    expect(jsonField<unknown[]>(second, "expired")).toEqual([]);
  });
});
