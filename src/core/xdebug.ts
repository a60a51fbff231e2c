import { environmentNotFound } from "../backends/backend.js";
import { backendInfo } from "../config/backend-registry.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { Progress } from "../ui/steps.js";
import { backendFor, type EnvRequest } from "./environments.js";
import { requireOwnership } from "./ownership.js";
import type { CoreServices } from "./services.js";

// `prodlike xdebug on|off|status`: Xdebug is in every PHP image, off. Switching writes (or
// removes) its settings in /run/prodlike/php, a folder the images' PHP scans besides its
// own conf.d, in each PHP container (php-fpm and the cli), then reloads php-fpm: no
// rebuild, no new container. A re-created container starts with it off again.

export const XDEBUG_INI = "/run/prodlike/php/xdebug.ini";
export const XDEBUG_DEFAULT_PORT = 9003;

export interface XdebugSettings {
  /** Where the IDE listens, as the containers reach it. */
  host: string;
  port: number;
  /** Debug every request, not only those with the XDEBUG_TRIGGER cookie or parameter. */
  everyRequest: boolean;
}

export interface XdebugReport {
  id: string;
  services: { name: string; enabled: boolean }[];
  settings?: XdebugSettings;
}

export type XdebugRequest = EnvRequest & {
  action: "on" | "off" | "status";
  port?: number | undefined;
  host?: string | undefined;
  everyRequest?: boolean | undefined;
};

export async function xdebug(
  services: CoreServices,
  request: XdebugRequest,
  progress: Progress,
): Promise<XdebugReport> {
  const { backend, identity, target } = await backendFor(services, request);
  await requireOwnership(services, target, backend, request);
  const status = await backend.status(identity.id);
  if (!status) throw environmentNotFound(identity.id);
  // Xdebug connects from the PHP container to the IDE. A remote cluster's pods cannot
  // reach this machine (the API server forwards ports one way only): refused before any
  // container is changed, unless --host names an address they do reach.
  if (request.action === "on" && !request.host && !backendInfo(backend.name).reachesThisMachine) {
    throw new ProdlikeError(
      "XDEBUG_UNAVAILABLE",
      `${identity.id} runs on a remote cluster: its PHP containers cannot connect to an IDE on this machine`,
      {
        hint: "Debug on a local backend (prodlike up --backend compose or kind), or make your IDE reachable from the cluster (a VPN address, or a reverse tunnel of your own) and pass it: prodlike xdebug on --host ADDRESS [--port PORT].",
      },
    );
  }
  const php = status.services.filter(
    (service) => (service.role === "php" || service.role === "cli") && service.state === "running",
  );
  if (php.length === 0) {
    throw new ProdlikeError("NOT_SUPPORTED", `${identity.id} runs no PHP`, {
      hint: "Xdebug is for the PHP presets (drupal, openmage); start the environment with prodlike up.",
    });
  }
  const run = async (service: string, script: string) => {
    const result = await backend.execStream(identity.id, {
      service,
      command: ["sh", "-c", script],
    });
    if (result.exitCode !== 0) {
      throw new ProdlikeError("COMMAND_FAILED", `Could not switch Xdebug in ${service}`, {
        hint: result.stderr.trim() || `exit ${result.exitCode}`,
      });
    }
    return result.stdout;
  };
  let settings: XdebugSettings | undefined;
  if (request.action !== "status") {
    await progress.run([
      {
        title: `Xdebug ${request.action} in ${php.map((service) => service.name).join(", ")}`,
        run: async () => {
          if (request.action === "on") {
            // The IDE runs on the developer's machine: the containers' default gateway.
            const host =
              request.host ??
              gatewayFromRoutes(await run(php[0]?.name ?? "", "cat /proc/net/route"));
            if (!host) {
              throw new ProdlikeError("USAGE", "Cannot tell where the IDE listens", {
                hint: "Pass --host with the address the containers reach your machine on.",
              });
            }
            settings = {
              host,
              port: request.port ?? XDEBUG_DEFAULT_PORT,
              everyRequest: request.everyRequest ?? false,
            };
            const ini = xdebugIni(settings);
            for (const service of php) {
              await run(service.name, `cat > ${XDEBUG_INI} <<'PRODLIKE_INI'\n${ini}PRODLIKE_INI`);
            }
          } else {
            for (const service of php) await run(service.name, `rm -f ${XDEBUG_INI}`);
          }
          // php-fpm re-reads its ini files on a graceful reload (USR2 to its master).
          for (const service of php.filter((candidate) => candidate.role === "php")) {
            await run(service.name, "kill -USR2 1");
          }
        },
      },
    ]);
  }
  const states = await Promise.all(
    php.map(async (service) => ({
      name: service.name,
      enabled: /^xdebug$/im.test(await run(service.name, "php -m")),
    })),
  );
  // Remembered for `ls --json` and the dashboard, which do not ask every container.
  await (await services.stores.xdebug()).set(
    identity.id,
    states.some((state) => state.enabled),
    new Date(services.clock.now()),
  );
  if (!settings && states.some((state) => state.enabled)) {
    settings = parseXdebugIni(await run(php[0]?.name ?? "", `cat ${XDEBUG_INI} 2>/dev/null; true`));
  }
  return { id: identity.id, services: states, ...(settings ? { settings } : {}) };
}

/** The settings file: step debugging, connecting to the IDE on request (or always). */
export function xdebugIni(settings: XdebugSettings): string {
  return [
    "; Written by `prodlike xdebug on`; `prodlike xdebug off` removes it.",
    "zend_extension=xdebug.so",
    "xdebug.mode=debug,develop",
    `xdebug.start_with_request=${settings.everyRequest ? "yes" : "trigger"}`,
    `xdebug.client_host=${settings.host}`,
    `xdebug.client_port=${settings.port}`,
    "",
  ].join("\n");
}

export function parseXdebugIni(text: string): XdebugSettings | undefined {
  const value = (key: string) => new RegExp(`^xdebug\\.${key}=(.*)$`, "m").exec(text)?.[1];
  const host = value("client_host");
  const port = Number(value("client_port"));
  if (!host || !Number.isInteger(port)) return undefined;
  return { host, port, everyRequest: value("start_with_request") === "yes" };
}

/** The default gateway from /proc/net/route (hex, little-endian): the host, from inside a
 *  container on a bridge network. */
export function gatewayFromRoutes(routes: string): string | undefined {
  for (const line of routes.split("\n").slice(1)) {
    const [, destination, gateway] = line.trim().split(/\s+/);
    if (destination !== "00000000" || !gateway || !/^[0-9A-Fa-f]{8}$/.test(gateway)) continue;
    const bytes = gateway.match(/../g)?.map((pair) => Number.parseInt(pair, 16)) ?? [];
    return bytes.reverse().join(".");
  }
  return undefined;
}
