import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { CLUSTER_PERMISSIONS } from "../../src/backends/kube/cluster-permissions.js";
import { EXEC_PROTOCOLS_V5 } from "../support/kube-wire/channels.js";
import { DockerRuntime } from "../support/kube-wire/docker-runtime.js";
import { requireType } from "../support/kube-wire/routes.js";
import {
  type AccessAttributes,
  type AccessDecision,
  KubeWireServer,
  kubeconfigYaml,
} from "../support/kube-wire/server.js";
import { type LocalRegistry, startLocalRegistry } from "../support/local-registry.js";
import {
  copyExample,
  describeFailure,
  expectOk,
  jsonField,
  runCli,
  type TestProject,
} from "./support/harness.js";

// `--backend cluster` as a team lives with it, on two wire-level API server doubles:
// - team-a allows exactly the rights of cluster-permissions.ts (the table doctor reviews
//   and docs/clusters.md's RBAC is rendered from), every other request is refused: a real
//   `up --ttl`, status, exec, logs, down and destroy run there, so a call the table lacks
//   fails this file;
// - team-b refuses deleting namespaces and exec, with an authorizer's reason;
// - `gone` is a context whose server does not answer.
// Two servers rather than two contexts of one: each context's listing must come from its
// own API server (a client reused across contexts would list one cluster twice), and each
// has its own policy, which a doctor run against each tells apart.

const TEAM_B_REASON = "exec and namespace deletion are for the platform team here";

// The table as RBAC: the verb on that resource, namespaced rights only in a namespace.
function tablePolicy(attributes: AccessAttributes): boolean {
  const resource = attributes.subresource
    ? `${attributes.resource}/${attributes.subresource}`
    : attributes.resource;
  return CLUSTER_PERMISSIONS.some(
    (row) =>
      row.group === attributes.group &&
      row.resource === resource &&
      row.verbs.includes(attributes.verb) &&
      (row.scope === "namespace") === Boolean(attributes.namespace),
  );
}

