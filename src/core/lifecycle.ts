import type { EnvironmentStatus } from "../backends/backend.js";
import { environmentNotFound } from "../backends/backend.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Progress } from "../ui/steps.js";
import { backendFor, type EnvRequest, whileLocked, withExpiry } from "./environments.js";
import { requireOwnership } from "./ownership.js";
import { openRouter, syncRouter, withRouterUrls } from "./router.js";
import type { CoreServices } from "./services.js";

// A QA environment's life between `up` and `destroy`: kept from gc (`keep`), given more
// time (`ttl`), put to sleep and woken (`sleep`, `wake`) with its data, ports and names.

/** `prodlike keep`: gc never removes it (`off`: it may again, once its lifetime ends). */
export async function keep(
  services: CoreServices,
  request: EnvRequest & { off: boolean },
): Promise<EnvironmentStatus> {
  const { identity, backend, target } = await backendFor(services, request);
  await requireOwnership(services, target, backend, request);
  const found = await backend.status(identity.id);
  if (!found) throw environmentNotFound(identity.id);
  const store = await services.stores.kept();
  if (request.off) await store.remove(identity.id);
  else await store.keep(identity.id, new Date(services.clock.now()));
  const { labelTeamLifetime } = await import("./team-lifetime.js");
  await labelTeamLifetime(services, identity.id);
  return decorated(services, found);
}

/** A change of lifetime: `+4h` extends it (from its end, or from now when it has none or
 *  it is over), `4h` sets it from now, `never` removes it. */
export type LifetimeChange = { extendMs: number } | { setMs: number } | "never";

export async function setLifetime(
  services: CoreServices,
  request: EnvRequest & { change: LifetimeChange },
): Promise<EnvironmentStatus> {
  const { identity, backend, target } = await backendFor(services, request);
  await requireOwnership(services, target, backend, request);
  const found = await backend.status(identity.id);
  if (!found) throw environmentNotFound(identity.id);
  const store = await services.stores.expiry();
  const now = services.clock.now();
  const { change } = request;
  if (change === "never") {
    await store.remove(identity.id);
  } else if ("setMs" in change) {
    await store.set(identity.id, change.setMs, new Date(now));
  } else {
    const current = (await store.all()).get(identity.id);
    const end = current ? Date.parse(current.expiresAt) : now;
    await store.set(identity.id, Math.max(end, now) - now + change.extendMs, new Date(now));
  }
  const { labelTeamLifetime } = await import("./team-lifetime.js");
  await labelTeamLifetime(services, identity.id);
  return decorated(services, found);
}

/** `prodlike sleep`: its containers stopped (CPU and memory freed), its data, ports and
 *  names kept; `wake`, `up` or a request through the router starts it again. */
export async function sleep(
  services: CoreServices,
  request: EnvRequest & {
    reason?: "command" | "idle";
    /** ADDRESS:PORT of the user's waker: a request to its names wakes it meanwhile. */
    waker?: string | undefined;
  },
  progress: Progress,
): Promise<EnvironmentStatus> {
  const { identity, backend, target } = await backendFor(services, request);
  return whileLocked(services, identity.id, "sleep", request, progress, async () => {
    await requireOwnership(services, target, backend, request);
    if (!(await backend.status(identity.id))) throw environmentNotFound(identity.id);
    const { SleepRecords } = await import("../backends/docker/sleep-records.js");
    const records = new SleepRecords(await services.engine());
    // Recorded first: from the moment it stops, the router answers for it.
    const hosts = request.waker
      ? (await (await openRouter(services)).state()).hostsByEnv.get(identity.id)
      : undefined;
    await records.mark({
      envId: identity.id,
      since: new Date(services.clock.now()).toISOString(),
      reason: request.reason ?? "command",
      ...(request.waker && hosts?.length ? { waker: request.waker, hosts } : {}),
    });
    try {
      await backend.down(identity.id, progress);
    } catch (error) {
      await records.clear(identity.id);
      throw error;
    }
    await syncRouter(
      services,
      progress,
      backend.name === "compose" ? {} : { leaving: identity.id },
    );
    const found = await backend.status(identity.id);
    if (!found) throw environmentNotFound(identity.id);
    return decorated(services, found);
  });
}

/** `prodlike wake`: a sleeping (or stopped) environment started as it was. */
export async function wake(
  services: CoreServices,
  request: EnvRequest & { healthTimeoutMs: number },
  progress: Progress,
): Promise<EnvironmentStatus & { durationMs: number }> {
  const started = services.clock.now();
  const { identity, backend, target } = await backendFor(services, request);
  return whileLocked(services, identity.id, "wake", request, progress, async () => {
    await requireOwnership(services, target, backend, request);
    const before = await backend.status(identity.id);
    if (!before) throw environmentNotFound(identity.id);
    const { SleepRecords } = await import("../backends/docker/sleep-records.js");
    const records = new SleepRecords(await services.engine());
    if (before.state !== "running") {
      if (backend.name !== "compose") {
        throw new ProdlikeError("USAGE", `${identity.id} runs on ${backend.name}`, {
          hint: "`prodlike up` brings a cluster environment back to its replicas.",
        });
      }
      await backend.start(identity.id, progress, { healthTimeoutMs: request.healthTimeoutMs });
    }
    await records.clear(identity.id);
    await syncRouter(services, progress);
    const found = await backend.status(identity.id);
    if (!found) throw environmentNotFound(identity.id);
    return { ...(await decorated(services, found)), durationMs: services.clock.now() - started };
  });
}

async function decorated(
  services: CoreServices,
  found: EnvironmentStatus,
): Promise<EnvironmentStatus> {
  const [status = found] = await withRouterUrls(services, await withExpiry(services, [found]));
  return status;
}
