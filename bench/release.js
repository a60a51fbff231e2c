// Releases: how long `up` takes to replace a running release that changes php-fpm (and the
// cli) only, an env value (build check, the snapshot of the data as the old release leaves
// it, the switch of the changed services alone, the health waits), against the raw
// baseline on the same rendered files: `compose up -d` of the other release's compose file
// (it recreates the same changed containers) + poll until HTTP 200. Measured with the
// snapshot before the switch (the default) and without it (snapshots.beforeRelease:
// false). Then, informational, what a failed release costs until the old one serves again
// (automatic rollback), and `rollback` / `rollback --data` by hand.
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
  let snapshotSetting = "";
  const useRelease = (mark) =>
    writeFile(config, `${original}${snapshotSetting}env:\n  RELEASE_MARK: ${mark}\n`);
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
    // The same switch without the snapshot of the data before it.
    const withSnapshot = ours.splice(0);
    const rawWithSnapshot = raw.splice(0);
    snapshotSetting = "snapshots:\n  beforeRelease: false\n";
    await useRelease(running);
    await project.cli(["up", "--json"]);
    await alternate(runRaw, runOurs, ROUNDS);
    const withoutSnapshot = ours.splice(0);
    const rawWithoutSnapshot = raw.splice(0);
    // A switch with the snapshot again, so the kept release has data for rollback --data.
    snapshotSetting = "";
    running = other();
    await useRelease(running);
    await project.cli(["up", "--json"]);

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
    const ratio = median(withSnapshot) / median(rawWithSnapshot);
    const ratioBare = median(withoutSnapshot) / median(rawWithoutSnapshot);
    return [
      {
        name: "release changing php-fpm only vs raw compose up -d + poll",
        ours: median(withSnapshot),
        raw: median(rawWithSnapshot),
        ratio,
        goal: "<= 1.1",
        met: ratio <= 1.1,
        detail: `prodlike up ${withSnapshot.map(fmt).join(", ")} (snapshot of the data before the switch included) | raw (${compose.label}) ${rawWithSnapshot.map(fmt).join(", ")}`,
      },
      {
        name: "the same release without the snapshot (beforeRelease: false)",
        ours: median(withoutSnapshot),
        raw: median(rawWithoutSnapshot),
        ratio: ratioBare,
        goal: "<= 1.1",
        met: ratioBare <= 1.1,
        detail: `prodlike up ${withoutSnapshot.map(fmt).join(", ")} | raw (${compose.label}) ${rawWithoutSnapshot.map(fmt).join(", ")}`,
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
