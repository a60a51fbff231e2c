import { copyFile, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fnv1a64, loadConfig } from "../../../src/config/load-config.js";
import { ProdlikeError } from "../../../src/errors/prodlike-error.js";

// Each test gets its own state folder, so the validated-config cache starts empty.
const freshEnv = async () => ({
  PRODLIKE_HOME: await mkdtemp(path.join(os.tmpdir(), "prodlike-home-")),
});

async function projectWith(yaml: string | undefined): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-config-"));
  if (yaml !== undefined) await writeFile(path.join(dir, "prodlike.yaml"), yaml);
  return dir;
}

async function errorOf(yaml: string): Promise<ProdlikeError> {
  const error = await loadConfig(await projectWith(yaml), await freshEnv()).catch(
    (caught: unknown) => caught,
  );
  if (!(error instanceof ProdlikeError))
    throw new Error(`expected a ProdlikeError, got ${String(error)}`);
  return error;
}

describe("loadConfig", () => {
  it("uses the Drupal preset and the folder as code root when there is no file", async () => {
    const dir = await projectWith(undefined);
    const loaded = await loadConfig(dir, await freshEnv());
    expect(loaded.file).toBeUndefined();
    expect(loaded.codeRoot).toBe(dir);
    expect(loaded.config.preset).toBe("drupal");
  });

  it("reads a valid file", async () => {
    const loaded = await loadConfig(
      await projectWith("name: shop\ndocroot: web\nports: { web: 9000 }\nenv: { DEBUG: 1 }\n"),
      await freshEnv(),
    );
    expect(loaded.config).toMatchObject({
      name: "shop",
      docroot: "web",
      ports: { web: 9000 },
      env: { DEBUG: "1" },
    });
  });

  it("names file, line and field for a wrong type, with exit code 2", async () => {
    const error = await errorOf("name: shop\nports:\n  web: eighty\n");
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/prodlike\.yaml:3: field `ports\.web`/);
    expect(error.location).toMatchObject({ line: 3, field: "ports.web" });
    expect(error.hint).toBeTruthy();
  });

  it("names the line of an unknown key and lists the known ones", async () => {
    const error = await errorOf("name: shop\n\ndocrot: web\n");
    expect(error.message).toMatch(/prodlike\.yaml:3: unknown field `docrot`/);
    expect(error.hint).toContain("docroot");
  });

  it("rejects a docroot that leaves the code root", async () => {
    const error = await errorOf("docroot: ../elsewhere\n");
    expect(error.message).toMatch(/:1: field `docroot`/);
  });

  it("reports YAML syntax errors with their line", async () => {
    const error = await errorOf("name: shop\nports:\n  web: [8080\n");
    expect(error.code).toBe("CONFIG_SYNTAX");
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/prodlike\.yaml:\d+:/);
  });

  it("rejects duplicate keys instead of silently taking the last", async () => {
    const error = await errorOf("name: a\nname: b\n");
    expect(error.code).toBe("CONFIG_SYNTAX");
  });

  it("serves an unchanged, valid file from the cache and re-validates a changed one", async () => {
    const env = await freshEnv();
    const dir = await projectWith("name: shop\nports:\n  web: 9000\n");
    const first = await loadConfig(dir, env);
    const second = await loadConfig(dir, env);
    expect(second.config).toEqual(first.config);
    // A cache hit still locates fields for later errors.
    expect((await second.locator())(["ports", "web"])).toBe(`${path.join(dir, "prodlike.yaml")}:3`);
    await writeFile(path.join(dir, "prodlike.yaml"), "name: shop\nports:\n  web: nine\n");
    const error = await loadConfig(dir, env).catch((caught: unknown) => caught);
    expect((error as ProdlikeError).code).toBe("CONFIG_INVALID");
  });

  it("never serves one folder's cached config to another whose entry name clashes", async () => {
    const env = await freshEnv();
    const valid = await projectWith("name: shop\n");
    const broken = await projectWith("name: shop\nports:\n  web: nine\n");
    await loadConfig(valid, env);
    // The entry name is a short hash of the folder: a clash is forced by copying the file.
    const entries = path.join(env.PRODLIKE_HOME, "config-cache");
    await copyFile(
      path.join(entries, `${fnv1a64(valid)}.json`),
      path.join(entries, `${fnv1a64(broken)}.json`),
    );
    const error = await loadConfig(broken, env).catch((caught: unknown) => caught);
    expect((error as ProdlikeError).code).toBe("CONFIG_INVALID");
  });

  it("names cache entries with FNV-1a 64 (its published test vectors)", () => {
    expect(fnv1a64("")).toBe("cbf29ce484222325");
    expect(fnv1a64("a")).toBe("af63dc4c8601ec8c");
    expect(fnv1a64("foobar")).toBe("85944171f73967e8");
  });

  it("fails clearly for a code root that does not exist", async () => {
    const error = await loadConfig("/nonexistent/prodlike-test", await freshEnv()).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ProdlikeError);
    expect((error as ProdlikeError).code).toBe("CODE_ROOT_MISSING");
  });
});
