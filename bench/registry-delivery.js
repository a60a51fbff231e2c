// Image delivery through a local registry when the images did not change (an `up` of a
// changed configuration): prodlike's RegistryDelivery (one image inspect + one manifest
// HEAD per image) against raw `docker push` of the same references, which the registry
// answers layer by layer ("Layer already exists"). Goal: at most 1 s for the Drupal
// preset's images, and no slower than the raw no-op push. Needs Debian's docker-registry
// (the CI installs it); without it the bench says why it did not run.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { RegistryDelivery } from "../dist/backends/kube/registry-delivery.js";
import { ExecaCommandRunner } from "../dist/process/execa-command-runner.js";
import { alternate, fmt, median, timed } from "./lib.js";

const NAME = "registry delivery, images unchanged, vs raw docker push";

export async function registryDeliveryBench() {
  const probe = await execa("docker-registry", ["--version"], { reject: false });
  if (probe.exitCode !== 0) {
    return { name: NAME, skipped: "`docker-registry` is not installed", goal: "<= 1.0 and <= 1 s" };
  }
  const images = (
    await execa("docker", ["images", "--format", "{{.Repository}}:{{.Tag}}", "prodlike/*"])
  ).stdout
    .split("\n")
    .filter((tag) => /prodlike\/(nginx|mariadb|drupal-php-fpm|drupal-cli):/.test(tag))
    .filter(
      (tag, index, all) =>
        all.findIndex((other) => other.split(":")[0] === tag.split(":")[0]) === index,
    );
  if (images.length === 0) {
    return {
      name: NAME,
      skipped: "no prodlike images built here (run an up first)",
      goal: "<= 1.0 and <= 1 s",
    };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-bench-registry-"));
  const port = await freePort();
  await writeFile(
    path.join(dir, "config.yml"),
    `version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: ${dir}/data } }\nhttp: { addr: "127.0.0.1:${port}" }\n`,
  );
  const registry = spawn("docker-registry", ["serve", path.join(dir, "config.yml")], {
    stdio: "ignore",
  });
  const host = `localhost:${port}`;
  const references = [];
  try {
    await waitForPort(port);
    const delivery = new RegistryDelivery(new ExecaCommandRunner(), { registry: host });
    const spec = {
      cluster: "bench",
      codeRoot: "/",
      portMappings: [],
      workDir: dir,
      kubeconfig: "",
    };
    // Prime: every image pushed once, as the first up does.
    const primed = await delivery.deliver(spec, images, new Set());
    references.push(...Object.values(primed.references));
    for (const [image, reference] of Object.entries(primed.references))
      await execa("docker", ["tag", image, reference]);
    const ours = [];
    const raw = [];
    await alternate(
      async () => {
        raw.push(
          (
            await timed(async () => {
              for (const reference of references) await execa("docker", ["push", "-q", reference]);
            })
          ).ms,
        );
      },
      async () => {
        const run = await timed(() => delivery.deliver(spec, images, new Set()));
        if (run.value.sent.length > 0)
          throw new Error(`pushed again: ${run.value.sent.join(", ")}`);
        ours.push(run.ms);
      },
      6,
    );
    const oursMs = median(ours);
    const rawMs = median(raw);
    return {
      name: NAME,
      ours: oursMs,
      raw: rawMs,
      ratio: oursMs / rawMs,
      goal: "<= 1.0 and <= 1 s",
      met: oursMs / rawMs <= 1 && oursMs <= 1000,
      detail: `prodlike ${fmt(oursMs)} | raw docker push ${fmt(rawMs)} (${images.length} images, medians of 6)`,
    };
  } finally {
    for (const reference of references)
      await execa("docker", ["image", "rm", "--no-prune", reference], { reject: false });
    registry.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.once("error", reject);
  });
}

async function waitForPort(port) {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`docker-registry did not listen on 127.0.0.1:${port}`);
}
