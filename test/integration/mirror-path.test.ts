import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  copyExample,
  describeFailure,
  discardProject,
  expectOk,
  httpGet,
  jsonField,
  resourcesOf,
  type TestProject,
} from "./support/harness.js";
import { mirrorRoundtripLayout } from "./support/production-layout.js";
import { routedRequest, routerOf } from "./support/routed.js";

// Production's layout goes through the same `up` as a preset (one model, one deploy):
// each place where the mirror's own pipeline used to differ, tried as a new user would,
// on the real engine. The layout takes its database settings with envFrom and runs
// php-fpm on its image's own pool config (test/fixtures/manifests/envfrom.yaml).

const ENVFROM = fileURLToPath(new URL("../fixtures/manifests/envfrom.yaml", import.meta.url));

let project: TestProject;

beforeAll(async () => {
  project = await copyExample("it-mp");
  // prodlike.yaml maps production's images but names no manifests.
  await mirrorRoundtripLayout(project, { from: null });
}, 900_000);

afterAll(async () => {
  await discardProject(project, ["local", "sick", "broken"]);
});

/** The envfrom layout with one text change, written into the project. */
async function variant(name: string, from: string, to: string): Promise<string> {
  const text = await readFile(ENVFROM, "utf8");
  expect(text).toContain(from);
  const file = path.join(project.dir, `${name}.yaml`);
  await writeFile(file, text.replace(from, to));
  return file;
}

describe("up --mirror runs through the preset's path", { timeout: 600_000 }, () => {
  it("says how to name the manifests, with a flag up accepts", async () => {
    const missing = await project.cli(["up", "--mirror", "--json"]);
    expect(missing.exitCode, describeFailure(missing)).toBe(2);
    const error = jsonField<{ code: string; hint: string }>(missing, "error");
    expect(error.code).toBe("USAGE");
    expect(error.hint).toContain("--from PATH");
    // --from without --mirror is a mistake, said so.
    const stray = await project.cli(["up", "--from", ENVFROM, "--json"]);
    expect(stray.exitCode).toBe(2);
    expect(jsonField<{ message: string }>(stray, "error").message).toContain("--mirror");
  });

  it("reads production where `prodlike mirror` last read it; a second up changes nothing", async () => {
    expectOk(await project.cli(["mirror", "--from", ENVFROM]));
    const up = await project.cli(["up", "--mirror", "--health-timeout", "120"]);
    expectOk(up);
    // Progress says why the page does not answer yet, never fetch's bare "fetch failed".
    expect(`${up.stdout}\n${up.stderr}`).not.toContain("fetch failed");
    const status = await project.cli(["status", "--json"]);
    const url = jsonField<Record<string, string>>(status, "urls").web;
    // nginx reaches php-fpm on :9000 with the image's own pool config, and the site reads
    // its database settings from what envFrom brought in.
    const page = await httpGet(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<span id="greeting">');

    const again = await project.cli(["up", "--mirror", "--json"]);
    expectOk(again);
    expect(jsonField<boolean>(again, "changed")).toBe(false);
  });

  it("serves production's Ingress hosts through the local router, each with a trusted certificate", async () => {
    const status = await project.cli(["status", "--json"]);
    const urls = jsonField<Record<string, string>>(status, "urls");
    const { ca } = await routerOf(project);
    const hosts = ["https", "https:shop", "https:admin.shop"].map((key) => urls[key] ?? "");
    expect(hosts[2]).toMatch(/^https:\/\/admin\.shop\.local\.[a-z0-9-]+\.localhost(:\d+)?\/$/);
    for (const url of hosts) {
      const page = await routedRequest(url, { ca });
      expect(page.status, `${url}: ${page.body}`).toBe(200);
      expect(page.body).toContain('<span id="greeting">');
    }
  });

  it("parity --against running counts what envFrom brings in as production's own", async () => {
    const parity = await project.cli(["parity", "--against", "running", "--json"]);
    expectOk(parity);
    const differences = jsonField<{ field: string; expected: boolean; container: string }[]>(
      parity,
      "differences",
    );
    expect(differences.filter((difference) => difference.field === "env-names")).toEqual([]);
    expect(differences.every((difference) => difference.expected)).toBe(true);
  });

  it("logs reads the mirrored services, without colour when piped", async () => {
    for (const env of [{}, { NO_COLOR: "" }]) {
      const logs = await project.cli(["logs", "--tail", "20", "web"], { env });
      expect(logs.exitCode, describeFailure(logs)).toBe(0);
      expect(logs.stdout).toMatch(/web/);
      expect(`${logs.stdout}${logs.stderr}`).not.toContain("\u001b[");
      expect(logs.stderr).not.toContain("Traceback");
    }
  });

  it("a layout whose page never answers fails naming its own services; --rm-on-failure removes it", async () => {
    const file = await variant(
      "sick",
      "fastcgi_pass 127.0.0.1:9000",
      "fastcgi_pass 127.0.0.1:9999",
    );
    const up = await project.cli([
      "up",
      "--mirror",
      "--name",
      "sick",
      "--from",
      file,
      "--health-timeout",
      "5",
      "--rm-on-failure",
      "--json",
    ]);
    expect(up.exitCode, describeFailure(up)).toBe(1);
    const error = jsonField<{ code: string; hint: string }>(up, "error");
    // nginx answers 502 for the php-fpm it cannot reach: the page check says it failed,
    // or that it ran out of time, whichever comes first on a loaded machine.
    expect(["HEALTH_FAILED", "HEALTH_TIMEOUT"]).toContain(error.code);
    expect(`${up.stdout}${up.stderr}`).toMatch(/web/);
    // Asked for: a new environment that failed is removed at once, nothing of it left.
    expect(await resourcesOf(`${project.name}-sick`)).toMatchObject({
      containers: [],
      volumes: [],
      networks: [],
    });
  });

  it("an image no registry has fails the up; the environment stays for diagnosis until destroyed", async () => {
    const file = await variant(
      "broken",
      "registry.example.com/rt/nginx:1.25.3",
      "registry.invalid/prodlike-test/nginx:1",
    );
    const up = await project.cli(["up", "--mirror", "--name", "broken", "--from", file, "--json"]);
    expect(up.exitCode, describeFailure(up)).not.toBe(0);
    const error = jsonField<{ code: string; hint: string }>(up, "error");
    expect(error.code).toBe("COMPOSE_FAILED");
    expect(error.hint).toContain("prodlike destroy --name broken");
    expectOk(await project.cli(["destroy", "--name", "broken", "--keep-images", "--json"]));
    expect(await resourcesOf(`${project.name}-broken`)).toMatchObject({
      containers: [],
      volumes: [],
      networks: [],
    });
    // The running environment was not touched by either failure.
    const status = await project.cli(["status", "--json"]);
    expect(jsonField<{ state: string }>(status, "environment").state).toBe("running");
  });

  it("destroy removes it like any environment", async () => {
    expectOk(await project.cli(["destroy", "--keep-images"]));
    expect(await resourcesOf(`${project.name}-local`)).toMatchObject({
      containers: [],
      volumes: [],
      networks: [],
    });
  });
});
