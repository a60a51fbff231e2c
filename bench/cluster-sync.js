// Live sync on `--backend cluster`: an edit saved in the checkout until the new content is
// served through the port-forward the background session keeps, on the wire-level
// Kubernetes API double (its pods are Docker containers; images through a real registry
// on 127.0.0.1). Baseline in the same run: the same file copied by hand into the same
// pod's container (`tar | docker exec -i … tar -x`, no API server, no watcher, no
// batching), then fetched through the same forwarded URL. p95 over 20 edits each; goal:
// ours <= 1 s. The session's own log says how long each batch took to reach the pods, so
// a slow p95 can be split into batching wait, exec and serving.
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";
import { execa } from "execa";
import { benchProject, CLI, fmt, percentile, repoRoot } from "./lib.js";

const NAME = "cluster live sync: edit -> served via port-forward (p95)";
const GOAL = "p95 <= 1 s";
const EDITS = 20;
const CODE = "/var/www/html";

export async function clusterSyncBench() {
  const probe = await execa("docker-registry", ["--version"], { reject: false });
  if (probe.exitCode !== 0)
    return { name: NAME, skipped: "`docker-registry` is not installed", goal: GOAL };
  const wire = await loadWireDouble();
  const runtime = new wire.DockerRuntime();
  const server = await wire.KubeWireServer.start({
    runtime,
    execProtocols: wire.EXEC_PROTOCOLS_V5,
    // Namespaces go through Terminating as a real cluster's do: destroy waits until the
    // pods are gone, so the code image it removes is no longer in use by them.
    namespaceFinalizeMs: 500,
  });
  const registry = await wire.startLocalRegistry();
  const project = await benchProject("bench-csync");
  const kubeconfig = path.join(project.home, "kubeconfig");
  const cli = async (args) => {
    const result = await execa("node", [CLI, ...args], {
      cwd: project.dir,
      reject: false,
      env: {
        PRODLIKE_HOME: project.home,
        NO_COLOR: "1",
        CI: "true",
        KUBECONFIG: kubeconfig,
        PRODLIKE_ROUTER: "off",
      },
    });
    if (result.exitCode !== 0)
      throw new Error(`prodlike ${args.join(" ")} failed:\n${result.stderr}\n${result.stdout}`);
    return args.includes("--json") ? JSON.parse(result.stdout) : result.stdout;
  };
  try {
    await mkdir(project.home, { recursive: true, mode: 0o700 });
    await server.writeKubeconfig(kubeconfig, "bench");
    await writeFile(
      path.join(project.dir, "prodlike.yaml"),
      `${await readFile(path.join(project.dir, "prodlike.yaml"), "utf8")}cluster:\n  context: bench\n  registry: ${registry.host}/bench\n`,
    );
    const up = await cli(["up", "--backend", "cluster", "--json"]);
    const url = up.urls.web;
    const container = await phpContainer(runtime.id, `prodlike-${project.name}-local`);

    const ours = [];
    const raw = [];
    // Alternating, so neither always meets a warmer php-fpm or a busier engine.
    for (let edit = 0; edit < EDITS; edit++) {
      const order = edit % 2 === 0 ? [runOurs, runRaw] : [runRaw, runOurs];
      for (const run of order) await run(edit);
    }
    async function runOurs(edit) {
      const body = `ours-${edit}-${Date.now()}`;
      const started = performance.now();
      await writeFile(path.join(project.dir, "web/bench-sync.php"), `<?php echo '${body}';\n`);
      await servedAt(`${url}/bench-sync.php`, body);
      ours.push(performance.now() - started);
    }
    async function runRaw(edit) {
      const body = `raw-${edit}-${Date.now()}`;
      const started = performance.now();
      // The same bytes into the same pod's code, as one would by hand: tar through docker
      // exec (the file written outside the synced tree, so the sync never sees it).
      const staging = path.join(project.home, "raw");
      await mkdir(path.join(staging, "web"), { recursive: true });
      await writeFile(path.join(staging, "web/bench-raw.php"), `<?php echo '${body}';\n`);
      await execa("sh", [
        "-c",
        `tar -C "$1" -cf - web/bench-raw.php | docker exec -i "$2" tar -x -m -C "$3" -f -`,
        "sh",
        staging,
        container,
        CODE,
      ]);
      await servedAt(`${url}/bench-raw.php`, body);
      raw.push(performance.now() - started);
    }

    const oursP95 = percentile(ours, 95);
    const rawP95 = percentile(raw, 95);
    const batches = await batchTimes(project.home);
    return {
      name: NAME,
      ours: oursP95,
      raw: rawP95,
      ratio: oursP95 / rawP95,
      goal: GOAL,
      met: oursP95 <= 1000,
      detail:
        `prodlike p95 ${fmt(oursP95)} (median ${fmt(percentile(ours, 50))}) | raw docker exec tar ` +
        `p95 ${fmt(rawP95)} (median ${fmt(percentile(raw, 50))}); ${EDITS} edits each; ` +
        `sync batches into the pods: median ${batches.length ? `${percentile(batches, 50)} ms` : "?"}, ` +
        `p95 ${batches.length ? `${percentile(batches, 95)} ms` : "?"}`,
    };
  } finally {
    await cli(["destroy", "--keep-images"]).catch(() => undefined);
    await server.close();
    await registry.close();
    await project.cleanup();
  }
}

