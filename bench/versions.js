// Per runtime variant of the Drupal preset (PHP 8.4 + MariaDB 11.8 on trixie, the
// default; PHP 8.2 + MariaDB 10.11 on bookworm): the cold build (no image of the variant on
// the machine) against raw `docker build --no-cache` of the same Dockerfiles with the same
// build arguments, then `compose up -d` + poll; and the warm `up` against raw compose.
// Then Xdebug: the page's p50 with Xdebug installed but off, against the same page after
// `xdebug on` and `off` again, and with it on (for scale).
import { appendFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import {
  againstRawCompose,
  benchProject,
  composeCommand,
  copyComposeProject,
  fmt,
  median,
  percentile,
  pollHttp,
  repoRoot,
  timed,
} from "./lib.js";

const VARIANTS = [
  {
    label: "PHP 8.4 + MariaDB 11.8 (trixie)",
    config: "",
    suite: "trixie",
    php: "8.4",
    db: "trixie",
  },
  {
    label: "PHP 8.2 + MariaDB 10.11 (bookworm)",
    config: 'php: "8.2"\ndatabase: "mariadb:10.11"\n',
    suite: "bookworm",
    php: "8.2",
    db: "bookworm",
  },
];

// What a person would type to build the preset's images by hand for one variant.
function rawBuilds(variant) {
  const presets = path.join(repoRoot, "presets");
  const php = ["DEBIAN_SUITE", variant.suite, "PHP_VERSION", variant.php, "PHP_EXTRA", ""];
  return [
    { context: path.join(presets, "_shared/images/nginx"), args: ["DEBIAN_SUITE", variant.suite] },
    { context: path.join(presets, "drupal/images/php-fpm"), args: php },
    { context: path.join(presets, "drupal/images/cli"), args: php },
    { context: path.join(presets, "_shared/images/mariadb"), args: ["DEBIAN_SUITE", variant.db] },
  ];
}

async function imagesOf(envId) {
  const { stdout } = await execa("docker", [
    "ps",
    "--filter",
    `label=dev.prodlike.env=${envId}`,
    "--format",
    "{{.Image}}",
  ]);
  return [...new Set(stdout.split("\n").filter(Boolean))];
}

async function coldRow(variant) {
  const project = await benchProject("bench-ver");
  try {
    if (variant.config) await appendFile(path.join(project.dir, "prodlike.yaml"), variant.config);
    const first = await project.cli(["up", "--json"]);
    const url = first.urls.web;
    const images = await imagesOf(`${project.name}-local`);
    const composeFile = await copyComposeProject(path.join(project.dir, ".prodlike", "local"));
    await project.cli(["destroy", "--keep-images"]);

    // Ours, cold: none of the variant's images on the machine.
    await execa("docker", ["rmi", "-f", ...images], { reject: false });
    const ours = (await timed(() => project.cli(["up"]))).ms;
    await project.cli(["destroy", "--keep-images"]);

    // Raw, cold: docker build --no-cache of each image under the tag compose expects, then
    // compose up -d and poll.
    await execa("docker", ["rmi", "-f", ...images], { reject: false });
    const compose = await composeCommand();
    const args = [...compose.prefix, "-p", `${project.name}-raw`, "-f", composeFile];
    const builds = rawBuilds(variant);
    const raw = (
      await timed(async () => {
        for (const [index, build] of builds.entries()) {
          const tag =
            images.find((image) => image.includes(path.basename(build.context))) ??
            `bench-raw/${index}`;
          const buildArgs = [];
          for (let i = 0; i < build.args.length; i += 2) {
            buildArgs.push("--build-arg", `${build.args[i]}=${build.args[i + 1]}`);
          }
          await execa("docker", [
            "build",
            "--no-cache",
            "-q",
            ...buildArgs,
            "-t",
            tag,
            build.context,
          ]);
        }
        await execa(compose.file, [...args, "up", "-d"]);
        await pollHttp(`${url}/`, (status) => status === 200);
      })
    ).ms;
    await execa(compose.file, [...args, "down", "-v", "--timeout", "10"]);
    // The raw builds carry prodlike's tags but not its labels: removed, and prodlike's own
    // (from the layer cache) put back, so nothing unlabelled outlives the benchmark.
    await execa("docker", ["rmi", "-f", ...images], { reject: false });
    await project.cli(["up"]);
    await project.cli(["destroy", "--keep-images"]);

    // Warm: the images present.
    const warm = await againstRawCompose({
      rounds: 3,
      composeFile,
      rawProject: `${project.name}-raw`,
      url,
      up: () => project.cli(["up"]),
      destroy: () => project.cli(["destroy", "--keep-images"]),
    });
    return [
      {
        name: `cold up, ${variant.label}, vs raw build + compose up`,
        ours,
        raw,
        ratio: ours / raw,
        goal: "<= 1.15",
        met: ours / raw <= 1.15,
        detail: `prodlike ${fmt(ours)} | raw docker build --no-cache x${builds.length} + compose up ${fmt(raw)}`,
      },
      {
        name: `warm up, ${variant.label}, vs raw compose`,
        ours: median(warm.ours),
        raw: median(warm.raw),
        ratio: median(warm.ours) / median(warm.raw),
        goal: "<= 1.15",
        met: median(warm.ours) / median(warm.raw) <= 1.15,
        detail: `prodlike ${warm.ours.map(fmt).join(", ")} | raw ${warm.raw.map(fmt).join(", ")}`,
      },
    ];
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}

async function requestP50(url, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    const response = await fetch(`${url}/`);
    await response.text();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return percentile(times, 50);
}

async function xdebugRow() {
  const project = await benchProject("bench-xdebug");
  try {
    const url = (await project.cli(["up", "--json"])).urls.web;
    await requestP50(url, 50);
    const before = await requestP50(url, 300);
    await project.cli(["xdebug", "on"]);
    await pollHttp(`${url}/`, (status) => status === 200);
    const on = await requestP50(url, 300);
    await project.cli(["xdebug", "off"]);
    await pollHttp(`${url}/`, (status) => status === 200);
    const after = await requestP50(url, 300);
    return {
      name: "page p50, Xdebug off after on+off vs off before",
      ours: after,
      raw: before,
      ratio: after / before,
      goal: "<= 1.05",
      met: after / before <= 1.05,
      detail: `p50 of 300: off ${before.toFixed(2)} ms, on (trigger mode) ${on.toFixed(2)} ms, off again ${after.toFixed(2)} ms`,
    };
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}

export async function versionsBench() {
  const rows = [];
  for (const variant of VARIANTS) rows.push(...(await coldRow(variant)));
  rows.push(await xdebugRow());
  return rows;
}
