import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type {
  Backend,
  EnvironmentStatus,
  StreamExecRequest,
  StreamExecResult,
} from "../../../src/backends/backend.js";
import { runPresetSteps } from "../../../src/core/preset-steps.js";
import { loadPreset } from "../../../src/topology/preset-loader.js";
import { SilentProgress } from "../../../src/ui/plain-progress.js";

// The steps presets declare for after a data change, run against a backend that records
// what it is asked to run (and answers with the exit codes a test gives).

interface Call {
  service: string;
  command: string[];
  stdin: string;
}

function recordingBackend(exitCodes: Record<string, number> = {}): {
  backend: Backend;
  calls: Call[];
} {
  const calls: Call[] = [];
  const backend = {
    async execStream(_envId: string, request: StreamExecRequest): Promise<StreamExecResult> {
      let stdin = "";
      if (request.stdin) {
        for await (const chunk of request.stdin as Readable) stdin += String(chunk);
      }
      calls.push({ service: request.service, command: request.command, stdin });
      const exitCode = exitCodes[request.service] ?? 0;
      return { exitCode, stdout: "", stderr: exitCode ? "it broke" : "" };
    },
  } as unknown as Backend;
  return { backend, calls };
}

function status(services: { name: string; role: string }[]): EnvironmentStatus {
  return {
    id: "shop-local",
    project: "shop",
    name: "local",
    backend: "compose",
    preset: "x",
    codeRoot: "/x",
    state: "running",
    services: services.map((service) => ({
      ...service,
      state: "running",
      health: "none",
      ports: [],
    })),
    urls: {},
    createdAt: "",
  };
}

const VALUES = {
  codePath: "/var/www/html",
  urls: { web: "http://127.0.0.1:8080", secure: "https://local.shop.localhost:8443" },
};

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("preset refresh steps", () => {
  it("OpenMage: reloads php-fpm, points the store's URLs here (SQL-quoted), empties its caches", async () => {
    const preset = (await loadPreset("openmage")).definition;
    const { backend, calls } = recordingBackend();
    const done = await runPresetSteps(
      backend,
      status([
        { name: "php-fpm", role: "php" },
        { name: "db", role: "db" },
        { name: "redis", role: "cache" },
        { name: "varnish", role: "proxy" },
      ]),
      preset.refresh,
      { codeRoot: "/x", progress: new SilentProgress(), values: async () => VALUES },
    );
    expect(done).toEqual([
      "php-fpm reloaded (APCu, opcache)",
      "base URLs set to http://127.0.0.1:8080/ (secure: https://local.shop.localhost:8443/)",
      "var/cache emptied",
      "redis cache database flushed",
    ]);
    const sql = calls.find((call) => call.service === "db")?.stdin ?? "";
    expect(sql).toContain("table_name = 'core_config_data'");
    expect(sql).toContain(
      "SET value = 'http://127.0.0.1:8080/' WHERE path = 'web/unsecure/base_url'",
    );
    expect(sql).toContain(
      "SET value = 'https://local.shop.localhost:8443/' WHERE path = 'web/secure/base_url'",
    );
    // A CDN's media URL goes back to OpenMage's own placeholder, kept as it is.
    expect(sql).toContain(
      "SET value = CONCAT('{', '{unsecure_base_url}}media/') WHERE path = 'web/unsecure/base_media_url' AND value LIKE 'http%'",
    );
    expect(sql).toContain("SET value = 'mail' WHERE path = 'system/smtp/host'");
    expect(sql).toContain("SET value = NULL WHERE path = 'web/cookie/cookie_domain'");
    // Varnish only on `cache purge`.
    expect(calls.some((call) => call.service === "varnish")).toBe(false);
    expect(calls.find((call) => call.service === "php-fpm")?.command).toEqual([
      "sh",
      "-c",
      "kill -USR2 1",
    ]);
  });

  it("quotes what goes into SQL: a URL cannot end the string", async () => {
    const preset = (await loadPreset("openmage")).definition;
    const { backend, calls } = recordingBackend();
    await runPresetSteps(backend, status([{ name: "db", role: "db" }]), preset.refresh, {
      codeRoot: "/x",
      progress: new SilentProgress(),
      values: async () => ({
        ...VALUES,
        urls: { web: "http://x/'; DROP TABLE t; --", secure: "" },
      }),
    });
    expect(calls[0]?.stdin).toContain("'http://x/''; DROP TABLE t; --/'");
  });

  it("Drupal: drush cache:rebuild only where the site has drush; a failure is a warning", async () => {
    const preset = (await loadPreset("drupal")).definition;
    dir = await mkdtemp(path.join(os.tmpdir(), "prodlike-steps-"));
    const services = status([
      { name: "php-fpm", role: "php" },
      { name: "cli", role: "cli" },
    ]);
    const without = recordingBackend();
    const quiet = new SilentProgress();
    expect(
      await runPresetSteps(without.backend, services, preset.refresh, {
        codeRoot: dir,
        progress: quiet,
        values: async () => VALUES,
      }),
    ).toEqual(["php-fpm reloaded (APCu, opcache)"]);
    await mkdir(path.join(dir, "vendor", "bin"), { recursive: true });
    await writeFile(path.join(dir, "vendor", "bin", "drush"), "");
    const failing = recordingBackend({ cli: 1 });
    const warned = new SilentProgress();
    const done = await runPresetSteps(failing.backend, services, preset.refresh, {
      codeRoot: dir,
      progress: warned,
      values: async () => VALUES,
    });
    expect(done).toEqual(["php-fpm reloaded (APCu, opcache)"]);
    expect(warned.warnings.join("\n")).toContain("drush cache:rebuild failed; run it yourself");
    expect(failing.calls.find((call) => call.service === "cli")?.command).toEqual([
      "sh",
      "-c",
      "vendor/bin/drush cache:rebuild",
    ]);
  });

  it("skips a step whose role no running service has", async () => {
    const preset = (await loadPreset("openmage")).definition;
    const { backend, calls } = recordingBackend();
    expect(
      await runPresetSteps(backend, status([]), preset.refresh, {
        codeRoot: "/x",
        progress: new SilentProgress(),
        values: async () => VALUES,
      }),
    ).toEqual([]);
    expect(calls).toEqual([]);
  });
});
