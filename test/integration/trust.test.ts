import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyExample, expectOk, jsonField, type TestProject } from "./support/harness.js";

// `prodlike trust` for real: the router's CA into this machine's trust store through
// Debian's mkcert, then a plain `curl https://…` (no --cacert, no -k) accepts the
// environment's certificate; `--uninstall` takes it out again and curl refuses. The system
// store needs root: the developer's run skips this file, CI's root step runs it.

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const hasMkcert =
  (await execa("sh", ["-c", "command -v mkcert"], { reject: false })).exitCode === 0;
const reason = !isRoot ? "not running as root" : !hasMkcert ? "mkcert is not installed" : "";
if (reason) process.stdout.write(`SKIPPED trust integration test: ${reason}\n`);

let project: TestProject;
let https = "";

beforeAll(async () => {
  if (reason) return;
  project = await copyExample("it-trust");
  const up = await project.cli(["up", "--json"]);
  expectOk(up);
  https = jsonField<Record<string, string>>(up, "urls").https ?? "";
}, 900_000);

afterAll(async () => {
  if (!project) return;
  await project.cli(["trust", "--uninstall"]).catch(() => undefined);
  await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
  await project.cleanup();
});

const curl = (url: string) =>
  execa("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", url], { reject: false });

describe.skipIf(reason !== "")("prodlike trust", { timeout: 300_000 }, () => {
  it("makes plain curl accept the environment's https name, and --uninstall undoes it", async () => {
    expect(https).toMatch(/^https:\/\/local\.[a-z0-9-]+\.localhost(:\d+)?\/$/);
    const before = await curl(https);
    expect(before.exitCode).not.toBe(0);
    expect(before.stderr).toMatch(/certificate/i);

    const trusted = await project.cli(["trust", "--json"]);
    expectOk(trusted);
    expect(trusted.json).toMatchObject({ action: "installed", tool: "mkcert" });
    const status = await project.cli(["router", "status", "--json"]);
    expect(status.json).toMatchObject({ running: true, trusted: true });
    const after = await curl(https);
    expect(after.exitCode, after.stderr).toBe(0);
    expect(after.stdout).toBe("200");

    const removed = await project.cli(["trust", "--uninstall", "--json"]);
    expectOk(removed);
    expect(removed.json).toMatchObject({ action: "uninstalled" });
    expect((await project.cli(["router", "status", "--json"])).json).toMatchObject({
      trusted: false,
    });
    const again = await curl(https);
    expect(again.exitCode).not.toBe(0);
  });
});
