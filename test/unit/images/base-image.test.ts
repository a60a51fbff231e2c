import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { baseImageOf } from "../../../src/backends/docker/image-builder.js";
import { ensureBaseImage, parseAptMirror } from "../../../src/images/base-image.js";
import type { CommandRunner, RunResult } from "../../../src/process/command-runner.js";
import { PRESETS_DIR } from "../../../src/topology/preset-loader.js";
import { SilentProgress } from "../../../src/ui/plain-progress.js";
import { FakeEngine } from "../../support/fake-engine.js";

describe("parseAptMirror", () => {
  it("reads a deb822 source, skipping security", () => {
    const text = [
      "Types: deb",
      "URIs: http://security.debian.org/debian-security",
      "",
      "Types: deb",
      "URIs: http://mirror.example/debian",
      "Suites: bookworm",
    ].join("\n");
    expect(parseAptMirror(text)).toBe("http://mirror.example/debian");
  });

  it("reads a one-line source with options", () => {
    expect(parseAptMirror("deb [arch=amd64] http://ftp.de.debian.org/debian bookworm main")).toBe(
      "http://ftp.de.debian.org/debian",
    );
  });

  it("finds nothing in an empty file", () => {
    expect(parseAptMirror("# nothing\n")).toBeUndefined();
  });
});

describe("baseImageOf", () => {
  it("reads the FROM image of every preset image, its Debian release a build argument", async () => {
    const dirs = (await readdir(PRESETS_DIR, { recursive: true }))
      .filter((file) => file.endsWith("Dockerfile"))
      .map((file) => path.dirname(path.join(PRESETS_DIR, file)));
    expect(dirs.length).toBeGreaterThanOrEqual(7);
    for (const dir of dirs) {
      expect(await baseImageOf(dir), dir).toMatch(/^debian:(trixie|bookworm)-slim$/);
      for (const suite of ["bookworm", "trixie"]) {
        expect(await baseImageOf(dir, { DEBIAN_SUITE: suite }), dir).toBe(`debian:${suite}-slim`);
      }
    }
  });

  it("fills a FROM argument from the ARG's default, bare or braced", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-df-"));
    await writeFile(
      path.join(dir, "Dockerfile"),
      [
        "ARG SUITE=trixie",
        "ARG FLAVOUR",
        "FROM debian:$SUITE-slim$" + "{FLAVOUR}",
        "ARG LATER=x",
        "",
      ].join("\n"),
    );
    expect(await baseImageOf(dir)).toBe("debian:trixie-slim");
    expect(await baseImageOf(dir, { FLAVOUR: "-x" })).toBe("debian:trixie-slim-x");
  });

  it("understands --platform", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-df-"));
    await writeFile(
      path.join(dir, "Dockerfile"),
      "# c\nFROM --platform=linux/amd64 debian:bookworm-slim AS base\n",
    );
    expect(await baseImageOf(dir)).toBe("debian:bookworm-slim");
  });
});

// Answers by program name (the rootfs path is a fresh temp dir each run).
class ProgramRunner implements CommandRunner {
  readonly calls: string[][] = [];
  constructor(private readonly exitCodes: Record<string, number>) {}
  async run(file: string, args: readonly string[]): Promise<RunResult> {
    this.calls.push([file, ...args]);
    const exitCode = this.exitCodes[file];
    if (exitCode === undefined) return { exitCode: 127, stdout: "", stderr: "", notFound: true };
    return { exitCode, stdout: "", stderr: exitCode ? `${file}: broke` : "", notFound: false };
  }
  stream(file: string, args: readonly string[]): Promise<RunResult> {
    return this.run(file, args);
  }
}

describe("ensureBaseImage", () => {
  const offline = async (engine: FakeEngine, runner: CommandRunner, force = false) =>
    ensureBaseImage(
      engine,
      runner,
      {
        target: "prodlike-test/base:1",
        offline: true,
        force,
        mirror: "http://mirror.example/debian",
        workDir: await mkdtemp(path.join(os.tmpdir(), "prodlike-base-unit-")),
      },
      new SilentProgress(),
    );

  it("leaves a present image alone unless forced", async () => {
    const engine = new FakeEngine();
    engine.images.push({ id: "sha256:x", tags: ["prodlike-test/base:1"], labels: {} });
    const runner = new ProgramRunner({ debootstrap: 0, tar: 0 });
    expect((await offline(engine, runner)).action).toBe("present");
    expect(runner.calls).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "debootstraps the minbase variant, archives to a file, imports that file",
    async () => {
      const engine = new FakeEngine();
      const runner = new ProgramRunner({ debootstrap: 0, tar: 0 });
      const result = await offline(engine, runner);
      expect(result).toMatchObject({ action: "built-offline", image: "prodlike-test/base:1" });
      const [, bootstrap, archive] = runner.calls;
      expect(bootstrap?.slice(0, 3)).toEqual(["debootstrap", "--variant=minbase", "trixie"]);
      expect(bootstrap?.at(-1)).toBe("http://mirror.example/debian");
      expect(archive?.slice(0, 2)).toEqual(["tar", "-C"]);
      expect(archive).toContain("--numeric-owner");
      const tarball = archive?.[archive.indexOf("-cf") + 1];
      expect(engine.imports).toEqual([{ tarballPath: tarball, reference: "prodlike-test/base:1" }]);
    },
  );

  it.skipIf(process.getuid?.() !== 0)("never imports when tar fails", async () => {
    const engine = new FakeEngine();
    const runner = new ProgramRunner({ debootstrap: 0, tar: 2 });
    await expect(offline(engine, runner, true)).rejects.toMatchObject({ code: "COMMAND_FAILED" });
    expect(engine.imports).toEqual([]);
  });

  it("names the missing tool", async () => {
    const runner = new ProgramRunner({});
    await expect(offline(new FakeEngine(), runner)).rejects.toMatchObject({ code: "TOOL_MISSING" });
  });
});
