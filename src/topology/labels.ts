import type { EnvironmentIdentity } from "./model.js";

// Label keys put on everything prodlike creates. `status`, `ls` and `destroy` find
// resources by these, never by a local cache, so a deleted checkout still cleans up.
export const Label = {
  env: "dev.prodlike.env",
  project: "dev.prodlike.project",
  name: "dev.prodlike.name",
  preset: "dev.prodlike.preset",
  backend: "dev.prodlike.backend",
  codeRoot: "dev.prodlike.code-root",
  service: "dev.prodlike.service",
  role: "dev.prodlike.role",
  configHash: "dev.prodlike.config-hash",
  /** Named ports of a container: "web:80:http,db:3306:tcp". */
  ports: "dev.prodlike.ports",
  /** On images prodlike builds: which preset image it is. */
  image: "dev.prodlike.image",
  managed: "dev.prodlike.managed",
  /** The host names this container answers to: "a.localhost=80,b=8025" (the local
   *  router reads them from the engine, whichever state folder made the environment). */
  routes: "dev.prodlike.routes",
  /** On the local router's container, network and volume. */
  router: "dev.prodlike.router",
  /** On the router's container: the host ports it is published on, "http:80,https:443". */
  routerPorts: "dev.prodlike.router.ports",
} as const;

/** The routes label's value: host=port pairs. */
export function routesLabel(routes: readonly { host: string; port: number }[]): string {
  return routes.map((route) => `${route.host}=${route.port}`).join(",");
}

/** The routes label read back; a malformed pair (a label edited by hand) is skipped. */
export function parseRoutesLabel(value: string | undefined): { host: string; port: number }[] {
  if (!value) return [];
  return value.split(",").flatMap((pair) => {
    const match = /^([a-z0-9.-]+)=(\d{1,5})$/.exec(pair.trim());
    const port = Number(match?.[2]);
    return match?.[1] && port > 0 && port < 65536 ? [{ host: match[1], port }] : [];
  });
}

/** On the containers of a mirrored layout (`up --mirror`): which production workload and
 *  container each one is, so parity compares it with the right one. */
export const MirrorLabel = {
  workload: "dev.prodlike.mirror.workload",
  container: "dev.prodlike.mirror.container",
  init: "dev.prodlike.mirror.init",
} as const;

export function environmentLabels(
  identity: EnvironmentIdentity,
  extra: { preset: string; backend: string; codeRoot: string },
): Record<string, string> {
  return {
    [Label.managed]: "true",
    [Label.env]: identity.id,
    [Label.project]: identity.project,
    [Label.name]: identity.name,
    [Label.preset]: extra.preset,
    [Label.backend]: extra.backend,
    [Label.codeRoot]: extra.codeRoot,
  };
}