// The wire double is the test suite's TypeScript: bundled for this run with esbuild (its
// packages left as imports, so the bundle sits where node_modules resolves them).
async function loadWireDouble() {
  const outdir = path.join(repoRoot, "node_modules", ".cache", "prodlike-bench", "kube-wire");
  const support = path.join(repoRoot, "test", "support");
  await build({
    entryPoints: {
      server: path.join(support, "kube-wire", "server.ts"),
      "docker-runtime": path.join(support, "kube-wire", "docker-runtime.ts"),
      channels: path.join(support, "kube-wire", "channels.ts"),
      "local-registry": path.join(support, "local-registry.ts"),
    },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    packages: "external",
    outExtension: { ".js": ".mjs" },
    logLevel: "error",
  });
  const load = (name) => import(path.join(outdir, `${name}.mjs`));
  const [{ KubeWireServer }, { DockerRuntime }, { EXEC_PROTOCOLS_V5 }, { startLocalRegistry }] =
    await Promise.all([
      load("server"),
      load("docker-runtime"),
      load("channels"),
      load("local-registry"),
    ]);
  return { KubeWireServer, DockerRuntime, EXEC_PROTOCOLS_V5, startLocalRegistry };
}

// The web pod's php-fpm container: it shares the pod's code volume with nginx.
async function phpContainer(runtimeId, namespace) {
  const { stdout } = await execa("docker", [
    "ps",
    "--filter",
    `label=kube-wire=${runtimeId}`,
    "--format",
    "{{.Names}}",
  ]);
  const found = stdout
    .split("\n")
    .find((name) => name.startsWith(`${runtimeId}-${namespace}-web-`) && name.endsWith("-php-fpm"));
  if (!found) throw new Error(`no php-fpm container of ${namespace}'s web pod`);
  return found;
}

async function servedAt(url, body, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const text = await fetch(url)
      .then((response) => response.text())
      .catch(() => "");
    if (text === body) return;
    if (performance.now() > deadline)
      throw new Error(`${url} did not serve ${body} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// "synced N sent, M deleted into P pods in X ms", from the background session's log.
async function batchTimes(home) {
  const times = [];
  const walk = async (dir) => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.name.endsWith(".log") && dir.endsWith("sessions")) {
        for (const match of (await readFile(full, "utf8")).matchAll(/synced .* in (\d+) ms/g))
          times.push(Number(match[1]));
      }
    }
  };
  await walk(home);
  return times;
}
