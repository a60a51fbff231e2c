import { randomBytes } from "node:crypto";
import { appendFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXEC_PROTOCOLS_V5 } from "../support/kube-wire/channels.js";
import { DockerRuntime } from "../support/kube-wire/docker-runtime.js";
import { requireType } from "../support/kube-wire/routes.js";
import { KubeWireServer } from "../support/kube-wire/server.js";
import { type LocalRegistry, startLocalRegistry } from "../support/local-registry.js";
import {
  type CliResult,
  copyExample,
  describeFailure,
  docker,
  expectOk,
  httpGet,
  type TestProject,
  webUrlOf,
} from "./support/harness.js";

// What QA relies on in `--backend cluster` (issue #28), on the wire-level API double with a
// real registry that wants a login (docker-registry, htpasswd): the developer's docker
// login becomes the namespace's pull Secret (that registry's entry only, never printed nor
// written into the project), no login is a typed error; cluster.quota and
// cluster.resources become a ResourceQuota and a LimitRange with exactly those values;
// `up --bake` runs the committed code from an image with no live sync, and `--ref` a
// commit of the test's own git repository.

const PROBE = "web/qa-probe.css";

describe("--backend cluster for QA: pull secret, quota, baked code (wire double, registry behind a login)", () => {
  const login = { username: "qa-wt28q", password: `pw-${randomBytes(12).toString("hex")}` };
  let server: KubeWireServer;
  let registry: LocalRegistry;
  let project: TestProject;
  let kubeconfig = "";
  let dockerConfig = "";
  let firstCommit = "";
  let localUrl = "";
  let bakedUrl = "";
  const upOutputs: CliResult[] = [];
  const cli = (args: string[], docker = dockerConfig) =>
    project.cli(args, {
      env: { KUBECONFIG: kubeconfig, PRODLIKE_ROUTER: "off", DOCKER_CONFIG: docker },
    });
  const namespaceOf = (env: string) => `prodlike-${project.name}-${env}`;
  const git = (...args: string[]) =>
    execa("git", ["-c", "user.name=QA", "-c", "user.email=qa@example.test", ...args], {
      cwd: project.dir,
    });
  const probe = async (url: string) => {
    const page = await httpGet(`${url}/qa-probe.css`).catch(() => ({ status: 0, body: "" }));
    return page.status === 200 ? page.body.trim() : `HTTP ${page.status}`;
  };

  beforeAll(async () => {
    server = await KubeWireServer.start({
      runtime: new DockerRuntime(),
      execProtocols: EXEC_PROTOCOLS_V5,
      // Namespaces go through Terminating until their pods are gone, as a cluster's do:
      // destroy then finds no pod container holding the code images (the double's pods
      // are this machine's containers).
      namespaceFinalizeMs: 500,
    });
    registry = await startLocalRegistry({ login });
    project = await copyExample("wt28q-qa");
    await mkdir(project.home, { recursive: true, mode: 0o700 });
    kubeconfig = path.join(project.home, "kubeconfig");
    await server.writeKubeconfig(kubeconfig, "team-dev");
    // The developer's docker folder: beside the project and prodlike's state, so what is
    // searched for the password below does not hold it by design.
    dockerConfig = path.join(path.dirname(project.home), "docker-config");
    await mkdir(dockerConfig, { mode: 0o700 });
    await appendFile(
      path.join(project.dir, "prodlike.yaml"),
      [
        "cluster:",
        "  context: team-dev",
        `  registry: ${registry.host}/team`,
        "  resources: { cpu: 750m, memory: 640Mi }",
        '  quota: { cpu: "6", memory: 12Gi, pods: 20, storage: 30Gi }',
        "",
      ].join("\n"),
    );
    // Two commits: --ref bakes the first, --bake the second (HEAD).
    await writeFile(path.join(project.dir, PROBE), "first-commit\n");
    await git("init", "-q", "-b", "main");
    await git("add", "-A");
    await git("commit", "-q", "-m", "first");
    firstCommit = (await git("rev-parse", "HEAD")).stdout.trim();
    await writeFile(path.join(project.dir, PROBE), "second-commit\n");
    await git("commit", "-q", "-am", "second");
  });

  afterAll(async () => {
    for (const name of ["local", "baked", "nologin"])
      await cli(["destroy", "--name", name, "--keep-images"]).catch(() => undefined);
    await server?.close();
    await registry?.close();
    await project?.cleanup();
  });

  it("a registry that wants a login, with no docker credentials for it, is a typed error", async () => {
    const refused = await cli(
      ["up", "--name", "nologin", "--backend", "cluster", "--rm-on-failure", "--json"],
      dockerConfig,
    );
    expect(refused.exitCode, describeFailure(refused)).toBe(1);
    const error = (refused.json as { error?: { code: string; message: string; hint?: string } })
      .error;
    expect(error?.code, describeFailure(refused)).toBe("CLUSTER_FAILED");
    expect(error?.message).toContain(`${registry.host} wants a login`);
    expect(error?.hint).toContain(`docker login ${registry.host}`);
    expect(`${refused.stdout}${refused.stderr}`).not.toMatch(/\n\s+at .+:\d+:\d+/);
    // Refused before anything was pushed.
    expect(await registry.blobCount()).toBe(0);
  });

  it("a login the registry refuses (a stale password) is told apart from no login", async () => {
    const stale = path.join(path.dirname(project.home), "docker-config-stale");
    await mkdir(stale, { mode: 0o700 });
    await writeFile(
      path.join(stale, "config.json"),
      JSON.stringify({
        auths: {
          [registry.host]: {
            auth: Buffer.from(`${login.username}:not-the-password`).toString("base64"),
          },
        },
      }),
    );
    const refused = await cli(
      ["up", "--name", "nologin", "--backend", "cluster", "--rm-on-failure", "--json"],
      stale,
    );
    expect(refused.exitCode, describeFailure(refused)).toBe(1);
    const error = (refused.json as { error?: { code: string; message: string; hint?: string } })
      .error;
    expect(error?.code, describeFailure(refused)).toBe("CLUSTER_FAILED");
    expect(error?.message).toContain(`${registry.host} refused the login docker has for it`);
    expect(error?.hint).toContain(`docker login ${registry.host}\` again`);
    expect(`${refused.stdout}${refused.stderr}`).not.toContain("not-the-password");
  });

  it("with a docker login, the push authenticates and the pods pull with a Secret of that registry only", async () => {
    await execa(
      "docker",
      ["login", registry.host, "--username", login.username, "--password-stdin"],
      { input: login.password, env: { DOCKER_CONFIG: dockerConfig } },
    );
    // A second login the developer has: it must not reach the cluster.
    const file = path.join(dockerConfig, "config.json");
    const config = JSON.parse(await readFile(file, "utf8")) as {
      auths: Record<string, { auth: string }>;
    };
    expect(Object.keys(config.auths)).toEqual([registry.host]);
    config.auths["other-registry.example.test"] = {
      auth: Buffer.from("someone:other-secret").toString("base64"),
    };
    await writeFile(file, JSON.stringify(config));

    const up = await cli(["up", "--backend", "cluster", "--json"]);
    upOutputs.push(up);
    expectOk(up);
    localUrl = webUrlOf(up);
    expect(await probe(localUrl)).toBe("second-commit");

    const namespace = namespaceOf("local");
    const secret = server.store.get(requireType("v1", "Secret"), namespace, "prodlike-registry") as
      | { type?: string; data?: Record<string, string>; stringData?: Record<string, string> }
      | undefined;
    expect(secret?.type).toBe("kubernetes.io/dockerconfigjson");
    const held = JSON.parse(
      secret?.stringData?.[".dockerconfigjson"] ??
        Buffer.from(secret?.data?.[".dockerconfigjson"] ?? "", "base64").toString("utf8"),
    ) as { auths: Record<string, { username: string; password: string; auth: string }> };
    expect(Object.keys(held.auths)).toEqual([registry.host]);
    expect(held.auths[registry.host]).toMatchObject(login);

    // Every workload's pods pull with it, and every image is the registry's.
    const templates = [
      ...server.store.list(requireType("apps/v1", "Deployment"), namespace),
      ...server.store.list(requireType("apps/v1", "StatefulSet"), namespace),
    ].map((object) => (object as unknown as { spec: { template: { spec: PodSpec } } }).spec);
    expect(templates.length).toBeGreaterThan(1);
    const pods = server.store
      .list(requireType("v1", "Pod"), namespace)
      .map((pod) => (pod as unknown as { spec: PodSpec }).spec);
    expect(pods.length).toBeGreaterThan(1);
    const images = new Set<string>();
    for (const spec of [...templates.map((workload) => workload.template.spec), ...pods]) {
      expect(spec.imagePullSecrets).toEqual([{ name: "prodlike-registry" }]);
      for (const container of [...spec.containers, ...(spec.initContainers ?? [])])
        images.add(container.image);
    }

    // The registry refuses anyone without the login, and has what was pushed with it.
    expect((await fetch(`http://${registry.host}/v2/`)).status).toBe(401);
    const basic = `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}`;
    for (const image of images) {
      expect(image.startsWith(`${registry.host}/team/`), image).toBe(true);
      const [repository, tag] = image.slice(registry.host.length + 1).split(":");
      const head = await fetch(`http://${registry.host}/v2/${repository}/manifests/${tag}`, {
        method: "HEAD",
        headers: {
          Authorization: basic,
          Accept:
            "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json",
        },
      });
      expect(head.status, image).toBe(200);
    }
  });

  it("cluster.quota and cluster.resources are the namespace's ResourceQuota and LimitRange, as written", () => {
    const namespace = namespaceOf("local");
    const quota = server.store.get(
      requireType("v1", "ResourceQuota"),
      namespace,
      "prodlike-quota",
    ) as unknown as { spec?: unknown } | undefined;
    expect(quota?.spec).toEqual({
      hard: { "limits.cpu": "6", "limits.memory": "12Gi", pods: "20", "requests.storage": "30Gi" },
    });
    const limits = server.store.get(
      requireType("v1", "LimitRange"),
      namespace,
      "prodlike-limits",
    ) as unknown as { spec?: unknown } | undefined;
    // The defaults as written; each default request a quarter of it.
    expect(limits?.spec).toEqual({
      limits: [
        {
          type: "Container",
          default: { cpu: "750m", memory: "640Mi" },
          defaultRequest: { cpu: "187m", memory: "160Mi" },
        },
      ],
    });
    expect(
      server.store.list(requireType("v1", "ResourceQuota")).map((o) => o.metadata.namespace),
    ).toEqual([namespace]);
  });

  it("up --bake runs the committed code from an image, with no live sync: a later edit is not served", async () => {
    const up = await cli(["up", "--name", "baked", "--backend", "cluster", "--bake", "--json"]);
    upOutputs.push(up);
    expectOk(up);
    bakedUrl = webUrlOf(up);
    expect(await probe(bakedUrl)).toBe("second-commit");
    const record = async (env: string) =>
      JSON.parse(
        await readFile(
          path.join(project.home, "environments", `${project.name}-${env}.json`),
          "utf8",
        ),
      ) as { sync?: unknown };
    expect((await record("baked")).sync).toBeUndefined();
    expect((await record("local")).sync).toBeDefined();
    // The background session of each: both forward ports, only the synced one syncs.
    const sessionLog = (env: string) =>
      readFile(path.join(project.home, "sessions", `${project.name}-${env}.log`), "utf8");
    expect(await sessionLog("local")).toContain("syncing");
    const bakedLog = await sessionLog("baked");
    expect(bakedLog.trim()).not.toBe("");
    expect(bakedLog).not.toContain("sync");

    // Two environments on one cluster, each with a Service `db`: a pod's `db` is its own
    // namespace's (one address), as a cluster's DNS search path makes it.
    const resolved = await cli([
      "exec",
      "--name",
      "baked",
      "cli",
      "--",
      "sh",
      "-c",
      "getent ahostsv4 db | cut -d' ' -f1 | sort -u",
    ]);
    expect(resolved.exitCode, describeFailure(resolved)).toBe(0);
    expect(resolved.stdout.trim().split("\n")).toHaveLength(1);

    // One edit of the checkout: the synced environment serves it (so it is visible to a
    // sync), the baked one keeps what it was baked with.
    await writeFile(path.join(project.dir, PROBE), "edited-after-bake\n");
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await probe(localUrl)) !== "edited-after-bake")
      await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await probe(localUrl)).toBe("edited-after-bake");
    expect(await probe(bakedUrl)).toBe("second-commit");

    // Baked again with the edit not committed: still the commit, and up says what it left out.
    const again = await cli(["up", "--name", "baked", "--bake", "--json"]);
    upOutputs.push(again);
    expectOk(again);
    expect(JSON.stringify(again.json?.warnings)).toContain(
      "1 uncommitted file(s) are not in it (web/qa-probe.css)",
    );
    expect(await probe(bakedUrl)).toBe("second-commit");
  });

  it("up --ref serves that commit's content", async () => {
    const up = await cli(["up", "--name", "baked", "--ref", firstCommit, "--json"]);
    upOutputs.push(up);
    expectOk(up);
    expect(await probe(webUrlOf(up))).toBe("first-commit");
    // The edit in the working tree is in neither bake.
    expect(await probe(webUrlOf(up))).not.toBe("edited-after-bake");
  });

  it("the registry login appears in no output of prodlike's, nor in the project or its state", async () => {
    const auth = Buffer.from(`${login.username}:${login.password}`).toString("base64");
    const secrets = [login.password, auth];
    expect(upOutputs.length).toBeGreaterThan(0);
    for (const output of upOutputs)
      for (const secret of secrets)
        expect(`${output.stdout}${output.stderr}`).not.toContain(secret);
    const files = [...(await filesUnder(project.dir)), ...(await filesUnder(project.home))];
    // The rendered manifests are there (so the search reaches them) and hold no login.
    expect(files.some((file) => file.endsWith("manifests.yaml"))).toBe(true);
    for (const file of files) {
      const content = await readFile(file).catch(() => Buffer.alloc(0));
      for (const secret of secrets) expect(content.includes(secret), file).toBe(false);
      // Nor the Secret's data, base64 and all.
      expect(content.includes(".dockerconfigjson"), file).toBe(false);
    }
  });

  it("destroy removes every code image the environments were given (baked, re-baked, synced)", async () => {
    for (const name of ["local", "baked"])
      expectOk(await cli(["destroy", "--name", name, "--keep-images", "--json"]));
    const left = (await docker.listImages())
      .flatMap((image) => image.RepoTags ?? [])
      .filter((tag) => tag.includes(`prodlike/code-${project.name}`));
    expect(left).toEqual([]);
  });
});

interface PodSpec {
  imagePullSecrets?: { name: string }[];
  containers: { image: string }[];
  initContainers?: { image: string }[];
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}
