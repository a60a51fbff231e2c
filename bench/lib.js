// Shared helpers for the benchmarks: a throwaway copy of the example project, the real
// CLI, timing and statistics. Benchmarks print numbers; they never assert.
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { copyExampleProject, repoRoot } from "../test/support/example-project.js";

export { repoRoot };

export const CLI = path.join(repoRoot, "bin", "prodlike.cjs");

export async function benchProject(prefix) {
  const { name, base, dir, home } = await copyExampleProject(prefix, "prodlike-bench-");
  return {
    name,
    dir,
    base,
    home,
    cli: (args) => prodlike(args, { cwd: dir, home }),
    cleanup: () => rm(base, { recursive: true, force: true }),
  };
}

/** The id of the running db container of a bench project's `local` environment. */
export async function dbContainerOf(project) {
  const { stdout } = await execa("docker", [
    "ps",
    "-q",
    "--filter",
    `label=dev.prodlike.env=${project.name}-local`,
    "--filter",
    "label=dev.prodlike.service=db",
  ]);
  return stdout.trim();
}

export async function prodlike(args, { cwd, home }) {
  const result = await execa("node", [CLI, ...args], {
    cwd,
    reject: false,
    env: { PRODLIKE_HOME: home, NO_COLOR: "1", CI: "true" },
  });
  if (result.exitCode !== 0) {
    throw new Error(
      `prodlike ${args.join(" ")} failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}`,
    );
  }
  return args.includes("--json") ? JSON.parse(result.stdout) : result.stdout;
}

export async function timed(fn) {
  const started = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, value };
}

export function timedSync(command, args, options = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: "ignore", ...options });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, status: result.status };
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

export const median = (values) => percentile(values, 50);

// Rounds of a measurement against its baseline (two by default), alternating which goes
// first, so neither always meets a warmer cache or a fuller buffer pool.
export async function alternate(runRaw, runOurs, rounds = 2) {
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      await runRaw();
      await runOurs();
    } else {
      await runOurs();
      await runRaw();
    }
  }
}

export async function pollHttp(url, accept, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { redirect: "manual" });
      const body = await response.text();
      if (accept(response.status, body)) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** The compose command the user would run: v2 when present (unless PRODLIKE_COMPOSE=v1). */
export async function composeCommand() {
  const v2 = await execa("docker", ["compose", "version", "--short"], { reject: false });
  if (v2.exitCode === 0 && process.env.PRODLIKE_COMPOSE !== "v1") {
    return { file: "docker", prefix: ["compose"], label: `docker compose ${v2.stdout.trim()}` };
  }
  const v1 = await execa("docker-compose", ["version", "--short"]);
  return { file: "docker-compose", prefix: [], label: `docker-compose ${v1.stdout.trim()}` };
}

/** A copy of a generated compose project, its own paths rewritten: the raw baseline's. */
export async function copyComposeProject(dir) {
  const rawDir = await mkdtemp(path.join(os.tmpdir(), "prodlike-bench-raw-"));
  await cp(dir, rawDir, { recursive: true });
  const file = path.join(rawDir, "docker-compose.yml");
  await writeFile(file, (await readFile(file, "utf8")).replaceAll(dir, rawDir));
  return file;
}

/**
 * Our `up` (then destroy) against raw `compose up -d` + polling until HTTP 200 on the
 * copied project (then `down -v`), `rounds` times, alternating which goes first so
 * neither always gets the warmer page cache.
 */
export async function againstRawCompose({ rounds, composeFile, rawProject, url, up, destroy }) {
  const compose = await composeCommand();
  const args = [...compose.prefix, "-p", rawProject, "-f", composeFile];
  const ours = [];
  const raw = [];
  const runOurs = async () => {
    ours.push((await timed(up)).ms);
    await destroy();
  };
  const runRaw = async () => {
    const { ms } = await timed(async () => {
      await execa(compose.file, [...args, "up", "-d"]);
      await pollHttp(`${url}/`, (status) => status === 200);
    });
    raw.push(ms);
    await execa(compose.file, [...args, "down", "-v", "--timeout", "10"]);
  };
  await alternate(runRaw, runOurs, rounds);
  return { ours, raw, label: compose.label };
}
