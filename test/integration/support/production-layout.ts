import { appendFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { expectOk, type TestProject } from "./harness.js";

// The round-trip production layout (test/fixtures/manifests/roundtrip.yaml) made runnable
// here: its registry images mapped to the preset's images, which a compose `up` builds (or
// finds) and `destroy --keep-images` leaves behind, and prodlike.yaml pointed at it.

export const ROUNDTRIP_MANIFESTS = fileURLToPath(
  new URL("../../fixtures/manifests/roundtrip.yaml", import.meta.url),
);

const STAND_INS = [
  ["registry.example.com/rt/nginx", "web"],
  ["registry.example.com/rt/php", "php-fpm"],
  ["registry.example.com/rt/mariadb", "db"],
] as const;

export async function mirrorRoundtripLayout(project: TestProject): Promise<void> {
  expectOk(await project.cli(["up", "--backend", "compose"]));
  const images: Record<string, string> = {};
  for (const [from, service] of STAND_INS) {
    const { stdout } = await execa("docker", [
      "ps",
      "--filter",
      `label=dev.prodlike.env=${project.name}-local`,
      "--filter",
      `label=dev.prodlike.service=${service}`,
      "--format",
      "{{.Image}}",
    ]);
    images[from] = stdout.trim();
  }
  expectOk(await project.cli(["destroy", "--backend", "compose", "--keep-images"]));
  await appendFile(
    path.join(project.dir, "prodlike.yaml"),
    [
      "mirror:",
      `  from: ${ROUNDTRIP_MANIFESTS}`,
      "  images:",
      ...Object.entries(images).map(([from, to]) => `    ${from}: ${to}`),
      "  codeMount: { path: /var/www/html, containers: [nginx, php-fpm] }",
      // What production's custom images run (their tags cannot tell).
      "  runtime:",
      '    php-fpm: { php: "8.2" }',
      '    db/mariadb: { db: "mariadb 10.11" }',
      "",
    ].join("\n"),
  );
}

/** Which local cluster tools this machine has (their suites are skipped without). */
export async function clusterTools(): Promise<{ kind: boolean; minikube: boolean }> {
  const installed = async (tool: string, args: string[]) =>
    (await execa(tool, args, { reject: false })).exitCode === 0;
  return {
    kind: await installed("kind", ["version"]),
    minikube: await installed("minikube", ["version", "--short"]),
  };
}
