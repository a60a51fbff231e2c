import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ClusterSpec } from "../../../../src/backends/kube/cluster-provider.js";
import { KindCluster } from "../../../../src/backends/kube/kind-cluster.js";
import { loadKindTemplate, renderKindConfig } from "../../../../src/backends/kube/kind-config.js";
import { MinikubeCluster, profileNames } from "../../../../src/backends/kube/minikube-cluster.js";
import { FakeRunner } from "../../../support/fake-runner.js";

async function spec(): Promise<ClusterSpec> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), "prodlike-kube-"));
  return {
    cluster: "prodlike-shop-local",
    codeRoot: "/home/dev/shop",
    portMappings: [
      { hostPort: 8080, nodePort: 30080 },
      { hostPort: 13306, nodePort: 30081 },
    ],
    workDir,
    kubeconfig: path.join(workDir, "kubeconfig"),
    context: "kind-prodlike-shop-local",
    namespace: "shop",
    labels: {},
    annotations: {},
  };
}

describe("renderKindConfig", () => {
  it("mounts the code tree into the node and maps ports on 127.0.0.1 only", async () => {
    const { document, yaml } = renderKindConfig(
      {
        codeRoot: "/home/dev/shop",
        nodeCodePath: "/prodlike/code",
        portMappings: [{ hostPort: 8080, nodePort: 30080 }],
      },
      await loadKindTemplate(),
    );
    expect(parse(yaml)).toEqual(document);
    expect(document).toEqual({
      kind: "Cluster",
      apiVersion: "kind.x-k8s.io/v1alpha4",
      nodes: [
        {
          role: "control-plane",
          // kind/cluster.yaml's pin, by digest.
          image: expect.stringMatching(/^kindest\/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}$/),
          extraMounts: [
            { hostPath: "/home/dev/shop", containerPath: "/prodlike/code", readOnly: false },
          ],
          extraPortMappings: [
            { containerPort: 30080, hostPort: 8080, listenAddress: "127.0.0.1", protocol: "TCP" },
          ],
        },
      ],
    });
  });
});

describe("kind's local-registry pattern", () => {
  it("tells containerd to read per-registry hosts.toml files, and writes the registry's into the node", async () => {
    const { document } = renderKindConfig(
      { codeRoot: "/c", nodeCodePath: "/prodlike/code", portMappings: [], registry: true },
      await loadKindTemplate(),
    );
    expect(document.containerdConfigPatches).toEqual([
      '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"',
    ]);
    const cluster = await spec();
    const config = path.join(cluster.workDir, "kind-config.yaml");
    const runner = new FakeRunner()
      .on(
        `kind create cluster --name prodlike-shop-local --config ${config} --kubeconfig ${cluster.kubeconfig} --wait 180s`,
        {},
      )
      .on(
        String.raw`docker exec prodlike-shop-local-control-plane sh -c mkdir -p "$1" && printf '[host."%s"]\n' "$2" > "$1/hosts.toml" sh /etc/containerd/certs.d/localhost:5001 http://kind-registry:5000`,
        {},
      );
    await new KindCluster(runner, "kind", {
      host: "localhost:5001",
      nodeUrl: "http://kind-registry:5000",
    }).create(cluster);
    expect(runner.calls).toHaveLength(2);
    // The script the node runs, run here into a folder: the hosts.toml containerd reads.
    const [, , , shell, flag, script, name, , url] = runner.calls[1] ?? [];
    const certs = path.join(cluster.workDir, "certs.d", "localhost:5001");
    await execa(shell ?? "", [flag ?? "", script ?? "", name ?? "", certs, url ?? ""]);
    expect(await readFile(path.join(certs, "hosts.toml"), "utf8")).toBe(
      '[host."http://kind-registry:5000"]\n',
    );
  });
});

