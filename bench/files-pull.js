// `prodlike files pull` against the raw baseline a developer would type: `rsync -a` over
// the same ssh (same key, same known_hosts) from the same production container, into an
// empty folder (a first pull) and again with nothing changed (the second pull).
import { appendFile, rm } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { pullConfigYaml, startProductionServer } from "../test/support/production-server.js";
import { alternate, benchProject, fmt, median, timed } from "./lib.js";

const FILES = Number(process.env.BENCH_FILES ?? 5000);
const MEGABYTES = Number(process.env.BENCH_FILES_MB ?? 500);

export async function filesPullBench() {
  const production = await startProductionServer("bench-files");
  const project = await benchProject("bench-files");
  try {
    const size = Math.floor((MEGABYTES * 1e6) / FILES);
    await execa("docker", [
      "exec",
      production.name,
      "sh",
      "-c",
      `set -e; for d in $(seq 1 50); do mkdir -p /srv/files/d$d; done; i=0; while [ $i -lt ${FILES} ]; do i=$((i+1)); head -c ${size} /dev/urandom > /srv/files/d$((i % 50 + 1))/f$i.jpg; done; chown -R deploy /srv/files`,
    ]);
    await appendFile(
      path.join(project.dir, "prodlike.yaml"),
      `${pullConfigYaml(production)}files:\n  from: prod\n  remote: /srv/files\n  exclude: []\n`,
    );
    const ours = path.join(project.dir, "web", "sites", "default", "files");
    const raw = path.join(project.base, "raw-files");
    const ssh = `ssh -o BatchMode=yes -o UserKnownHostsFile=${production.knownHosts} -i ${production.identityFile} -o IdentitiesOnly=yes -l deploy`;
    const rawPull = () =>
      execa("rsync", ["-a", "--delete", "-e", ssh, `${production.ip}:/srv/files/`, `${raw}/`]);
    const ourPull = () => project.cli(["files", "pull", "--json"]);

    const first = { raw: [], ours: [] };
    const again = { raw: [], ours: [] };
    // Each side starts from an empty folder with the page cache flushed (`sync`), so the
    // writeback of the previous 500 MB never lands in the next one's time.
    const settle = () => execa("sync");
    for (let round = 0; round < 3; round++) {
      await alternate(
        async () => {
          await rm(raw, { recursive: true, force: true });
          await settle();
          first.raw.push((await timed(rawPull)).ms);
          again.raw.push((await timed(rawPull)).ms);
        },
        async () => {
          await rm(ours, { recursive: true, force: true });
          await settle();
          first.ours.push((await timed(ourPull)).ms);
          again.ours.push((await timed(ourPull)).ms);
        },
      );
    }
    const ratio = median(first.ours) / median(first.raw);
    const noChange = median(again.ours) / median(again.raw);
    return [
      {
        name: "files pull vs raw rsync -a over ssh (first pull)",
        ratio,
        goal: "<= 1.1",
        met: ratio <= 1.1,
        detail: `${FILES} files, ${MEGABYTES} MB: prodlike ${first.ours.map(fmt).join(", ")} | raw ${first.raw.map(fmt).join(", ")}; ratio is prodlike/raw (medians)`,
      },
      {
        // The issue asks for this comparison without a goal: rsync's own no-change run is
        // ~0.3 s, so prodlike's start (~0.2 s) is most of the ratio.
        name: "files pull vs raw rsync, nothing changed",
        ratio: noChange,
        goal: "reported",
        informational: true,
        detail: `prodlike ${again.ours.map(fmt).join(", ")} | raw ${again.raw.map(fmt).join(", ")} (prodlike includes its own start, ~0.2 s)`,
      },
    ];
  } finally {
    await project.cleanup();
    await production.stop();
  }
}
