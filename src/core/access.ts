import { createServer, isIP } from "node:net";
import os from "node:os";
import { environmentNotFound } from "../backends/backend.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Progress } from "../ui/steps.js";
import { backendFor, type EnvRequest } from "./environments.js";
import { requireOwnership } from "./ownership.js";
import { openRouter, routerEnabled, syncRouter } from "./router.js";
import type { CoreServices } from "./services.js";

// Who may open an environment: `up --lock` (or prodlike.yaml `lock: true`) puts basic
// authentication on its router names; `share` also publishes it on the host's LAN
// address (one environment, behind that lock) for a colleague. Off by default: the
// router listens on 127.0.0.1 only. The environment's own 127.0.0.1 ports stay as they
// are (this machine's users only).

export interface LockReport {
  envId: string;
  locked: boolean;
  username?: string;
  /** Only when it was made now: shown once. */
  password?: string;
  /** Where it is kept (0600), for `share` to hand it on again. */
  credentialsFile?: string;
}

/** Locks (or with `off`, unlocks) an environment's router names. */
export async function lockNames(
  services: CoreServices,
  envId: string,
  progress: Progress,
  options: { off?: boolean } = {},
): Promise<LockReport> {
  if (!routerEnabled(services.env)) {
    throw new ProdlikeError("USAGE", "A lock needs the local router (PRODLIKE_ROUTER is off)", {
      hint: "Unset PRODLIKE_ROUTER: the lock is basic authentication on the router's names.",
    });
  }
  const store = await services.stores.credentials();
  if (options.off) {
    await syncRouter(services, progress, { lock: { envId, auth: undefined } });
    await store.remove(envId);
    return { envId, locked: false };
  }
  const { credentials, made } = await store.ensure(envId, new Date(services.clock.now()));
  const router = await openRouter(services);
  const hash = await router.hashPassword(credentials.password);
  const state = await syncRouter(services, progress, {
    lock: { envId, auth: { username: credentials.username, hash } },
  });
  if (!state?.running) {
    throw new ProdlikeError(
      "ROUTER_FAILED",
      `${envId} could not be locked: the router is not running`,
      {
        hint: "`prodlike router status` says why; `prodlike up` starts it.",
      },
    );
  }
  return {
    envId,
    locked: true,
    username: credentials.username,
    ...(made ? { password: credentials.password } : {}),
    credentialsFile: store.file(envId),
  };
}

/** `prodlike lock [ENV] [--off]`. */
export async function lock(
  services: CoreServices,
  request: EnvRequest & { off: boolean },
  progress: Progress,
): Promise<LockReport> {
  const { identity, backend, target } = await backendFor(services, request);
  await requireOwnership(services, target, backend, request);
  if (!(await backend.status(identity.id))) throw environmentNotFound(identity.id);
  return lockNames(services, identity.id, progress, { off: request.off });
}

export interface ShareReport {
  envId: string;
  shared: boolean;
  url?: string;
  username?: string;
  password?: string;
}

/** `prodlike share [ENV]`: the environment on the host's LAN address, behind its lock;
 *  `off` stops that. */
export async function share(
  services: CoreServices,
  request: EnvRequest & { off: boolean; address?: string | undefined; port?: number | undefined },
  progress: Progress,
): Promise<ShareReport> {
  const { identity, backend, target } = await backendFor(services, request);
  await requireOwnership(services, target, backend, request);
  const { ShareListeners } = await import("../backends/router/share-listener.js");
  const listeners = new ShareListeners(services.runner, await services.engine());
  if (request.off) {
    await listeners.stop(identity.id);
    return { envId: identity.id, shared: false };
  }
  if (!(await backend.status(identity.id))) throw environmentNotFound(identity.id);
  const locked = await lockNames(services, identity.id, progress);
  const router = await openRouter(services);
  const site = await router.siteOf(identity.id);
  if (!site) {
    throw new ProdlikeError("USAGE", `${identity.id} has no name on the local router`, {
      hint: "Only a running environment the router serves can be shared: `prodlike up`, then share again.",
    });
  }
  const credentials = await (await services.stores.credentials()).get(identity.id);
  if (!credentials) throw new ProdlikeError("INTERNAL", "the lock's credentials are gone");
  const address = request.address ?? lanAddress();
  // One address of this machine, never every one of them.
  if (isIP(address) === 0 || ["0.0.0.0", "::"].includes(address)) {
    throw new ProdlikeError(
      "USAGE",
      `--address must be one IP address of this machine, got \`${address}\``,
      {
        hint: "The listener is for that address only (your LAN address, e.g. 192.168.1.20); 127.0.0.1 needs no sharing.",
      },
    );
  }
  const port = request.port ?? (await freePort(address));
  const { routerImageTag } = await import("../backends/router/local-router.js");
  await progress.run([
    {
      title: `Share ${identity.id} on ${address}:${port} (plain HTTP, behind its lock)`,
      run: async () => {
        await listeners.start({
          envId: identity.id,
          image: await routerImageTag(),
          network: site.network,
          dial: site.dial,
          auth: {
            username: credentials.username,
            hash: await router.hashPassword(credentials.password),
          },
          address,
          port,
        });
      },
    },
  ]);
  return {
    envId: identity.id,
    shared: true,
    url: `http://${address}:${port}/`,
    username: locked.username ?? credentials.username,
    password: credentials.password,
  };
}

/** The host's address on its local network: the first IPv4 address of an interface that
 *  is neither loopback nor one of the engine's bridges. */
export function lanAddress(
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
): string {
  for (const [name, addresses] of Object.entries(interfaces)) {
    if (/^(docker|br-|veth|virbr|lo)/.test(name)) continue;
    const ipv4 = addresses?.find((address) => address.family === "IPv4" && !address.internal);
    if (ipv4) return ipv4.address;
  }
  throw new ProdlikeError("USAGE", "This machine has no LAN address to share on", {
    hint: "Name one: prodlike share --address ADDRESS.",
  });
}

/** A port free on `address` now (the engine binds it right after). */
function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error) =>
      reject(
        new ProdlikeError("USAGE", `Cannot listen on ${address}: ${error.message}`, {
          hint: "Give an address of this machine: prodlike share --address ADDRESS.",
        }),
      ),
    );
    server.listen(0, address, () => {
      const bound = server.address();
      server.close(() => resolve(typeof bound === "object" && bound ? bound.port : 0));
    });
  });
}
