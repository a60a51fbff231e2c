// QA's fleet from one snapshot (issue #30): a 1 GB database snapshotted, then
// - seeded `up --seed-from local:base` (layered on the snapshot's seed, nothing copied)
//   against an unseeded `up` of the same project (an empty database), both of a new
//   environment with the images built; goal <= 1.3. The first seeded `up` also makes the
//   seed (one copy of the prepared snapshot on the engine): timed and reported apart.
// - the disk of 10 seeded environments, each having written its own row (the seed once,
//   plus their upper layers: `du -sk`, allocated blocks) against the disk of one seeded
//   environment (the seed plus its upper layer); goal <= 1.2. The disk of a copied
//   environment's database volume is reported beside it.
// - `wake` of a sleeping environment against a warm `up` (after `down`: containers and
//   images there); goal <= 1.0.
import { execa } from "execa";
import { benchProject, fmt, median, timed } from "./lib.js";

const ROWS = Number(process.env.BENCH_SEED_ROWS ?? 1_000_000);

// Each measurement as it is made (stderr): a long run that fails late still says them.
const note = (text) => process.stderr.write(`seed bench: ${text}\n`);
const FLEET = Number(process.env.BENCH_SEED_FLEET ?? 10);

async function fill(project, rows) {
  const sql = `DROP TABLE IF EXISTS big; CREATE TABLE big (id int PRIMARY KEY, v varchar(1000)) ENGINE=InnoDB; INSERT INTO big SELECT seq, REPEAT(SHA2(seq, 256), 15) FROM seq_1_to_${rows}; CREATE TABLE IF NOT EXISTS greeting (id INT PRIMARY KEY, message VARCHAR(255) NOT NULL);`;
  await project.cli(["exec", "db", "--", "sh", "-c", `mariadb "$MARIADB_DATABASE" -e "${sql}"`]);
}

/** Allocated KiB of each volume, read in one throwaway container of `image`. */
async function volumeKiB(image, volumes) {
  const { stdout } = await execa("docker", [
    "run",
    "--rm",
    "--network",
    "none",
    ...volumes.flatMap((volume, index) => [
      "--mount",
      `type=volume,source=${volume},target=/v/${index},readonly`,
    ]),
    "--entrypoint",
    "sh",
    image,
    "-c",
    'for dir in /v/*; do du -sk "$dir"; done',
  ]);
  const sizes = new Map();
  for (const line of stdout.split("\n")) {
    const match = /^(\d+)\s+\/v\/(\d+)$/.exec(line.trim());
    if (match) sizes.set(volumes[Number(match[2])], Number(match[1]));
  }
  return volumes.map((volume) => sizes.get(volume) ?? 0);
}

async function dbImage(envId) {
  const { stdout } = await execa("docker", [
    "ps",
    "--filter",
    `label=dev.prodlike.env=${envId}`,
    "--filter",
    "label=dev.prodlike.service=db",
    "--format",
    "{{.Image}}",
  ]);
  return stdout.trim().split("\n")[0];
}

async function seedVolume(envId) {
  const { stdout } = await execa("docker", [
    "volume",
    "ls",
    "-q",
    "--filter",
    `label=dev.prodlike.seed.source=${envId}`,
  ]);
  return stdout.trim().split("\n")[0];
}

