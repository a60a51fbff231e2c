import { describe, expect, it } from "vitest";
import {
  SeedLabel,
  SeedVolumes,
  seedVolumeName,
} from "../../../../src/backends/compose/seed-volumes.js";
import { ProdlikeError } from "../../../../src/errors/prodlike-error.js";
import { Label } from "../../../../src/topology/labels.js";
import { drupalTopology } from "../../../support/drupal-topology.js";
import { FakeEngine } from "../../../support/fake-engine.js";
import { FakeRunner } from "../../../support/fake-runner.js";

// The docker calls a copy-on-write seed is made and layered with, recorded (the real
// engine's behaviour is the integration suite's: seed-layers.test.ts).

const SEED = "shop-local-base-0123456789ab";
const ENV = "shop-local";

function seedEngine(): FakeEngine {
  const engine = new FakeEngine();
  engine.volumes.push({
    name: seedVolumeName(SEED),
    labels: {
      [SeedLabel.seed]: SEED,
      [SeedLabel.source]: "shop-main",
      [SeedLabel.snapshot]: "base",
      [SeedLabel.image]: "prodlike/mariadb:abc",
    },
  });
  return engine;
}

const mountpoints = (names: string[]) =>
  `docker volume inspect --format {{.Mountpoint}} ${names.join(" ")}`;

describe("SeedVolumes", () => {
  it("layers a volume on its seed: the seed below, the environment's own upper and work volumes, then one mount to check", async () => {
    const topology = await drupalTopology();
    const engine = seedEngine();
    const runner = new FakeRunner()
      .on(`docker volume create ${labels(topology, `${ENV}_db-data`)} ${ENV}_db-data-upper`, {})
      .on(`docker volume create ${labels(topology, `${ENV}_db-data`)} ${ENV}_db-data-work`, {})
      .on(mountpoints([seedVolumeName(SEED), `${ENV}_db-data-upper`, `${ENV}_db-data-work`]), {
        stdout:
          "/var/lib/docker/volumes/s/_data\n/var/lib/docker/volumes/u/_data\n/var/lib/docker/volumes/w/_data\n",
      });
    const seeds = new SeedVolumes(runner, engine);
    // The overlay volume's create and the check answer 0 for any argv of theirs.
    const run = runner.run.bind(runner);
    runner.run = async (file, args, options) => {
      if (args[0] === "volume" && args.includes("type=overlay")) {
        runner.calls.push([file, ...args]);
        return { exitCode: 0, stdout: "", stderr: "", notFound: false };
      }
      if (args[0] === "run") {
        runner.calls.push([file, ...args]);
        return { exitCode: 0, stdout: "", stderr: "", notFound: false };
      }
      return run(file, args, options);
    };
    const result = await seeds.layer(topology, { volume: "db-data", seed: SEED, check: "true" });
    expect(result).toEqual({ layered: true });
    const overlay = runner.calls.find((call) => call.includes("type=overlay")) ?? [];
    expect(overlay).toContain(
      "o=lowerdir=/var/lib/docker/volumes/s/_data,upperdir=/var/lib/docker/volumes/u/_data,workdir=/var/lib/docker/volumes/w/_data",
    );
    expect(overlay).toContain(`${SeedLabel.layeredOn}=${SEED}`);
    expect(overlay).toContain(`${Label.env}=${ENV}`);
    expect(overlay.at(-1)).toBe(`${ENV}_db-data`);
    const check = runner.calls.find((call) => call[1] === "run") ?? [];
    expect(check).toContain("prodlike/mariadb:abc");
    expect(check).toContain(`type=volume,source=${ENV}_db-data,target=/prodlike-layered`);
  });

  it("answers why not, and leaves nothing, when the engine cannot mount the overlay", async () => {
    const topology = await drupalTopology();
    const engine = seedEngine();
    const runner = new FakeRunner();
    runner.run = async (file, args) => {
      runner.calls.push([file, ...args]);
      if (args[0] === "run") {
        return {
          exitCode: 125,
          stdout: "",
          stderr:
            "docker: Error response from daemon: error while mounting volume: invalid argument.",
          notFound: false,
        };
      }
      if (args[1] === "inspect") {
        return { exitCode: 0, stdout: "/a\n/b\n/c\n", stderr: "", notFound: false };
      }
      if (args[1] === "create") engine.volumes.push({ name: args.at(-1) ?? "", labels: {} });
      return { exitCode: 0, stdout: "", stderr: "", notFound: false };
    };
    const result = await new SeedVolumes(runner, engine).layer(topology, {
      volume: "db-data",
      seed: SEED,
      check: "true",
    });
    expect(result.layered).toBe(false);
    expect(result.layered === false && result.reason).toContain("cannot mount an overlay");
    expect(engine.volumes.map((volume) => volume.name)).toEqual([seedVolumeName(SEED)]);
  });

  it("refuses a volume folder overlayfs' options cannot name", async () => {
    const topology = await drupalTopology();
    const engine = seedEngine();
    const runner = new FakeRunner();
    runner.run = async (file, args) => {
      runner.calls.push([file, ...args]);
      if (args[1] === "inspect") {
        return { exitCode: 0, stdout: "/a,b\n/b\n/c\n", stderr: "", notFound: false };
      }
      if (args[1] === "create") engine.volumes.push({ name: args.at(-1) ?? "", labels: {} });
      return { exitCode: 0, stdout: "", stderr: "", notFound: false };
    };
    await expect(
      new SeedVolumes(runner, engine).layer(topology, {
        volume: "db-data",
        seed: SEED,
        check: "true",
      }),
    ).rejects.toBeInstanceOf(ProdlikeError);
    expect(engine.volumes.map((volume) => volume.name)).toEqual([seedVolumeName(SEED)]);
  });

  it("lists seeds with the environments layered on them, and removes only unused ones", async () => {
    const engine = seedEngine();
    engine.volumes.push({
      name: seedVolumeName("other"),
      labels: {
        [SeedLabel.seed]: "other",
        [SeedLabel.source]: "shop-main",
        [SeedLabel.snapshot]: "old",
      },
    });
    engine.volumes.push({
      name: "shop-qa1_db-data",
      labels: { [Label.env]: "shop-qa1", [SeedLabel.layeredOn]: SEED },
    });
    const seeds = new SeedVolumes(new FakeRunner(), engine);
    expect(await seeds.list()).toEqual([
      { name: SEED, source: "shop-main", snapshot: "base", users: ["shop-qa1"] },
      { name: "other", source: "shop-main", snapshot: "old", users: [] },
    ]);
    expect(await seeds.layeredVolumes("shop-qa1")).toEqual({ "db-data": "shop-qa1_db-data" });
    expect(await seeds.layeredVolumes("shop-qa2")).toEqual({});
    expect(await seeds.removeUnused()).toEqual(["other"]);
    expect(engine.volumes.map((volume) => volume.name)).toContain(seedVolumeName(SEED));
  });
});

function labels(topology: Awaited<ReturnType<typeof drupalTopology>>, overlay: string): string {
  const identity = topology.identity;
  return [
    [Label.managed, "true"],
    [Label.env, identity.id],
    [Label.project, identity.project],
    [Label.name, identity.name],
    [Label.preset, topology.preset],
    [Label.backend, "compose"],
    [Label.codeRoot, topology.codeRoot],
    [SeedLabel.layerOf, overlay],
  ]
    .map(([key, value]) => `--label ${key}=${value}`)
    .join(" ");
}
