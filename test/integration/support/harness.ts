import { rm } from "node:fs/promises";
import path from "node:path";
import Docker from "dockerode";
import { execa } from "execa";
import { expect } from "vitest";
import { copyExampleProject, repoRoot } from "../../support/example-project.js";

// Drives the real CLI (bin/prodlike.cjs, built) as a user would, against the real engine.

export const CLI = path.join(repoRoot, "bin", "prodlike.cjs");
export const docker = new Docker();

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

export interface TestProject {
  dir: string;
  name: string;
  home: string;
  cli(
    args: string[],
    options?: { input?: string; env?: Record<string, string> },
  ): Promise<CliResult>;
  cleanup(): Promise<void>;
}

// A copy of examples/drupal-basic under a unique project name, with its own PRODLIKE_HOME
// (locks, derived secrets), so test runs never touch a developer's environments.
export async function copyExample(prefix: string, example?: string): Promise<TestProject> {
  const { name, base, dir, home } = await copyExampleProject(prefix, "prodlike-it-", example);
  const cli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) =>
    runCli(args, { cwd: dir, home, ...options });
  return {
    dir,
    name,
    home,
    cli,
    cleanup: async () => {
      await rm(base, { recursive: true, force: true });
    },
  };
}

/**
 * Destroys the project's environments (images kept: the next file reuses them; the compose
 * suite checks that destroy removes them) and deletes its copy. For afterAll.
 */
export async function discardProject(
  project: TestProject | undefined,
  names: readonly string[] = ["local"],
): Promise<void> {
  if (!project) return;
  for (const name of names) {
    await project.cli(["destroy", "--name", name, "--keep-images"]).catch(() => undefined);
  }
  await project.cleanup();
}

export async function runCli(
  args: string[],
  options: { cwd: string; home: string; input?: string; env?: Record<string, string> },
): Promise<CliResult> {
  const result = await execa("node", [CLI, ...args], {
    cwd: options.cwd,
    reject: false,
    env: { PRODLIKE_HOME: options.home, NO_COLOR: "1", CI: "true", ...options.env },
    ...(options.input === undefined ? { stdin: "ignore" } : { input: options.input }),
  });
  let json: Record<string, unknown> | undefined;
  if (args.includes("--json")) {
    try {
      json = JSON.parse(result.stdout) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
  }
  return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr, json };
}

export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { redirect: "manual" });
  return { status: response.status, body: await response.text() };
}

export function envFilter(envId: string): { label: string[] } {
  return { label: [`dev.prodlike.env=${envId}`] };
}

// Everything the engine holds for one environment, by label.
export async function resourcesOf(envId: string) {
  const filters = envFilter(envId);
  const [containers, volumes, networks, images] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listVolumes({ filters }),
    docker.listNetworks({ filters }),
    docker.listImages({ filters }),
  ]);
  return {
    containers: containers.map((container) => container.Id),
    volumes: (volumes.Volumes ?? []).map((volume) => volume.Name),
    networks: networks.map((network) => network.Name),
    images: images.map((image) => image.Id),
    imageIdsInUse: containers.map((container) => container.ImageID),
  };
}

export function describeFailure(result: CliResult): string {
  return `exit ${result.exitCode}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** A field of a --json document, failing the test clearly when it is missing. */
export function jsonField<T>(result: CliResult, key: string): T {
  const value = result.json?.[key];
  if (value === undefined)
    throw new Error(`--json document has no \`${key}\`: ${describeFailure(result)}`);
  return value as T;
}

export function webUrlOf(result: CliResult): string {
  const web = jsonField<Record<string, string>>(result, "urls").web;
  if (!web) throw new Error(`no urls.web: ${describeFailure(result)}`);
  return web;
}

/** The command exited 0; on failure the assertion shows its output. */
export function expectOk(result: CliResult): void {
  expect(result.exitCode, describeFailure(result)).toBe(0);
}

/** `prodlike up --json` (plus `flags`), which must succeed; the web URL it reports. */
export async function upForWebUrl(project: TestProject, flags: string[] = []): Promise<string> {
  const up = await project.cli(["up", ...flags, "--json"]);
  expectOk(up);
  return webUrlOf(up);
}

/** A shell script in one service of the project's environment (`name`: another one). */
export function shellIn(
  project: TestProject,
  service: string,
  script: string,
  options: { name?: string; input?: string } = {},
): Promise<CliResult> {
  const name = options.name ? ["--name", options.name] : [];
  return project.cli(
    ["exec", ...name, service, "--", "sh", "-c", script],
    options.input === undefined ? {} : { input: options.input },
  );
}

/** SQL run by MariaDB's root in the db service on the app database; the rows, no headers. */
export async function rootSql(
  project: TestProject,
  statement: string,
  name?: string,
): Promise<string> {
  const result = await shellIn(project, "db", 'exec mariadb -N "$MARIADB_DATABASE"', {
    input: `${statement}\n`,
    ...(name ? { name } : {}),
  });
  expectOk(result);
  return result.stdout.trim();
}

/** A MariaDB client in the db service, as the application user, on the app database. */
export const SQL_CLIENT = [
  "sh",
  "-c",
  'exec mariadb -u"$MARIADB_USER" -p"$MARIADB_PASSWORD" "$MARIADB_DATABASE"',
];

/** The id of an environment's own network (found by its label). */
export async function environmentNetwork(envId: string): Promise<string> {
  const { stdout } = await execa("docker", [
    "network",
    "ls",
    "-q",
    "--filter",
    `label=dev.prodlike.env=${envId}`,
  ]);
  return stdout.trim();
}