export async function seedLayersBench() {
  const project = await benchProject("bench-seed");
  const fleet = Array.from({ length: FLEET }, (_, index) => `fleet-${index + 1}`);
  const made = ["prime", "plain-1", "plain-2", "seeded-1", "seeded-2", "sleepy", ...fleet];
  const envId = (name) => `${project.name}-${name}`;
  try {
    await project.cli(["up"]);
    await fill(project, ROWS);
    await project.cli(["snapshot", "create", "base"]);
    const image = await dbImage(envId("local"));
    const [localKiB] = await volumeKiB(image, [`${envId("local")}_db-data`]);

    // The first seeded up makes the seed; the others start on it.
    const prime = await timed(() =>
      project.cli(["up", "--name", "prime", "--seed-from", "local:base", "--json"]),
    );
    const seed = await seedVolume(envId("local"));

    const plain = [];
    const seeded = [];
    for (const round of [1, 2]) {
      const runPlain = async () =>
        plain.push((await timed(() => project.cli(["up", "--name", `plain-${round}`]))).ms);
      const runSeeded = async () =>
        seeded.push(
          (
            await timed(() =>
              project.cli(["up", "--name", `seeded-${round}`, "--seed-from", "local:base"]),
            )
          ).ms,
        );
      // Alternated: neither always meets the warmer cache.
      if (round === 1) {
        await runPlain();
        await runSeeded();
      } else {
        await runSeeded();
        await runPlain();
      }
    }
    const upRatio = median(seeded) / median(plain);
    note(
      `seeded ${seeded.map(fmt).join(", ")} | unseeded ${plain.map(fmt).join(", ")} | first seeded (made the seed) ${fmt(prime.ms)}`,
    );

    // The fleet, each writing its own row.
    for (const [index, name] of fleet.entries()) {
      await project.cli(["up", "--name", name, "--seed-from", "local:base"]);
      await project.cli([
        "exec",
        "--name",
        name,
        "db",
        "--",
        "sh",
        "-c",
        `mariadb "$MARIADB_DATABASE" -e "INSERT INTO greeting VALUES (${index + 100}, '${name}')"`,
      ]);
    }
    const uppers = await volumeKiB(
      image,
      fleet.map((name) => `${envId(name)}_db-data-upper`),
    );
    const [seedKiB] = await volumeKiB(image, [seed]);
    const one = seedKiB + (uppers[0] ?? 0);
    const all = seedKiB + uppers.reduce((sum, kib) => sum + kib, 0);
    const diskRatio = all / one;
    note(
      `disk: seed ${seedKiB} KiB, uppers ${uppers.join(", ")} KiB, copied db volume ${localKiB} KiB`,
    );
    for (const name of [...fleet, "prime", "plain-1", "plain-2", "seeded-1", "seeded-2"]) {
      await project.cli(["destroy", "--name", name, "--keep-images"]).catch(() => undefined);
    }

    // Wake against a warm up: the same environment each time.
    await project.cli(["up", "--name", "sleepy"]);
    const wakes = [];
    const warms = [];
    for (const _round of [1, 2]) {
      await project.cli(["sleep", "sleepy"]);
      wakes.push((await timed(() => project.cli(["wake", "sleepy"]))).ms);
      await project.cli(["down", "--name", "sleepy"]);
      warms.push((await timed(() => project.cli(["up", "--name", "sleepy"]))).ms);
    }
    const wakeRatio = median(wakes) / median(warms);
    const mb = (kib) => `${(kib / 1024).toFixed(0)} MB`;
    return [
      {
        name: "seeded up (1 GB snapshot) vs unseeded up",
        ours: median(seeded),
        raw: median(plain),
        ratio: upRatio,
        goal: "<= 1.3",
        met: upRatio <= 1.3,
        detail: `seeded ${seeded.map(fmt).join(", ")} | unseeded ${plain.map(fmt).join(", ")} | the first seeded up, which made the seed (${mb(seedKiB)}): ${fmt(prime.ms)}`,
      },
      {
        name: `disk of ${FLEET} seeded environments vs one`,
        ours: all,
        raw: one,
        ratio: diskRatio,
        goal: "<= 1.2",
        met: diskRatio <= 1.2,
        detail: `seed ${mb(seedKiB)} + upper layers ${uppers.map(mb).join(", ")} = ${mb(all)} | one: ${mb(one)} | a copied environment's database volume: ${mb(localKiB)}`,
      },
      {
        name: "wake vs warm up",
        ours: median(wakes),
        raw: median(warms),
        ratio: wakeRatio,
        goal: "<= 1.0",
        met: wakeRatio <= 1.0,
        detail: `wake ${wakes.map(fmt).join(", ")} | warm up (after down) ${warms.map(fmt).join(", ")}`,
      },
    ];
  } finally {
    for (const name of [...made, "local"]) {
      await project.cli(["destroy", "--name", name, "--keep-images"]).catch(() => undefined);
    }
    await project.cleanup();
  }
}
