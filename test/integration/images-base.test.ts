import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { describeFailure, docker, runCli } from "./support/harness.js";

// The offline base image, for real: debootstrap from the host's Debian mirror, docker
// import, then Debian 13 (trixie, the default suite) runs inside it. Imported under a test
// tag so the real debian:trixie-slim is never touched. debootstrap needs root.

const tag = `prodlike-it/base:${randomBytes(3).toString("hex")}`;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const hasDebootstrap =
  (await execa("debootstrap", ["--version"], { reject: false })).exitCode === 0;
const reason = !isRoot
  ? "not running as root"
  : !hasDebootstrap
    ? "debootstrap is not installed"
    : "";
if (reason) process.stdout.write(`SKIPPED images-base integration test: ${reason}\n`);

afterAll(async () => {
  await docker
    .getImage(tag)
    .remove()
    .catch(() => undefined);
});

describe.skipIf(reason !== "")("prodlike images base --offline", () => {
  it("builds a Debian 13 base image from the host's mirror, then finds it present", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "prodlike-base-"));
    const built = await runCli(["images", "base", "--offline", "--tag", tag, "--json"], {
      cwd: home,
      home,
    });
    expect(built.exitCode, describeFailure(built)).toBe(0);
    expect(built.json).toMatchObject({ ok: true, image: tag, action: "built-offline" });
    const version = await execa("docker", ["run", "--rm", tag, "cat", "/etc/debian_version"]);
    expect(version.stdout).toMatch(/^13\.\d+/);
    // Like the published slim image: no apt lists inside.
    const lists = await execa("docker", [
      "run",
      "--rm",
      tag,
      "sh",
      "-c",
      "ls /var/lib/apt/lists 2>/dev/null | wc -l",
    ]);
    expect(Number(lists.stdout.trim())).toBe(0);

    const again = await runCli(["images", "base", "--offline", "--tag", tag, "--json"], {
      cwd: home,
      home,
    });
    expect(again.json).toMatchObject({ ok: true, action: "present" });
  });
});
