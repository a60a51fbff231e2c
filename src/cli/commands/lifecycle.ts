import { spawn } from "node:child_process";
import type { BackendName } from "../../backends/backend.js";
import { namedEnvironment } from "../../core/environments.js";
import { keep, type LifetimeChange, setLifetime, sleep, wake } from "../../core/lifecycle.js";
import type { CoreServices } from "../../core/services.js";
import { runningWaker, serveWaker, wakerAddress } from "../../core/waker.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { parseTtl } from "../../ui/duration.js";
import { formatStatus } from "../format.js";
import type { Output } from "../output.js";
import { lockTimeoutMs, secondsFlag, services } from "./common.js";

// keep, ttl, sleep, wake: an environment's life between `up` and `destroy`. ENV is an id
// from `prodlike ls` or a name of this project (as --name).

interface LifecycleFlags {
  dir: string;
  name?: string;
  backend?: BackendName;
  lockTimeout?: string;
  healthTimeout?: string;
  off?: boolean;
  force?: boolean;
}

export async function keepCommand(output: Output, flags: LifecycleFlags, env?: string) {
  const core = await services();
  const status = await keep(core, {
    ...(await namedEnvironment(core, flags, env)),
    off: flags.off ?? false,
  });
  output.result("keep", { urls: status.urls, environment: status }, () =>
    flags.off
      ? `${status.id} is no longer kept: gc removes it once its lifetime ends.`
      : `${status.id} is kept: gc never removes it (\`prodlike keep ${status.name} --off\` lets it go).`,
  );
  return 0;
}

export async function ttlCommand(
  output: Output,
  flags: LifecycleFlags,
  first: string,
  second?: string,
) {
  // `ttl +4h` (this environment) or `ttl ENV +4h`.
  const [env, duration] = second === undefined ? [undefined, first] : [first, second];
  const core = await services();
  const status = await setLifetime(core, {
    ...(await namedEnvironment(core, flags, env)),
    change: lifetimeChange(duration),
  });
  output.result("ttl", { urls: status.urls, environment: status }, () =>
    status.expiresAt
      ? `${status.id} lives until ${status.expiresAt}${status.kept ? " (kept: gc leaves it anyway)" : ""}.`
      : `${status.id} has no lifetime: gc never removes it.`,
  );
  return 0;
}

/** `+4h`: extend; `4h`: from now; `never`: none. */
export function lifetimeChange(text: string): LifetimeChange {
  const extend = text.startsWith("+");
  const parsed = parseTtl(extend ? text.slice(1) : text, "the lifetime");
  if (parsed === "never") {
    if (extend) throw new ProdlikeError("USAGE", "+never is no lifetime: write `never`");
    return "never";
  }
  return extend ? { extendMs: parsed } : { setMs: parsed };
}

export async function sleepCommand(output: Output, flags: LifecycleFlags, env?: string) {
  const core = await services();
  const progress = await output.progress();
  const waker = await startWaker(core);
  if (!waker) {
    progress.warn(
      "No waker (the local router is off or not running): only `prodlike wake` or `up` wakes it.",
    );
  }
  const request = {
    ...(await namedEnvironment(core, flags, env)),
    lockTimeoutMs: lockTimeoutMs(flags),
  };
  let status = await sleep(core, { ...request, waker }, progress);
  // The waker found may have been leaving meanwhile (nothing was left for it to do, and
  // this environment was not asleep yet when it last looked): then the record names a
  // waker that is gone, and is made again for a new one.
  const still = await runningWaker(core);
  if (waker && (!still || `${still.address}:${still.port}` !== waker)) {
    status = await sleep(core, { ...request, waker: await startWaker(core) }, progress);
  }
  output.result("sleep", { urls: status.urls, environment: status }, () =>
    formatStatus(status, output.colour),
  );
  return 0;
}

export async function wakeCommand(output: Output, flags: LifecycleFlags, env?: string) {
  const core = await services();
  const status = await wake(
    core,
    {
      ...(await namedEnvironment(core, flags, env)),
      lockTimeoutMs: lockTimeoutMs(flags),
      healthTimeoutMs: secondsFlag(flags.healthTimeout ?? "300", "--health-timeout"),
    },
    await output.progress(),
  );
  output.result("wake", { urls: status.urls, environment: status }, () =>
    formatStatus(status, output.colour),
  );
  return 0;
}

// The user's waker (see core/waker.ts), started as a process of its own that outlives
// this command, unless one runs already; its ADDRESS:PORT.
export async function startWaker(core: CoreServices): Promise<string | undefined> {
  const running = await runningWaker(core);
  if (running) return `${running.address}:${running.port}`;
  const address = await wakerAddress(core);
  const cli = process.argv[1];
  if (!address || !cli) return undefined;
  spawn(process.execPath, [cli, "waker", "--address", address], {
    detached: true,
    stdio: "ignore",
    env: process.env,
  }).unref();
  for (let tries = 0; tries < 100; tries++) {
    const started = await runningWaker(core);
    if (started) return `${started.address}:${started.port}`;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

/** `prodlike waker` (started by `sleep`): wakes the user's sleeping environments on request. */
export async function wakerCommand(_output: Output, flags: { address?: string; port?: string }) {
  const core = await services();
  const address = flags.address ?? (await wakerAddress(core));
  if (!address) {
    throw new ProdlikeError(
      "USAGE",
      "No address to listen on: the local router's network is not there",
      {
        hint: "Start an environment (`prodlike up`) so the router runs, or give --address.",
      },
    );
  }
  await serveWaker(core, { address, ...(flags.port ? { port: Number(flags.port) } : {}) });
  return 0;
}
