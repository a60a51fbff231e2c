import { environmentNotFound } from "../backends/backend.js";
import type { Progress } from "../ui/steps.js";
import { backendFor, type EnvRequest, whileLocked } from "./environments.js";
import type { CoreServices } from "./services.js";

// A throwaway environment's lifetime changed without an `up`: extended to a new span from
// now, or cleared (`never`: gc leaves it alone). The dashboard's TTL buttons run this.

export async function setLifetime(
  services: CoreServices,
  request: EnvRequest & { ttl: number | "never" },
  progress: Progress,
): Promise<{ id: string; expiresAt?: string }> {
  const { identity, backend } = await backendFor(services, request);
  return whileLocked(services, identity.id, "ttl", request, progress, async () => {
    if (!(await backend.status(identity.id))) throw environmentNotFound(identity.id);
    const store = await services.stores.expiry();
    const { labelTeamLifetime } = await import("./team-lifetime.js");
    if (request.ttl === "never") {
      await store.remove(identity.id);
      await labelTeamLifetime(services, identity.id);
      return { id: identity.id };
    }
    const expiry = await store.set(identity.id, request.ttl, new Date(services.clock.now()));
    await labelTeamLifetime(services, identity.id);
    return { id: identity.id, expiresAt: expiry.expiresAt };
  });
}