describe("KindCluster", () => {
  it("creates the cluster from a written config into a private kubeconfig", async () => {
    const cluster = await spec();
    const config = path.join(cluster.workDir, "kind-config.yaml");
    const runner = new FakeRunner().on(
      `kind create cluster --name prodlike-shop-local --config ${config} --kubeconfig ${cluster.kubeconfig} --wait 180s`,
      {},
    );
    await new KindCluster(runner).create(cluster);
    expect(runner.calls).toHaveLength(1);
    const written = parse(await readFile(config, "utf8"));
    expect(written.nodes[0].extraPortMappings.map((m: { hostPort: number }) => m.hostPort)).toEqual(
      [8080, 13306],
    );
  });

  it("loads images with docker save + kind load image-archive, and removes the archive", async () => {
    const cluster = await spec();
    const archive = path.join(cluster.workDir, "images.tar");
    const runner = new FakeRunner()
      .on(`docker save -o ${archive} prodlike/drupal-nginx:abc prodlike/drupal-cli:def`, {})
      .on(`kind load image-archive ${archive} --name prodlike-shop-local`, {});
    await new KindCluster(runner).loadImages(cluster, [
      "prodlike/drupal-nginx:abc",
      "prodlike/drupal-cli:def",
    ]);
    expect(runner.calls.map((call) => call.slice(0, 3).join(" "))).toEqual([
      `docker save -o`,
      `kind load image-archive`,
    ]);
    await expect(readFile(archive)).rejects.toThrow(/ENOENT/);
  });

  it("finds its cluster in `kind get clusters` and deletes it by name", async () => {
    const runner = new FakeRunner()
      .on("kind get clusters", { stdout: "other\nprodlike-shop-local\n" })
      .on("kind delete cluster --name prodlike-shop-local --kubeconfig /k", {});
    const kind = new KindCluster(runner);
    expect(await kind.exists({ cluster: "prodlike-shop-local" })).toBe(true);
    expect(await kind.exists({ cluster: "prodlike-shop" })).toBe(false);
    await kind.delete({
      cluster: "prodlike-shop-local",
      kubeconfig: "/k",
      context: "",
      namespace: "",
    });
    expect(kind.context("prodlike-shop-local")).toBe("kind-prodlike-shop-local");
  });

  it("turns a failing kind into CLUSTER_FAILED with its output, a missing one into TOOL_MISSING", async () => {
    const failing = new FakeRunner().on("kind get clusters", {
      exitCode: 1,
      stderr: "ERROR: failed to list clusters: permission denied",
    });
    await expect(new KindCluster(failing).exists({ cluster: "x" })).rejects.toMatchObject({
      code: "CLUSTER_FAILED",
      hint: expect.stringContaining("permission denied"),
    });
    await expect(new KindCluster(new FakeRunner()).exists({ cluster: "x" })).rejects.toMatchObject({
      code: "TOOL_MISSING",
    });
    expect(await new KindCluster(new FakeRunner()).version()).toBeUndefined();
  });
});

describe("MinikubeCluster", () => {
  it("starts with the docker driver, a bind mount and 127.0.0.1 port mappings, never minikube mount", async () => {
    const cluster = await spec();
    const runner = new FakeRunner().on(
      [
        "minikube start --profile prodlike-shop-local --driver=docker --mount",
        "--mount-string=/home/dev/shop:/prodlike/code",
        "--ports=127.0.0.1:8080:30080 --ports=127.0.0.1:13306:30081",
        "--wait=apiserver,system_pods,default_sa",
      ].join(" "),
      {},
    );
    await new MinikubeCluster(runner).create(cluster);
    expect(runner.options[0]?.env).toEqual({ KUBECONFIG: cluster.kubeconfig });
    expect(runner.calls.flat()).not.toContain("mount");
  });

  it("loads each image with minikube image load and deletes by profile", async () => {
    const cluster = await spec();
    const runner = new FakeRunner()
      .on("minikube image load prodlike/a:1 --profile prodlike-shop-local", {})
      .on("minikube image load prodlike/b:2 --profile prodlike-shop-local", {})
      .on("minikube delete --profile prodlike-shop-local", {});
    const minikube = new MinikubeCluster(runner);
    await minikube.loadImages(cluster, ["prodlike/a:1", "prodlike/b:2"]);
    await minikube.delete(cluster);
    expect(runner.calls).toHaveLength(3);
    expect(minikube.context("prodlike-shop-local")).toBe("prodlike-shop-local");
  });

  it("reads profiles from minikube profile list -o json", async () => {
    const json = JSON.stringify({ invalid: [], valid: [{ Name: "prodlike-shop-local" }] });
    const runner = new FakeRunner().on("minikube profile list --output json", { stdout: json });
    expect(await new MinikubeCluster(runner).exists({ cluster: "prodlike-shop-local" })).toBe(true);
    expect(profileNames("not json")).toEqual([]);
    // No profiles at all: minikube exits 85.
    const none = new FakeRunner().on("minikube profile list --output json", { exitCode: 85 });
    expect(await new MinikubeCluster(none).exists({ cluster: "prodlike-shop-local" })).toBe(false);
  });
});
