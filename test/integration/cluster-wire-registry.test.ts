import { randomBytes } from "node:crypto";
import { appendFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXEC_PROTOCOLS_V5 } from "../support/kube-wire/channels.js";
import { WireClusters } from "../support/kube-wire/wire-clusters.js";
import { type LocalRegistry, startLocalRegistry } from "../support/local-registry.js";
import {
  copyExample,
  expectOk,
  httpGet,
  jsonField,
  SQL_CLIENT,
  type TestProject,
} from "./support/harness.js";

// The kind backend on a wire double that negotiates exec protocol v5 (Kubernetes >= 1.29:
// stdin's end is a close signal), its images delivered through a real local registry
// (Debian's docker-registry) as kind's local-registry pattern has it: pushed once by a
// content tag, pulled by the node (the double's pods pull from the registry), never
// pushed again while they do not change.

describe("prodlike on a wire double (exec v5) with images through a local registry", () => {
  let clusters: WireClusters;
  let registry: LocalRegistry;
  let project: TestProject;
  let webUrl = "";
  const greeting = `hello-${randomBytes(4).toString("hex")}`;
  const cli = (args: string[], options: { input?: string } = {}) =>
    project.cli(args, {
      ...options,
      env: {
        ...clusters.env(),
        PRODLIKE_ROUTER: "off",
        PRODLIKE_REGISTRY: registry.host,
        PRODLIKE_REGISTRY_NODE_URL: "http://kube-wire-registry:5000",
      },
    });

  beforeAll(async () => {
    clusters = await WireClusters.start({ execProtocols: EXEC_PROTOCOLS_V5 });
    registry = await startLocalRegistry();
    project = await copyExample("it-wire-reg");
  });

  afterAll(async () => {
    if (project)
      await cli(["destroy", "--backend", "kind", "--keep-images"]).catch(() => undefined);
    await clusters?.close();
    await registry?.close();
    await project?.cleanup();
  });

  it("up pushes the images to the registry and the node pulls them from there", async () => {
    const up = await cli(["up", "--backend", "kind", "--json"]);
    expectOk(up);
    webUrl = jsonField<Record<string, string>>(up, "urls").web ?? "";
    expect((await httpGet(`${webUrl}/`)).status).toBeLessThan(500);
    const cluster = clusters.cluster(`prodlike-${project.name}-local`);
    const web = JSON.parse(
      (await cluster.server.request(`/apis/apps/v1/namespaces/${project.name}/deployments/web`))
        .body,
    ) as { spec: { template: { spec: { containers: { image: string }[] } } } };
    for (const container of web.spec.template.spec.containers)
      expect(container.image).toMatch(
        new RegExp(`^${registry.host}/prodlike/[a-z-]+:id-[0-9a-f]{32}$`),
      );
    // Nothing went through kind load; the node was told where the registry is.
    expect(cluster.loads).toEqual([]);
    const hosts = await execa("docker", [
      "exec",
      cluster.node,
      "cat",
      `/etc/containerd/certs.d/${registry.host}/hosts.toml`,
    ]);
    expect(hosts.stdout).toBe('[host."http://kube-wire-registry:5000"]');
  });

  it("exec streams stdin on v5 (the close signal ends it)", async () => {
    const insert = await cli(["exec", "db", "--", ...SQL_CLIENT], {
      input: `REPLACE INTO greeting VALUES (1, '${greeting}');\n`,
    });
    expectOk(insert);
    expect((await httpGet(`${webUrl}/`)).body).toContain(greeting);
    const piped = await cli(["exec", "cli", "--", "sh", "-c", "wc -l; exit 4"], {
      input: "a\nb\n",
    });
    expect({ code: piped.exitCode, out: piped.stdout.trim() }).toEqual({ code: 4, out: "2" });
  });

  it("a changed up with unchanged images pushes nothing", async () => {
    const blobs = await registry.blobCount();
    await appendFile(path.join(project.dir, "prodlike.yaml"), "env:\n  RELEASE_MARK: two\n");
    const changed = await cli(["up", "--json"]);
    expectOk(changed);
    expect(changed.json).toMatchObject({ changed: true });
    expect(await registry.blobCount()).toBe(blobs);
    expect((await httpGet(`${webUrl}/`)).body).toContain(greeting);
  });
});
