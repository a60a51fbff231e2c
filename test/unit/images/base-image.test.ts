import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { baseImageOf } from "../../../src/backends/compose/image-builder.js";
import { parseAptMirror } from "../../../src/images/base-image.js";
import { PRESETS_DIR } from "../../../src/topology/preset-loader.js";

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
  it("reads the FROM image of every Drupal preset image", async () => {
    for (const image of ["nginx", "php-fpm", "cli", "mariadb"]) {
      expect(await baseImageOf(path.join(PRESETS_DIR, "drupal", "images", image))).toBe(
        "debian:bookworm-slim",
      );
    }
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
