import type { EnvironmentIdentity, HostRoute, ServiceSpec } from "./model.js";

// The names an environment answers to (served once the local router exists; until then
// they name the mirrored Ingress hosts and label the containers). `*.localhost` resolves
// to loopback without touching /etc/hosts (RFC 6761; glibc, systemd-resolved, curl and
// every browser do it), so `https://qa1.shop.localhost` needs no DNS set-up. The name is
// ENV.PROJECT.localhost: ten QA environments of one project, and environments of two
// projects, never share a name.

/** One DNS label: lowercase letters, digits and inner hyphens, at most 63 characters. */
export function dnsLabel(text: string): string {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return label === "" ? "x" : label;
}

/** `ENV.PROJECT.localhost`: where the environment's web entry answers. */
export function environmentHost(identity: Pick<EnvironmentIdentity, "name" | "project">): string {
  return `${dnsLabel(identity.name)}.${dnsLabel(identity.project)}.localhost`;
}

/** A production host name as this environment serves it: the labels before the
 *  registrable domain kept (`admin.shop.example.com` -> `admin.shop.ENV.PROJECT.localhost`),
 *  the bare domain mapped to the environment's own host. */
export function localHostFor(
  productionHost: string,
  identity: Pick<EnvironmentIdentity, "name" | "project">,
): string {
  const labels = productionHost.replace(/^\*\./, "").replace(/\.$/, "").split(".");
  const kept = labels.slice(0, Math.max(0, labels.length - 2)).map(dnsLabel);
  return [...kept, environmentHost(identity)].join(".");
}

/** What a preset environment routes: its web entry on ENV.PROJECT.localhost and its mail
 *  catcher's page on mail.ENV.PROJECT.localhost. */
export function presetRoutes(
  identity: EnvironmentIdentity,
  services: readonly ServiceSpec[],
): HostRoute[] {
  const routes: HostRoute[] = [];
  const base = environmentHost(identity);
  for (const service of services) {
    const web = service.ports.find((port) => port.name === "web" && port.protocol === "http");
    if (web) {
      routes.push({
        host: base,
        service: service.name,
        port: web.containerPort,
        ...(web.routerPort ? { routerPort: web.routerPort } : {}),
      });
    }
    const mail = service.ports.find((port) => port.name === "mail");
    if (service.role === "mail" && mail) {
      routes.push({ host: `mail.${base}`, service: service.name, port: mail.containerPort });
    }
  }
  return routes;
}
