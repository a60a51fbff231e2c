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
  /** The host names this container answers to: "a.localhost=80,b=8025" (what the local
   *  router of #14, not built yet, is to read). */
  routes: "dev.prodlike.routes",
} as const;

/** The routes label's value: host=port pairs. */
export function routesLabel(routes: readonly { host: string; port: number }[]): string {
  return routes.map((route) => `${route.host}=${route.port}`).join(",");
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
