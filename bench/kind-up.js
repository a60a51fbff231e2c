// `prodlike up --backend kind` (images built, cluster deleted before) against the raw
// baseline on the same rendered files: `kind create cluster --config` + `docker save` /
// `kind load image-archive` + `kubectl apply --server-side` + `kubectl rollout status`
// + poll HTTP 200. Needs kind and kubectl; without them it reports why it did not run.
import { cp, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { benchProject, fmt, pollHttp, timed } from "./lib.js";

const NAME = "kind up vs raw create + load + apply + rollout";

export async function kindUpBench() {
  for (const tool of [
    ["kind", "version"],
    ["kubectl", "version", "--client"],
  ]) {
    const probe = await execa(tool[0], tool.slice(1), { reject: false });
    if (probe.exitCode !== 0) {
      return { name: NAME, skipped: `\`${tool[0]}\` is not on PATH`, goal: "<= 1.2" };
    }
  }
  const project = await benchProject("bench-kind");
  const cli = (args) => project.cli([...args, "--backend", "kind"]);
  try {
    // Prime: build the images, keep the rendered kind config and manifests, delete.
    const first = await cli(["up", "--json"]);
    const url = first.urls.web;
    const rawDir = await mkdtemp(path.join(os.tmpdir(), "prodlike-bench-kind-"));
    await cp(path.join(project.dir, ".prodlike", "local"), rawDir, { recursive: true });
    const images = first.environment.services.length; // for the report only
    const tags = (
      await execa("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}", "prodlike/*"])
    ).stdout
      .split("\n")
      .filter(Boolean);
    await cli(["destroy", "--keep-images"]);

    const ours = (await timed(() => cli(["up"]))).ms;
    await cli(["destroy", "--keep-images"]);

    const cluster = `${project.name}-raw`;
    const kubeconfig = path.join(rawDir, "raw-kubeconfig");
    const kubectl = (args) => execa("kubectl", ["--kubeconfig", kubeconfig, ...args]);
    const raw = (
      await timed(async () => {
        await execa("kind", [
          "create",
          "cluster",
          "--name",
          cluster,
          "--config",
          path.join(rawDir, "kind-config.yaml"),
          "--kubeconfig",
          kubeconfig,
          "--wait",
          "180s",
        ]);
        const archive = path.join(rawDir, "images.tar");
        await execa("docker", ["save", "-o", archive, ...tags]);
        await execa("kind", ["load", "image-archive", archive, "--name", cluster]);
        await kubectl(["apply", "--server-side", "-f", path.join(rawDir, "manifests.yaml")]);
        const namespace = project.name;
        for (const workload of ["deployment/web", "deployment/cli", "statefulset/db"]) {
          await kubectl(["rollout", "status", "-n", namespace, workload, "--timeout=300s"]);
        }
        await pollHttp(`${url}/`, (status) => status === 200);
      })
    ).ms;
    await execa("kind", ["delete", "cluster", "--name", cluster, "--kubeconfig", kubeconfig]);
    return {
      name: NAME,
      ours,
      raw,
      ratio: ours / raw,
      goal: "<= 1.2",
      met: ours / raw <= 1.2,
      detail: `prodlike ${fmt(ours)} | raw ${fmt(raw)} (${images} services, ${tags.length} images)`,
    };
  } finally {
    await cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}
