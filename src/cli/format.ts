import type { ChalkInstance } from "chalk";
import type { EnvironmentState, EnvironmentStatus } from "../backends/backend.js";
import type { TeamListing } from "../core/team-clusters.js";
import type { DataOrigin } from "../db/data-origin.js";
import { formatDuration } from "../ui/duration.js";

// Human renderings of results (stdout). --json prints the same data as a document.

export function stateText(state: EnvironmentState, colour: ChalkInstance): string {
  switch (state) {
    case "running":
      return colour.green(state);
    case "starting":
      return colour.yellow(state);
    case "sleeping":
      return colour.blue(state);
    default:
      return colour.red(state);
  }
}

export function formatStatus(
  status: EnvironmentStatus & {
    data?: DataOrigin;
    filesProxy?: string;
    router?: { trusted: boolean };
  },
  colour: ChalkInstance,
): string {
  const lines = [
    `${colour.bold(status.id)} ${stateText(status.state, colour)} (${status.backend}, preset ${status.preset})`,
    `  code   ${status.codeRoot}`,
  ];
  if (status.data) lines.push(`  data   ${describeOrigin(status.data, colour)}`);
  if (status.filesProxy) {
    lines.push(`  files  a missing file is fetched once from ${status.filesProxy} (files.proxy)`);
  }
  if (status.expiresAt) {
    lines.push(`  ttl    ${describeLifetime(status.expiresAt)} (until ${status.expiresAt})`);
  }
  if (status.kept) lines.push("  kept   gc never removes it (`prodlike keep --off` lets it go)");
  if (status.sleeping) {
    lines.push(
      `  sleep  since ${status.sleeping.since}${status.sleeping.reason === "idle" ? " (idle)" : ""}: \`prodlike wake\` or a request to its URL starts it`,
    );
  }
  for (const [name, url] of Object.entries(status.urls))
    lines.push(`  ${name.padEnd(6)} ${colour.cyan(url)}`);
  if (status.router && !status.router.trusted) {
    lines.push(
      `  trust  ${colour.yellow("browsers warn on the https names until you run `prodlike trust` once")} (\`prodlike router status\` shows the CA file)`,
    );
  }
  lines.push("");
  const width = Math.max(7, ...status.services.map((service) => service.name.length));
  for (const service of status.services) {
    const ports = service.ports.map(
      (port) => `${port.hostIp || "127.0.0.1"}:${port.hostPort}->${port.containerPort}`,
    );
    const health = service.health === "none" ? "" : ` (${service.health})`;
    lines.push(
      `  ${service.name.padEnd(width)} ${service.state}${health}${ports.length ? `  ${ports.join(", ")}` : ""}`,
    );
  }
  return lines.join("\n");
}

export function formatList(
  environments: readonly EnvironmentStatus[],
  colour: ChalkInstance,
  now = Date.now(),
): string {
  if (environments.length === 0) return "No environments. Create one with: prodlike up";
  const rows = environments.map((env) => [
    env.id,
    env.backend,
    formatDuration(now - Date.parse(env.createdAt)),
    env.kept
      ? `kept${env.expiresAt ? ` (${describeLifetime(env.expiresAt, now)})` : ""}`
      : describeLifetime(env.expiresAt, now),
    env.state,
    env.preset,
    Object.values(env.urls).join(" "),
  ]);
  const header = ["ENVIRONMENT", "BACKEND", "AGE", "TTL", "STATE", "PRESET", "URLS"];
  return formatTable(header, rows, colour);
}

/** The team clusters' environments, everyone's, with their owner; a context that did not
 *  answer is a warning row. */
export function formatTeamList(
  listing: TeamListing,
  colour: ChalkInstance,
  now = Date.now(),
): string {
  if (listing.environments.length === 0 && listing.warnings.length === 0) return "";
  const rows = listing.environments.map((env) => [
    env.context,
    env.namespace,
    env.owner,
    env.kept
      ? `kept${env.expiresAt ? ` (${describeLifetime(env.expiresAt, now)})` : ""}`
      : describeLifetime(env.expiresAt, now),
    env.terminating ? "deleting" : "-",
    env.preset,
    env.env,
  ]);
  const header = ["CONTEXT", "NAMESPACE", "OWNER", "TTL", "STATE", "PRESET", "ENVIRONMENT"];
  const warnings = listing.warnings.map((warning) =>
    colour.yellow(`! ${warning.context}: ${warning.problem}`),
  );
  return [
    "On team clusters:",
    ...(rows.length ? [formatTable(header, rows, colour)] : ["(no prodlike namespaces)"]),
    ...warnings,
  ].join("\n");
}

/**
 * Columns padded to their widest cell (at most `maxWidth`, longer cells clipped with …);
 * the last column is neither padded nor clipped (it may hold colour codes). Bold header.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly string[][],
  colour: ChalkInstance,
  maxWidth = Number.POSITIVE_INFINITY,
): string {
  const widths = header.map((title, column) =>
    Math.min(maxWidth, Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length))),
  );
  const last = header.length - 1;
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => {
        if (column === last) return cell;
        const width = widths[column] ?? 0;
        return (cell.length > width ? `${cell.slice(0, width - 1)}…` : cell).padEnd(width);
      })
      .join("  ")
      .trimEnd();
  return [colour.bold(line(header)), ...rows.map((row) => line(row))].join("\n");
}

/** `3h12m left`, `expired` (gc removes it), `-` (no lifetime). */
export function describeLifetime(expiresAt: string | undefined, now = Date.now()): string {
  if (!expiresAt) return "-";
  const left = Date.parse(expiresAt) - now;
  return left <= 0 ? "expired" : `${formatDuration(left)} left`;
}

function describeOrigin(origin: DataOrigin, colour: ChalkInstance): string {
  const verb = { pull: "pulled from", import: "imported from", seed: "seeded from" }[origin.kind];
  const what = `${verb} ${origin.source} at ${origin.at}`;
  if (origin.sanitized === false)
    return `${what} ${colour.red.bold("(NOT sanitized: production data)")}`;
  return origin.sanitized ? `${what} (sanitized)` : what;
}

/** What a removal deleted, counted: one line for destroy and each environment gc removes.
 *  A cluster backend's deleted clusters are named (they hold everything else). */
export function describeRemoved(removed: {
  containers: readonly string[];
  volumes: readonly string[];
  networks: readonly string[];
  images: readonly string[];
  snapshots: readonly string[];
  clusters?: readonly string[] | undefined;
}): string {
  const clusters = removed.clusters?.length ? `cluster ${removed.clusters.join(", ")}, ` : "";
  return `${clusters}containers ${removed.containers.length}, volumes ${removed.volumes.length}, networks ${removed.networks.length}, images ${removed.images.length}, snapshots ${removed.snapshots.length}`;
}
