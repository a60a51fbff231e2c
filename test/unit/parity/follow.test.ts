import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writeRuntimeChoices } from "../../../src/config/edit-config.js";
import { runtimeToFollow } from "../../../src/parity/follow.js";
import type { RuntimeFacts } from "../../../src/parity/runtime-facts.js";
import type { WorkloadView } from "../../../src/parity/workload-view.js";

function view(name: string, runtime: RuntimeFacts): WorkloadView {
  return {
    kind: "Deployment",
    name,
    containers: [{ name, runtime }],
  } as unknown as WorkloadView;
}

describe("runtimeToFollow", () => {
  const production = [
    view("web", { php: { version: "8.4.12", extensions: ["gd", "intl", "redis"] } }),
    view("db", { db: { engine: "mariadb", version: "11.8.3" } }),
  ];

  it("takes production's PHP and database as the versions prodlike offers", () => {
    expect(runtimeToFollow(production, undefined)).toEqual({
      php: "8.4",
      database: "mariadb:11.8",
      notOffered: [],
    });
  });

  it("adds the extensions production loads and the running environment lacks", () => {
    const local = [view("web", { php: { version: "8.2.29", extensions: ["gd", "intl"] } })];
    expect(runtimeToFollow(production, local).addExtensions).toEqual(["redis"]);
  });

  it("names what it cannot follow instead of guessing", () => {
    const old = [
      view("web", { php: { version: "8.1.2" } }),
      view("db", { db: { engine: "mariadb", version: "10.6.18" } }),
    ];
    expect(runtimeToFollow(old, undefined)).toEqual({
      notOffered: ["PHP 8.1.2", "mariadb 10.6.18"],
    });
  });
});

describe("writeRuntimeChoices", () => {
  const folder = () => mkdtemp(path.join(os.tmpdir(), "prodlike-edit-"));

  it("changes only the choices, keeping comments, order and the file's mode", async () => {
    const file = path.join(await folder(), "prodlike.yaml");
    await writeFile(
      file,
      '# the shop\npreset: drupal\nphp: "8.2" # old\ndatabase:\n  name: shop # ours\nphpExtensions: [gd]\n',
      { mode: 0o600 },
    );
    const result = await writeRuntimeChoices(file, {
      php: "8.4",
      database: "mariadb:11.8",
      addExtensions: ["redis", "gd"],
    });
    expect(result.changed).toBe(true);
    expect(await readFile(file, "utf8")).toBe(
      '# the shop\npreset: drupal\nphp: "8.4" # old\ndatabase:\n  name: shop # ours\n  version: mariadb:11.8\nphpExtensions: [ gd, redis ]\n',
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(
      (await writeRuntimeChoices(file, { php: "8.4", database: "mariadb:11.8" })).changed,
    ).toBe(false);
  });

  it("writes a new prodlike.yaml where there was none, and refuses a file that is no mapping", async () => {
    const dir = await folder();
    const file = path.join(dir, "prodlike.yaml");
    await writeRuntimeChoices(file, { database: "postgres:17" });
    expect(await readFile(file, "utf8")).toBe("database: postgres:17\n");
    const list = path.join(dir, "list.yaml");
    await writeFile(list, "- a\n");
    await expect(writeRuntimeChoices(list, { php: "8.4" })).rejects.toMatchObject({
      code: "CONFIG_INVALID",
    });
    expect(await readFile(list, "utf8")).toBe("- a\n");
  });
});