describe("a team's cluster: doctor's rights, ls and gc across contexts (wire doubles)", () => {
  let teamA: KubeWireServer;
  let teamB: KubeWireServer;
  let registry: LocalRegistry;
  let project: TestProject;
  let kubeconfig = "";
  let scratch = "";
  /** Requests team-a refused: the backend asked for a right the table lacks. */
  const refused: string[] = [];
  const namespaces = requireType("v1", "Namespace");
  const cli = (args: string[]) =>
    project.cli(args, { env: { KUBECONFIG: kubeconfig, PRODLIKE_ROUTER: "off" } });
  const namespaceOf = (env: string) => `prodlike-${project.name}-${env}`;
  const labelled = (owner: string, env: string, labels: Record<string, string> = {}) => ({
    "app.kubernetes.io/managed-by": "prodlike",
    "prodlike.dev/env": env,
    "prodlike.dev/owner": owner,
    "prodlike.dev/project": "web",
    "prodlike.dev/preset": "drupal",
    ...labels,
  });
  const secondsFromNow = (ms: number) => String(Math.floor((Date.now() + ms) / 1000));
  const putNamespace = (server: KubeWireServer, name: string, labels: Record<string, string>) =>
    server.put({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });

  beforeAll(async () => {
    teamA = await KubeWireServer.start({
      runtime: new DockerRuntime(),
      execProtocols: EXEC_PROTOCOLS_V5,
      namespaceFinalizeMs: 300,
      access: (attributes): AccessDecision => {
        const allowed = tablePolicy(attributes);
        if (!allowed) refused.push(JSON.stringify(attributes));
        return allowed;
      },
    });
    teamB = await KubeWireServer.start({
      namespaceFinalizeMs: 300,
      access: (attributes): AccessDecision =>
        (attributes.resource === "namespaces" && attributes.verb === "delete") ||
        (attributes.resource === "pods" && attributes.subresource === "exec")
          ? { allowed: false, reason: TEAM_B_REASON }
          : true,
    });
    registry = await startLocalRegistry();
    project = await copyExample("it-team");
    await mkdir(project.home, { recursive: true, mode: 0o700 });
    scratch = await mkdtemp(path.join(os.tmpdir(), "prodlike-wt28d-team-"));

    // One kubeconfig with the three contexts, as a developer's would have.
    type Config = { clusters: unknown[]; users: unknown[]; contexts: unknown[] };
    const part = (url: string, token: string, context: string, ca: string) =>
      parseYaml(kubeconfigYaml(url, token, context, ca)) as Config;
    const parts = [
      part(teamA.url, teamA.token, "team-a", teamA.certificateAuthority),
      part(teamB.url, teamB.token, "team-b", teamB.certificateAuthority),
      part("https://127.0.0.1:9", "none", "gone", teamA.certificateAuthority),
    ];
    kubeconfig = path.join(project.home, "kubeconfig");
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
    // The project runs on team-a; the user also looks at team-b and `gone`.
    await writeFile(
      path.join(project.dir, "prodlike.yaml"),
      `name: ${project.name}\npreset: drupal\ndocroot: web\nbackend: cluster\ncluster:\n  context: team-a\n  registry: ${registry.host}/team\n`,
    );
    await writeFile(
      path.join(project.home, "config.json"),
      JSON.stringify({ clusters: [{ context: "team-b" }, { context: "gone" }] }),
      { mode: 0o600 },
    );
  });

  afterAll(async () => {
    if (project) await cli(["destroy", "--keep-images"]).catch(() => undefined);
    await teamA?.close();
    await teamB?.close();
    await registry?.close();
    await project?.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  // A folder whose prodlike.yaml runs on `context` (doctor reads which from there).
  async function projectOn(context: string): Promise<string> {
    const dir = path.join(scratch, context);
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, "prodlike.yaml"),
      `name: doctor\npreset: drupal\nbackend: cluster\ncluster:\n  context: ${context}\n`,
    );
    return dir;
  }
  const doctor = async (context: string, json: boolean) =>
    runCli(["doctor", "--backend", "cluster", ...(json ? ["--json"] : [])], {
      cwd: await projectOn(context),
      home: project.home,
      env: { KUBECONFIG: kubeconfig },
    });

  it("doctor passes where the table's rights are granted, and reviews every verb of it", async () => {
    const result = await doctor("team-a", true);
    expect(result.exitCode, describeFailure(result)).toBe(0);
    const access = (result.json as { access: { denied: unknown[]; reachable: boolean } }).access;
    expect(access).toMatchObject({ reachable: true, denied: [], context: "team-a" });
    const checks = (result.json as { checks: { name: string; ok: boolean }[] }).checks;
    for (const row of CLUSTER_PERMISSIONS) {
      expect(
        checks.find((check) =>
          check.name.endsWith(` ${row.group ? `${row.group}/` : ""}${row.resource}`),
        )?.ok,
      ).toBe(true);
    }
    expect(refused).toEqual([]);
  });

  it("doctor names each denied verb with the authorizer's reason, exits 3 and prints the RBAC to give", async () => {
    const result = await doctor("team-b", true);
    expect(result.exitCode, describeFailure(result)).toBe(3);
    const access = (
      result.json as {
        access: {
          denied: { verb: string; resource: string; subresource?: string; reason?: string }[];
          rbac: string;
          namespace: string;
        };
      }
    ).access;
    expect(
      access.denied
        .map((denied) => [denied.verb, denied.resource, denied.subresource ?? ""].join(" ").trim())
        .sort(),
    ).toEqual(["create pods exec", "delete namespaces", "get pods exec"]);
    for (const denied of access.denied) expect(denied.reason).toBe(TEAM_B_REASON);
    expect(access.rbac).toContain("kind: ClusterRole");
    expect(access.rbac).toContain("resources: [pods/exec, pods/portforward]");

    const text = await doctor("team-b", false);
    expect(text.exitCode).toBe(3);
    expect(text.stdout).toContain(
      `denied: create pods/exec in ${access.namespace} (${TEAM_B_REASON})`,
    );
    expect(text.stdout).toContain("The minimal rights it needs");
    expect(text.stdout).toContain("name: prodlike-environment");
  });

  it("doctor reports an API that does not answer as a failed check, without a stack trace", async () => {
    const result = await doctor("gone", false);
    expect(result.exitCode, describeFailure(result)).toBe(3);
    expect(result.stdout).toMatch(/✗ cluster API \(gone\)\s+not reachable: .+/);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/\n\s+at /);
  });

  it("up --ttl labels the namespace with its expiry, running under the table's rights alone", async () => {
    const before = Date.now();
    const up = await cli(["up", "--backend", "cluster", "--ttl", "2h", "--json"]);
    expectOk(up);
    const live = teamA.store.get(namespaces, "", namespaceOf("local"));
    const expires = Number(live?.metadata.labels?.["prodlike.dev/expires"]) * 1000;
    expect(expires).toBeGreaterThanOrEqual(before + 2 * 3600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 2 * 3600_000);
    expect(live?.metadata.annotations?.["prodlike.dev/expires-at"]).toMatch(/^\d{4}-/);
    expect(refused, up.stderr).toEqual([]);
  });

  it("status, exec, logs and down need no right beyond the table", async () => {
    const status = await cli(["status", "--json"]);
    expectOk(status);
    // The lifetime `up --ttl 2h` gave is this machine's record too (ls, status, dashboard).
    const { expiresAt } = jsonField<{ expiresAt?: string }>(status, "environment");
    expect(Date.parse(expiresAt ?? "")).toBeGreaterThan(Date.now() + 3600_000);
    const exec = await cli(["exec", "cli", "--", "sh", "-c", "echo wt28d-team"]);
    expect(exec.exitCode, describeFailure(exec)).toBe(0);
    expect(exec.stdout).toContain("wt28d-team");
    expectOk(await cli(["logs", "web", "--tail", "5"]));
    expectOk(await cli(["down", "--json"]));
    expect(refused).toEqual([]);
  });

  it("ls lists everyone's environments on both contexts with their owners, and the unreachable one as a warning", async () => {
    putNamespace(teamA, "prodlike-web-bob", labelled("bob.laptop", "web-bob"));
    putNamespace(teamB, "prodlike-web-carol", labelled("carol.desk", "web-carol"));
    const listed = await cli(["ls", "--json"]);
    expectOk(listed);
    const team = (
      listed.json as {
        team: {
          environments: { context: string; namespace: string; owner: string; recorded: boolean }[];
          warnings: { context: string; problem: string }[];
        };
      }
    ).team;
    const rows = team.environments.map((row) => `${row.context} ${row.namespace} ${row.owner}`);
    expect(rows).toEqual(
      expect.arrayContaining([
        "team-a prodlike-web-bob bob.laptop",
        "team-b prodlike-web-carol carol.desk",
      ]),
    );
    expect(team.environments.find((row) => row.namespace === namespaceOf("local"))).toMatchObject({
      context: "team-a",
      recorded: true,
    });
    // kube-system and default carry no prodlike labels.
    expect(rows.some((row) => / (kube-system|default) /.test(row))).toBe(false);
    expect(team.warnings.map((warning) => warning.context)).toEqual(["gone"]);

    const text = await cli(["ls"]);
    expectOk(text);
    expect(text.stdout).toMatch(/CONTEXT\s+NAMESPACE\s+OWNER/);
    expect(text.stdout).toMatch(/team-b\s+prodlike-web-carol\s+carol\.desk/);
    expect(text.stdout).toMatch(/! gone: /);
  });

  it("keep and ttl write the lifetime onto the namespace, where everyone's gc reads it", async () => {
    const labels = () =>
      teamA.store.get(namespaces, "", namespaceOf("local"))?.metadata.labels ?? {};
    expectOk(await cli(["keep", "--json"]));
    expect(labels()["prodlike.dev/kept"]).toBe("true");
    expectOk(await cli(["ttl", "never", "--json"]));
    expect(labels()["prodlike.dev/expires"]).toBeUndefined();
    expectOk(await cli(["ttl", "3h", "--json"]));
    expect(Number(labels()["prodlike.dev/expires"]) * 1000).toBeGreaterThan(
      Date.now() + 2.9 * 3600_000,
    );
    // An up that clears the lifetime clears what `ttl` wrote too.
    expectOk(await cli(["up", "--ttl", "never", "--json"]));
    expect(labels()["prodlike.dev/expires"]).toBeUndefined();
    expectOk(await cli(["keep", "--off", "--json"]));
    expect(labels()["prodlike.dev/kept"]).toBeUndefined();
    expect(refused).toEqual([]);
  });

  it("gc deletes expired labelled namespaces only: never a foreign one, a kept one, a live one or the user's own", async () => {
    const past = secondsFromNow(-3600_000);
    putNamespace(
      teamA,
      "prodlike-web-old",
      labelled("bob.laptop", "web-old", { "prodlike.dev/expires": past }),
    );
    // A similar name and even an expiry label, but prodlike did not make it.
    putNamespace(teamA, "prodlike-web-old2", { "prodlike.dev/expires": past });
    putNamespace(
      teamA,
      "prodlike-web-kept",
      labelled("bob.laptop", "web-kept", {
        "prodlike.dev/expires": past,
        "prodlike.dev/kept": "true",
      }),
    );
    putNamespace(
      teamA,
      "prodlike-web-fresh",
      labelled("bob.laptop", "web-fresh", { "prodlike.dev/expires": secondsFromNow(3600_000) }),
    );
    // team-b refuses deleting namespaces: said, not a failure of the rest.
    putNamespace(
      teamB,
      "prodlike-web-stale",
      labelled("carol.desk", "web-stale", { "prodlike.dev/expires": past }),
    );

    const dry = await cli(["gc", "--dry-run", "--json"]);
    expectOk(dry);
    // Listed as would-be deletions (no `deleted` yet), nothing deleted.
    const wouldDelete = (dry.json as { namespaces: { namespace: string; deleted?: boolean }[] })
      .namespaces;
    expect(wouldDelete.map((entry) => `${entry.namespace} ${"deleted" in entry}`).sort()).toEqual([
      "prodlike-web-old false",
      "prodlike-web-stale false",
    ]);
    expect(teamA.store.get(namespaces, "", "prodlike-web-old")).toBeDefined();

    const gc = await cli(["gc", "--json"]);
    expectOk(gc);
    const report = gc.json as {
      namespaces: { context: string; namespace: string; deleted?: boolean; problem?: string }[];
      unreachable: { context: string; problem: string }[];
    };
    expect(
      report.namespaces
        .map((entry) => `${entry.context} ${entry.namespace} ${entry.deleted}`)
        .sort(),
    ).toEqual(["team-a prodlike-web-old true", "team-b prodlike-web-stale false"]);
    expect(report.namespaces.find((entry) => entry.context === "team-b")?.problem).toContain(
      "forbidden",
    );
    expect(report.unreachable.map((warning) => warning.context)).toEqual(["gone"]);
    const deadline = Date.now() + 10_000;
    while (teamA.store.get(namespaces, "", "prodlike-web-old") && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(teamA.store.get(namespaces, "", "prodlike-web-old")).toBeUndefined();
    for (const left of [
      "prodlike-web-old2",
      "prodlike-web-kept",
      "prodlike-web-fresh",
      namespaceOf("local"),
    ])
      expect(teamA.store.get(namespaces, "", left), left).toBeDefined();
    expect(teamB.store.get(namespaces, "", "prodlike-web-stale")).toBeDefined();

    const text = await cli(["gc"]);
    expectOk(text);
    expect(text.stdout).toContain("! could not delete namespace prodlike-web-stale on team-b");
    expect(text.stdout).toMatch(/! gone: /);
  });

  it("destroy needs no right beyond the table", async () => {
    expectOk(await cli(["destroy", "--keep-images", "--json"]));
    expect(teamA.store.get(namespaces, "", namespaceOf("local"))).toBeUndefined();
    expect(refused).toEqual([]);
  });
});
