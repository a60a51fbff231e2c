import { createServer } from "node:net";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { PortRequest } from "../topology/preset-importer.js";

export interface PortClaims {
  /** Ports this environment's containers already publish, by port name: kept as they are. */
  own: Readonly<Record<string, number>>;
  /** Names among `own` whose containers are stopped: kept while free, chosen again when
   *  another program took the port meanwhile (the environment cannot start on it). */
  ownStopped?: ReadonlySet<string>;
  /** Ports other environments' containers hold, running or stopped (a stopped container
   *  listens on nothing but will want its port back on start). */
  others: ReadonlySet<number>;
}

export type PortProbe = (port: number) => Promise<boolean>;

const SEARCH_WIDTH = 200;

// Picks a host port for each request: the one the environment already has (unless it is
// stopped and another program took that port), else the preferred one when free, else the
// next free one above it. Never a port another environment claims, never the same port
// twice.
export async function allocatePorts(
  requests: readonly PortRequest[],
  claims: PortClaims,
  isFree: PortProbe,
): Promise<Record<string, number>> {
  const chosen: Record<string, number> = {};
  const taken = new Set<number>(claims.others);
  for (const request of requests) {
    const own = claims.own[request.name];
    if (own === undefined) continue;
    if (claims.ownStopped?.has(request.name) && !(await isFree(own))) continue;
    chosen[request.name] = own;
    taken.add(own);
  }
  for (const request of requests) {
    if (chosen[request.name] !== undefined) continue;
    const port = await firstFree(request.preferred, taken, isFree);
    if (port === undefined) {
      throw new ProdlikeError(
        "PORT_UNAVAILABLE",
        `No free port for ${request.service} (${request.name}) in ${request.preferred}-${request.preferred + SEARCH_WIDTH - 1}`,
        { hint: `Set another preferred port in prodlike.yaml: ports: { ${request.name}: NUMBER }` },
      );
    }
    chosen[request.name] = port;
    taken.add(port);
  }
  return chosen;
}

async function firstFree(
  preferred: number,
  taken: ReadonlySet<number>,
  isFree: PortProbe,
): Promise<number | undefined> {
  for (let port = preferred; port < preferred + SEARCH_WIDTH && port <= 65535; port++) {
    if (!taken.has(port) && (await isFree(port))) return port;
  }
  return undefined;
}

// A port is free when we can listen on it at 127.0.0.1 (Linux refuses that too when
// another socket holds it on 0.0.0.0).
export const probeLoopbackPort: PortProbe = (port) =>
  new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
