import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  docker,
  environmentNetwork,
  expectOk,
  httpGet,
  jsonField,
  rootSql,
  type TestProject,
  webUrlOf,
} from "./support/harness.js";
import { routedRequest, routerOf } from "./support/routed.js";

// A QA environment's life on the real engine, as the non-root developer: kept from gc and
// given more time; put to sleep (its containers stopped, its data, ports and names kept)
// and woken; locked behind basic authentication on its router names; shared on another
// address of this machine (a docker bridge's, standing in for the LAN's) only when asked.

let project: TestProject;
const envId = (name: string) => `${project.name}-${name}`;
const marker = `fleet-${process.pid}`;

interface Listed {
  id: string;
  state: string;
  kept?: boolean;
  expiresAt?: string;
  sleeping?: { since: string; reason: string };
  urls: Record<string, string>;
}

async function listed(name: string): Promise<Listed | undefined> {
  const ls = await project.cli(["ls", "--json"]);
  expectOk(ls);
  return jsonField<Listed[]>(ls, "environments").find((found) => found.id === envId(name));
}

async function running(name: string): Promise<string[]> {
  const containers = await docker.listContainers({
    filters: { label: [`dev.prodlike.env=${envId(name)}`] },
  });
  return containers.map((container) => container.Names[0] ?? "");
}

/** This machine's address on the environment's own bridge network: not loopback, never a
 *  public one (a stand-in for the LAN's). */
async function bridgeAddress(): Promise<string> {
  const { stdout } = await execa("docker", [
    "network",
    "inspect",
    await environmentNetwork(envId("local")),
    "--format",
    "{{range .IPAM.Config}}{{.Gateway}} {{end}}",
  ]);
  const address = stdout.split(/\s+/).find((candidate) => /^\d+\.\d+\.\d+\.\d+$/.test(candidate));
  if (!address) throw new Error(`no gateway address on ${envId("local")}'s network`);
  return address;
}

/** A routed request, tried again while the router is still loading the name (a name it
 *  serves again gets its certificate a moment after the reload). */
async function routed(
  url: string,
  options: Parameters<typeof routedRequest>[1],
): Promise<Awaited<ReturnType<typeof routedRequest>>> {
  for (let tries = 0; ; tries++) {
    try {
      return await routedRequest(url, options);
    } catch (error) {
      // The shared router is replaced now and then by other prodlike versions on this
      // engine (a new one makes its certificates again): tried for two minutes.
      if (tries > 240) throw error;
      await sleep(500);
    }
  }
}

/** The environment's https URL through the router, from a --json document. */
function httpsOf(result: Awaited<ReturnType<TestProject["cli"]>>): string {
  const https = jsonField<Record<string, string>>(result, "urls").https;
  if (!https) throw new Error("no https URL: the router does not serve it");
  return https;
}

/** A browser's visit to a sleeping environment through the router: a redirect followed,
 *  the "waking up" page (503) and a cut connection asked again, until the page answers or
 *  a minute and a half went by. What it saw on the way, and the last answer. */
