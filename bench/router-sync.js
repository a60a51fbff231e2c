// What the local router costs an `up` on its critical path: the sync after the backend is
// up (the lock every user of the engine shares, the listings, the loaded configuration's
// hash read from the engine) when the environment's routes are already loaded, as the
// sync during the health wait leaves them. A fresh process per round.
import { execa } from "execa";
import { benchProject, median } from "./lib.js";

const ROUNDS = 9;

// As in `up`: the sync during the health wait (loading the sync's modules, bringing the
// router in line) comes first; the sync after the backend's up, the one a user waits for,
// is timed.
const SCRIPT = `
const [{ createCoreServices }, { syncRouter }, { SilentProgress }] = await Promise.all([
  import("./dist/core/services.js"),
  import("./dist/core/router.js"),
  import("./dist/ui/plain-progress.js"),
]);
const services = await createCoreServices(process.env);
await syncRouter(services, new SilentProgress());
const started = process.hrtime.bigint();
const state = await syncRouter(services, new SilentProgress());
if (!state?.running) throw new Error("the router is not running");
process.stdout.write(String(Number(process.hrtime.bigint() - started) / 1e6));
`;

async function oneSync(home) {
  const { stdout } = await execa("node", ["--input-type=module", "-e", SCRIPT], {
    cwd: new URL("..", import.meta.url),
    env: { ...process.env, PRODLIKE_HOME: home, NO_COLOR: "1" },
  });
  return Number(stdout);
}

export async function routerSyncBench() {
  const project = await benchProject("bench-sync");
  try {
    await project.cli(["up", "--json"]);
    await oneSync(project.home);
    const times = [];
    for (let round = 0; round < ROUNDS; round++) times.push(await oneSync(project.home));
    const ms = median(times);
    return {
      name: "router: sync on up's critical path (routes loaded)",
      ours: ms,
      goal: "<= 100 ms",
      met: ms <= 100,
      detail: `median ${ms.toFixed(0)} ms of ${times.map((time) => time.toFixed(0)).join(", ")} ms (a fresh process each)`,
    };
  } finally {
    await project.cli(["destroy", "--keep-images"]).catch(() => undefined);
    await project.cleanup();
  }
}
