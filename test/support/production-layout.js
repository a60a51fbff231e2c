// The round-trip production layout (test/fixtures/manifests/roundtrip.yaml) made runnable
// on this machine: its registry images stand for the preset's images, which a compose
// `up` builds (or finds) and `destroy --keep-images` leaves behind. Plain JavaScript: the
// integration tests and the benchmarks share it.
import { appendFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const ROUNDTRIP_MANIFESTS = fileURLToPath(
  new URL("../fixtures/manifests/roundtrip.yaml", import.meta.url),
);

const STAND_INS = [
  ["registry.example.com/rt/nginx", "web"],
  ["registry.example.com/rt/php", "php-fpm"],
  ["registry.example.com/rt/mariadb", "db"],
];

/** Production's image repositories -> the images a running preset environment uses. */
export async function presetImagesAsProduction(envId) {
  const images = {};
  for (const [from, service] of STAND_INS) {
    const { stdout } = await execa("docker", [
      "ps",
      "--filter",
      `label=dev.prodlike.env=${envId}`,
      "--filter",
      `label=dev.prodlike.service=${service}`,
      "--format",
      "{{.Image}}",
    ]);
    images[from] = stdout.trim();
  }
  return images;
}

/** Points the project's prodlike.yaml at the round-trip layout with those images; with
 *  `from: null`, names no manifests (`prodlike mirror --from` or `up --mirror --from`
 *  then say where). */
export async function writeRoundtripMirrorConfig(dir, images, { from = ROUNDTRIP_MANIFESTS } = {}) {
  await appendFile(
    path.join(dir, "prodlike.yaml"),
    [
      "mirror:",
      ...(from === null ? [] : [`  from: ${from}`]),
      "  images:",
      ...Object.entries(images).map(([from, to]) => `    ${from}: ${to}`),
      "  codeMount: { path: /var/www/html, containers: [nginx, php-fpm] }",
      // What production's custom images run (their tags cannot tell).
      "  runtime:",
      '    php-fpm: { php: "8.4" }',
      '    db/mariadb: { db: "mariadb 11.8" }',
      "",
    ].join("\n"),
  );
}
