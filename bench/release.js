// Releases: how long `up` takes to replace a running release (build check, the snapshot of
// the data as the old release leaves it, the switch, the health waits), against the raw
// baseline on the same rendered files: `compose up -d` of the other release's compose file
// (it recreates the changed containers) + poll until HTTP 200. Then, informational, what
// a failed release costs until the old one serves again (automatic rollback), and
// `rollback` / `rollback --data` by hand.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { alternate, benchProject, composeCommand, fmt, median, pollHttp, timed } from "./lib.js";

const ROUNDS = 4;

export async function releaseBench() {
  const project = await benchProject("bench-release");
  const config = path.join(project.dir, "prodlike.yaml");
  const original = await readFile(config, "utf8");
  const composeFile = path.join(project.dir, ".prodlike", "local", "docker-compose.yml");
  const useRelease = (mark) => writeFile(config, `${original}env:\n  RELEASE_MARK: ${mark}\n`);
  try {
    // Both releases rendered once, their compose files kept for the raw baseline.
    const files = {};
    let up;
    for (const mark of ["a", "b"]) {
      await useRelease(mark);
      up = await project.cli(["up", "--json"]);
      files[mark] = await readFile(composeFile, "utf8");
    }
    const url = up.urls.web;
    const envId = up.environment?.id ?? `${project.name}-local`;
    const compose = await composeCommand();
    const rawFile = path.join(project.base, "raw-compose.yml");
    let running = "b";
    const other = () => (running === "a" ? "b" : "a");

    const ours = [];
    const raw = [];
    const runOurs = async () => {
      const next = other();
      await useRelease(next);
      ours.push((await timed(() => project.cli(["up", "--json"]))).ms);
      running = next;
    };
    const runRaw = async () => {
      const next = other();
      await writeFile(rawFile, files[next]);
      const { ms } = await timed(async () => {
        await execa(compose.file, [...compose.prefix, "-p", envId, "-f", rawFile, "up", "-d"]);
        await pollHttp(`${url}/`, (status) => status === 200);
      });
      raw.push(ms);
      running = next;
      // prodlike's own files say what runs again, so its next `up` is a real switch.
      await useRelease(next);
      await project.cli(["up", "--json"]);
    };
    await alternate(runRaw, runOurs, ROUNDS);

    // By hand: back with the data (the kept release has the snapshot taken at its
    // switch), then forward again on the current data.
    const withData = await timed(() => project.cli(["rollback", "--data", "--json"]));
    const codeOnly = await timed(() => project.cli(["rollback", "--json"]));

    // A release whose php-fpm cannot start: until the old one serves again.
    await writeFile(config, `${original}services:\n  php-fpm:\n    image: debian:trixie-slim\n`);
    const failed = await timed(() =>
      project.cli(["up", "--json", "--health-timeout", "60"]).catch((error) => error),
    );
    const rolledBack = String(failed.value?.message ?? "").includes("(6)");
    const ratio = median(ours) / median(raw);
    return [
      {
        name: "release switch (up with a changed config) vs raw compose up -d + poll",
        ours: median(ours),
        raw: median(raw),
        ratio,
        goal: "informational",
        informational: true,
        met: true,
        detail: `prodlike up ${ours.map(fmt).join(", ")} (snapshot of the data before the switch included) | raw (${compose.label}) ${raw.map(fmt).join(", ")}`,
      },
      {
        name: "automatic rollback; rollback by hand",
        goal: "informational",
        informational: true,
        met: true,
        detail: `up of a release whose php-fpm does not start, until the old one serves again: ${fmt(failed.ms)}${rolledBack ? "" : " (NOT rolled back)"} | rollback --data ${fmt(withData.ms)} | rollback ${fmt(codeOnly.ms)}`,
      },
    ];
  } finally {
    await writeFile(config, original).catch(() => undefined);
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}