async function visit(url: string, ca: string) {
  const seen: string[] = [];
  const until = Date.now() + 90_000;
  let target = url;
  for (;;) {
    try {
      const answer = await routedRequest(target, { ca });
      seen.push(String(answer.status));
      if (answer.status === 307 && answer.headers.location) target = answer.headers.location;
      else if (answer.status !== 503 || Date.now() > until) return { seen, answer };
    } catch (error) {
      seen.push(error instanceof Error ? error.message : String(error));
      if (Date.now() > until) throw error;
      await sleep(500);
    }
  }
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

beforeAll(async () => {
  project = await copyExample("it-fleet");
  expectOk(await project.cli(["up"]));
}, 900_000);

afterAll(async () => {
  for (const name of ["local", "qa-1", "qa-2"]) {
    await project.cli(["destroy", "--name", name, "--keep-images"]).catch(() => undefined);
  }
  await project.cleanup();
});

describe("a QA environment's life", { timeout: 600_000 }, () => {
  it("keeps a kept environment from gc past its lifetime, and extends a lifetime", async () => {
    expectOk(await project.cli(["up", "--name", "qa-1", "--ttl", "2s"]));
    const kept = await project.cli(["keep", "qa-1", "--json"]);
    expectOk(kept);
    expect(jsonField<Listed>(kept, "environment").kept).toBe(true);
    await sleep(2_500);
    const gc = await project.cli(["gc", "--json"]);
    expectOk(gc);
    expect(jsonField<{ id: string }[]>(gc, "expired")).toEqual([]);
    expect(jsonField<string[]>(gc, "kept")).toContain(envId("qa-1"));
    expect(await running("qa-1")).not.toEqual([]);
    expect(await listed("qa-1")).toMatchObject({ kept: true, state: "running" });
    expect((await project.cli(["ls"])).stdout).toMatch(
      new RegExp(`${envId("qa-1")}\\s+compose\\s+\\S+\\s+kept \\(expired\\)`),
    );

    // Its lifetime ran out: +4h counts from now.
    const ttl = await project.cli(["ttl", "qa-1", "+4h", "--json"]);
    expectOk(ttl);
    const until = Date.parse(jsonField<Listed>(ttl, "environment").expiresAt ?? "");
    expect(until).toBeGreaterThan(Date.now() + 4 * 3_600_000 - 120_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 4 * 3_600_000);
    // And another +1h counts from its end.
    const more = await project.cli(["ttl", "--name", "qa-1", "+1h", "--json"]);
    expect(Date.parse(jsonField<Listed>(more, "environment").expiresAt ?? "")).toBe(
      until + 3_600_000,
    );

    expectOk(await project.cli(["keep", "qa-1", "--off"]));
    expect((await listed("qa-1"))?.kept).toBeUndefined();
    expectOk(await project.cli(["ttl", "qa-1", "never"]));
    expect((await listed("qa-1"))?.expiresAt).toBeUndefined();
  });

  it("puts an environment to sleep (containers stopped, data, ports and names kept) and wakes it", async () => {
    await rootSql(
      project,
      `CREATE TABLE IF NOT EXISTS greeting (id INT PRIMARY KEY, message VARCHAR(255) NOT NULL); REPLACE INTO greeting VALUES (1, '${marker}');`,
    );
    const before = await project.cli(["status", "--json"]);
    const url = webUrlOf(before);
    const https = jsonField<Record<string, string>>(before, "urls").https ?? "";
    expect(https).not.toBe("");

    const slept = await project.cli(["sleep", "--json"]);
    expectOk(slept);
    expect(jsonField<Listed>(slept, "environment").state).toBe("sleeping");
    expect(await running("local")).toEqual([]);
    expect(await listed("local")).toMatchObject({
      state: "sleeping",
      sleeping: { reason: "command" },
    });
    expect((await project.cli(["ls"])).stdout).toMatch(
      new RegExp(`${envId("local")}\\s.*sleeping`),
    );
    await expect(httpGet(url)).rejects.toThrow();

    const woken = await project.cli(["wake", "--json"]);
    expectOk(woken);
    expect(jsonField<Listed>(woken, "environment").state).toBe("running");
    expect(webUrlOf(woken)).toBe(url);
    expect(jsonField<Record<string, string>>(woken, "urls").https).toBe(https);
    const page = await httpGet(`${url}/`);
    expect(page.body).toContain(`<span id="greeting">${marker}</span>`);
    expect((await listed("local"))?.sleeping).toBeUndefined();
  });

  it("wakes a sleeping environment when a request reaches its name: held until healthy, then sent back", async () => {
    const { ca } = await routerOf(project);
    const https = httpsOf(await project.cli(["status", "--json"]));
    expectOk(await project.cli(["sleep"]));
    expect(await running("local")).toEqual([]);
    // Through the router as a browser asks: the sleeping environment's name goes to the
    // user's waker, which holds the request while the environment comes up and then sends
    // it back to the same URL (307), now served by the environment.
    // Nothing else wakes it: its page answering afterwards is the request's doing.
    const { seen, answer } = await visit(https, ca);
    expect(answer.status, seen.join(" -> ")).toBe(200);
    expect(answer.body).toContain(`<span id="greeting">${marker}</span>`);
    expect(
      seen.filter((status) => /^\d+$/.test(status) && !["307", "503", "200"].includes(status)),
      seen.join(" -> "),
    ).toEqual([]);
    expect(await listed("local")).toMatchObject({ state: "running" });
    expect((await listed("local"))?.sleeping).toBeUndefined();
  });

  it("puts an environment to sleep once nothing reached it for its idle time; a request wakes it", async () => {
    const { ca } = await routerOf(project);
    const up = await project.cli(["up", "--name", "qa-2", "--idle", "10s", "--json"]);
    expectOk(up);
    expect(jsonField<number>(up, "idleMs")).toBe(10_000);
    const https = httpsOf(up);
    // Listing it meanwhile (ls --json asks its mail catcher) is no request to its site.
    let state: Listed | undefined;
    for (let tries = 0; tries < 90; tries++) {
      state = await listed("qa-2");
      if (state?.state === "sleeping") break;
      await sleep(2_000);
    }
    expect(state).toMatchObject({ state: "sleeping", sleeping: { reason: "idle" } });
    expect(await running("qa-2")).toEqual([]);
    const { seen, answer } = await visit(https, ca);
    expect(answer.status, seen.join(" -> ")).toBe(200);
    expect((await listed("qa-2"))?.state).toBe("running");
  });

  it("locks an environment's router names: 401 without its credentials, 200 with them", async () => {
    const { ca } = await routerOf(project);
    const https = jsonField<Record<string, string>>(
      await project.cli(["status", "--json"]),
      "urls",
    ).https;
    expect((await routed(https ?? "", { ca })).status).toBe(200);
    const locked = await project.cli(["lock", "--json"]);
    expectOk(locked);
    const lock = jsonField<{ username: string; password: string; credentialsFile: string }>(
      locked,
      "lock",
    );
    expect(lock.password.length).toBeGreaterThanOrEqual(20);
    // Kept for the owner alone, in the state folder.
    const { stdout: mode } = await execa("stat", ["-c", "%a", lock.credentialsFile]);
    expect(mode.trim()).toBe("600");
    expect(lock.credentialsFile.startsWith(project.home)).toBe(true);

    expect((await routed(https ?? "", { ca })).status).toBe(401);
    const wrong = await routed(https ?? "", {
      ca,
      headers: { authorization: basic(lock.username, "not-the-password") },
    });
    expect(wrong.status).toBe(401);
    const right = await routed(https ?? "", {
      ca,
      headers: { authorization: basic(lock.username, lock.password) },
    });
    expect(right.status).toBe(200);
    expect(right.body).toContain(`<span id="greeting">${marker}</span>`);
    // Shown once: locking again keeps the password and does not print it.
    const again = await project.cli(["lock", "--json"]);
    expect(jsonField<{ password?: string }>(again, "lock").password).toBeUndefined();
  });

  it("shares on another address only when asked, behind the lock; off by default", async () => {
    const address = await bridgeAddress();
    const refused = await project.cli(["share", "--address", "0.0.0.0", "--json"]);
    expect(refused.json?.error).toMatchObject({ code: "USAGE" });
    // By default nothing of prodlike's listens anywhere but 127.0.0.1.
    const published = async () =>
      (await docker.listContainers({ filters: { label: ["dev.prodlike.managed=true"] } }))
        .filter(
          (container) =>
            container.Labels["dev.prodlike.env"] === envId("local") ||
            container.Labels["dev.prodlike.router"] === "true" ||
            container.Labels["dev.prodlike.share.env"] === envId("local"),
        )
        .flatMap((container) => container.Ports.filter((port) => port.PublicPort))
        .map((port) => port.IP);
    expect(new Set(await published())).toEqual(new Set(["127.0.0.1"]));

    const shared = await project.cli(["share", "--address", address, "--json"]);
    expectOk(shared);
    const share = jsonField<{ url: string; username: string; password: string }>(shared, "share");
    expect(share.url).toMatch(new RegExp(`^http://${address.replaceAll(".", "\\.")}:\\d+/$`));
    expect(new Set(await published())).toEqual(new Set(["127.0.0.1", address]));

    // Give the listener a moment to start.
    let open = await fetch(share.url).catch(() => undefined);
    for (let tries = 0; !open && tries < 50; tries++) {
      await sleep(200);
      open = await fetch(share.url).catch(() => undefined);
    }
    expect(open?.status).toBe(401);
    const page = await fetch(share.url, {
      headers: { authorization: basic(share.username, share.password) },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`<span id="greeting">${marker}</span>`);
    // The listener keeps nothing: no volume of its own that would outlive it unlabelled.
    const [listener] = await docker.listContainers({
      filters: { label: [`dev.prodlike.share.env=${envId("local")}`] },
    });
    expect(listener?.Mounts.filter((mount) => mount.Type === "volume")).toEqual([]);

    expectOk(await project.cli(["share", "--off"]));
    expect(new Set(await published())).toEqual(new Set(["127.0.0.1"]));
    await expect(fetch(share.url)).rejects.toThrow();
  });
});
