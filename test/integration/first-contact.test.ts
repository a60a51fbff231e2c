import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLI,
  type CliResult,
  copyExample,
  describeFailure,
  discardProject,
  docker,
  expectOk,
  httpGet,
  jsonField,
  resourcesOf,
  shellIn,
  type TestProject,
  upForWebUrl,
} from "./support/harness.js";

// What real sites did on first contact that the examples did not, on the real engine with
// examples/drupal-basic: a release that touches one service (the others keep running,
// the caught mail with them), a page that takes 1.5 s, a release answering a constant
// 500, rollback after a failed release and after an `up` killed mid-attempt, a web server
// that cannot read the code, and a new environment that fails to come up.

let project: TestProject;
let webUrl: string;
let config: string;
let original: string;

const envId = () => `${project.name}-local`;

/** Each service's container id and start time. */
async function containers(id = envId()): Promise<Record<string, { id: string; started: string }>> {
  const listed = await docker.listContainers({
    all: true,
    filters: { label: [`dev.prodlike.env=${id}`] },
  });
  const entries = await Promise.all(
    listed.map(async (container) => {
      const inspected = await docker.getContainer(container.Id).inspect();
      return [
        container.Labels["dev.prodlike.service"] ?? "?",
        { id: container.Id, started: inspected.State.StartedAt },
      ] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Which release runs: the REL the configurations below give the PHP services. */
const release = async () =>
  (await project.cli(["exec", "php-fpm", "--", "sh", "-c", "printenv REL || echo none"])).stdout;

async function withConfig(extra: string): Promise<void> {
  await writeFile(config, `${original}${extra}`);
}

const caught = async () => {
  const mailUrl = jsonField<Record<string, string>>(
    await project.cli(["status", "--json"]),
    "urls",
  ).mail;
  const listed = (await (await fetch(`${mailUrl}/api/v1/messages`)).json()) as {
    messages: { Subject: string }[];
  };
  return listed.messages.map((message) => message.Subject);
};

async function composeFinished(id: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const found = await execa("pgrep", ["-f", `--project-name ${id} `], { reject: false });
    if (found.exitCode !== 0) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

beforeAll(async () => {
  project = await copyExample("it-first");
  config = path.join(project.dir, "prodlike.yaml");
  original = await readFile(config, "utf8");
  webUrl = await upForWebUrl(project);
}, 600_000);

afterAll(async () => {
  await writeFile(config, original).catch(() => undefined);
  await discardProject(project, ["local", "broken"]);
});

describe("releases replace only what changed", { timeout: 300_000 }, () => {
  it("recreates the PHP services alone for an env change: db, web and mail keep running, the caught mail too", async () => {
    expectOk(
      await shellIn(
        project,
        "cli",
        `php -r 'exit(mail("qa@example.com", "Kept across releases", "body") ? 0 : 1);'`,
      ),
    );
    expect(await caught()).toContain("Kept across releases");
    const before = await containers();
    await withConfig("env:\n  REL: two\n");
    const up = await project.cli(["up", "--json"]);
    expectOk(up);
    expect(jsonField<boolean>(up, "changed")).toBe(true);
    // Only the services REL reaches were recreated.
    const after = await containers();
    for (const service of ["db", "web", "mail"]) {
      expect(after[service], service).toEqual(before[service]);
    }
    for (const service of ["php-fpm", "cli"]) {
      expect(after[service]?.id, service).not.toBe(before[service]?.id);
    }
    expect(await release()).toBe("two");
    expect(await caught()).toContain("Kept across releases");
    expect((await httpGet(`${webUrl}/`)).status).toBe(200);
  });

  it("waits for a page that takes 1.5 s, one request at a time", async () => {
    const index = path.join(project.dir, "web", "index.php");
    const page = await readFile(index, "utf8");
    // A cold framework page: the old check gave each request 1 s and sent the next one
    // 50 ms later while php-fpm kept working on every request it had been sent.
    await writeFile(index, page.replace("<?php\n", "<?php\nusleep(1500000);\n"));
    try {
      await withConfig("env:\n  REL: slow\n");
      const up = await project.cli(["up", "--json", "--health-timeout", "20"]);
      expectOk(up);
      expect(await release()).toBe("slow");
      // Up to date: the page check alone, on the same slow page.
      expectOk(await project.cli(["up", "--json", "--health-timeout", "20"]));
    } finally {
      await writeFile(index, page);
    }
  });

  it("rolls a release that answers a constant 500 back within seconds, then rollback goes to the one before the attempt", async () => {
    // Release "two" runs (as the first test left it, config-wise).
    await withConfig("env:\n  REL: two\n");
    expectOk(await project.cli(["up", "--json"]));
    const index = path.join(project.dir, "web", "index.php");
    const page = await readFile(index, "utf8");
    await writeFile(
      index,
      page.replace(
        "<?php\n",
        "<?php\nif (getenv('REL') === 'broken') { http_response_code(500); exit('broken'); }\n",
      ),
    );
    try {
      await withConfig("env:\n  REL: broken\n");
      const started = Date.now();
      const up = await project.cli(["up", "--json", "--health-timeout", "300"]);
      const tookMs = Date.now() - started;
      expect(up.exitCode, describeFailure(up)).toBe(6);
      const error = jsonField<{ code: string; hint: string }>(up, "error");
      expect(error.code).toBe("ROLLED_BACK");
      expect(error.hint).toContain("answered 500");
      // Well before the 300 s the old check waited on a page that answered 500.
      expect(tookMs).toBeLessThan(120_000);
      expect(await release()).toBe("two");
    } finally {
      await writeFile(index, page);
    }
    // The release that ran before "two" (from the slow-page test) is the one to go back
    // to: the failed attempt did not push it aside.
    const listed = await project.cli(["releases", "--json"]);
    expectOk(listed);
    const back = await project.cli(["rollback", "--json"]);
    expectOk(back);
    expect(await release()).toBe("slow");
    expectOk(await project.cli(["rollback", "--json"]));
    expect(await release()).toBe("two");
  });

  it("after an up killed mid-attempt, up finishes it and rollback goes to the release that ran before", async () => {
    expect(await release()).toBe("two");
    await withConfig("env:\n  REL: three\n");
    // kill -9 once the new release is being started.
    const child = execa("node", [CLI, "up"], {
      cwd: project.dir,
      env: { PRODLIKE_HOME: project.home, NO_COLOR: "1", CI: "true" },
      reject: false,
      stdin: "ignore",
    });
    let output = "";
    await new Promise<void>((resolve) => {
      const watch = (chunk: Buffer) => {
        output += chunk.toString();
        if (/Recreate|Start containers/.test(output)) {
          child.kill("SIGKILL");
          resolve();
        }
      };
      child.stderr?.on("data", watch);
      child.stdout?.on("data", watch);
      void child.then(() => resolve());
    });
    await child;
    // The compose it had started may still be working (an orphan of the killed process).
    await composeFinished(envId());
    const again = await project.cli(["up", "--json"]);
    expectOk(again);
    expect(await release()).toBe("three");
    expectOk(await project.cli(["rollback", "--json"]));
    expect(await release()).toBe("two");
    // And forward again.
    expectOk(await project.cli(["rollback", "--json"]));
    expect(await release()).toBe("three");
    await writeFile(config, original);
    expectOk(await project.cli(["up", "--json"]));
  });
});

describe("the page check names what is wrong", { timeout: 300_000 }, () => {
  it("says the web server cannot read the code, instead of calling a 404 healthy", async () => {
    // The front controller unreadable to the uid the containers run as (its owner's mode
    // bits say no): what a root-owned or 0700-elsewhere checkout does to nginx and php-fpm.
    const index = path.join(project.dir, "web", "index.php");
    const mode = (await stat(index)).mode & 0o777;
    await chmod(index, 0o000);
    let up: CliResult;
    try {
      up = await project.cli(["up", "--json", "--health-timeout", "60"]);
    } finally {
      await chmod(index, mode);
    }
    expect(up.exitCode, describeFailure(up)).toBe(1);
    const error = jsonField<{ code: string; message: string }>(up, "error");
    expect(error.code).toBe("HEALTH_FAILED");
    expect(error.message).toMatch(/cannot read the code \(permission denied\)/);
    expectOk(await project.cli(["up", "--json"]));
  });
});

describe("a new environment that fails to come up", { timeout: 300_000 }, () => {
  it("stays for diagnosis (logs work), and destroy then removes everything", async () => {
    // An image without php-fpm: the php-fpm container exits at once.
    await withConfig("services:\n  php-fpm:\n    image: debian:trixie-slim\n");
    try {
      const up = await project.cli(["up", "--name", "broken", "--json", "--health-timeout", "30"]);
      expect(up.exitCode, describeFailure(up)).toBe(1);
      const error = jsonField<{ hint: string }>(up, "error");
      expect(error.hint).toContain("prodlike destroy --name broken");
      // The hint's advice works: the containers are there to read.
      const logs = await project.cli(["logs", "--name", "broken", "db", "--tail", "5"]);
      expectOk(logs);
      const status = await project.cli(["status", "--name", "broken", "--json"]);
      expectOk(status);
      expect((await resourcesOf(`${project.name}-broken`)).containers.length).toBeGreaterThan(0);

      expectOk(await project.cli(["destroy", "--name", "broken", "--keep-images", "--json"]));
      const left = await resourcesOf(`${project.name}-broken`);
      expect(left.containers).toEqual([]);
      expect(left.volumes).toEqual([]);
      expect(left.networks).toEqual([]);
      await expect(stat(path.join(project.dir, ".prodlike", "broken"))).rejects.toThrow();

      // --rm-on-failure removes it at once, as destroy does.
      const removed = await project.cli([
        "up",
        "--name",
        "broken",
        "--rm-on-failure",
        "--json",
        "--health-timeout",
        "30",
      ]);
      expect(removed.exitCode).toBe(1);
      const gone = await resourcesOf(`${project.name}-broken`);
      expect(gone.containers).toEqual([]);
      expect(gone.volumes).toEqual([]);
      await expect(stat(path.join(project.dir, ".prodlike", "broken"))).rejects.toThrow();
    } finally {
      await writeFile(config, original);
    }
    // The working environment beside it never noticed.
    expect((await httpGet(`${webUrl}/`)).status).toBe(200);
  });
});
