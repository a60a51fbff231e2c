import type { AppliedTransform } from "../mirror/transforms.js";
import { type RuntimeFacts, sameVersion } from "./runtime-facts.js";
import type { ContainerView, WorkloadView } from "./workload-view.js";

// Production against local, workload by workload and container by container. Each
// difference is expected when a listed local transform caused it or the team's policy
// allows it, and unexpected otherwise: that is what `prodlike parity` exits 1 on.

export const DIFF_FIELDS = [
  "workload-missing",
  "workload-extra",
  "container-missing",
  "container-extra",
  "image-repository",
  "image-tag",
  "ports",
  "env-names",
  "config-keys",
  "probes",
  "command",
  "args",
  "schedule",
  "php-version",
  "php-extensions-missing",
  "php-extensions-extra",
  "db-engine",
] as const;

export type DiffField = (typeof DIFF_FIELDS)[number];

export interface Difference {
  workload: string;
  kind: string;
  container?: string;
  field: DiffField;
  production: string;
  local: string;
  expected: boolean;
  /** The transform or policy rule that makes it expected. */
  because?: string;
}

export interface PolicyRule {
  workload?: string | undefined;
  container?: string | undefined;
  field?: DiffField | undefined;
  reason: string;
}

// Which transform explains a difference in which field.
const CAUSES: Partial<Record<DiffField, AppliedTransform["transform"]>> = {
  "image-repository": "images",
  "image-tag": "images",
};

export function compareWorkloads(
  production: readonly WorkloadView[],
  local: readonly WorkloadView[],
  context: { transforms: readonly AppliedTransform[]; policy: readonly PolicyRule[] },
): Difference[] {
  const found: Omit<Difference, "expected" | "because">[] = [];
  const key = (view: WorkloadView) => `${view.kind}/${view.name}`;
  const locals = new Map(local.map((view) => [key(view), view]));
  for (const prod of production) {
    const mine = locals.get(key(prod));
    locals.delete(key(prod));
    if (!mine) {
      found.push({
        workload: prod.name,
        kind: prod.kind,
        field: "workload-missing",
        production: "present",
        local: "absent",
      });
      continue;
    }
    if ((prod.schedule ?? "") !== (mine.schedule ?? "")) {
      found.push({
        workload: prod.name,
        kind: prod.kind,
        field: "schedule",
        production: prod.schedule ?? "",
        local: mine.schedule ?? "",
      });
    }
    const localContainers = new Map(
      mine.containers.map((container) => [container.name, container]),
    );
    for (const container of prod.containers) {
      const other = localContainers.get(container.name);
      localContainers.delete(container.name);
      const at = { workload: prod.name, kind: prod.kind, container: container.name };
      if (!other) {
        found.push({
          ...at,
          field: "container-missing",
          production: describe(container),
          local: "absent",
        });
        continue;
      }
      for (const [field, production, localValue] of containerFields(container, other)) {
        if (production !== localValue) found.push({ ...at, field, production, local: localValue });
      }
      for (const [field, production, localValue] of runtimeDifferences(
        container.runtime ?? {},
        other.runtime ?? {},
      )) {
        found.push({ ...at, field, production, local: localValue });
      }
    }
    for (const extra of localContainers.values()) {
      found.push({
        workload: prod.name,
        kind: prod.kind,
        container: extra.name,
        field: "container-extra",
        production: "absent",
        local: describe(extra),
      });
    }
  }
  for (const extra of locals.values()) {
    found.push({
      workload: extra.name,
      kind: extra.kind,
      field: "workload-extra",
      production: "absent",
      local: "present",
    });
  }
  return found.map((difference) => classify(difference, context));
}

function containerFields(a: ContainerView, b: ContainerView): [DiffField, string, string][] {
  const list = (values: readonly string[]) => values.join(", ");
  return [
    ["image-repository", a.repository, b.repository],
    ["image-tag", a.tag, b.tag],
    ["ports", list(a.ports), list(b.ports)],
    ["env-names", list(a.envNames), list(b.envNames)],
    ["config-keys", list(a.configKeys), list(b.configKeys)],
    ["probes", list(a.probes), list(b.probes)],
    ["command", a.command.join(" "), b.command.join(" ")],
    ["args", a.args.join(" "), b.args.join(" ")],
  ];
}

// Only what both sides know is compared: a custom production image with nothing declared
// about it, or a local image that was not asked, gives no runtime difference either way.
function runtimeDifferences(
  production: RuntimeFacts,
  local: RuntimeFacts,
): [DiffField, string, string][] {
  const found: [DiffField, string, string][] = [];
  if (production.php && local.php) {
    if (!sameVersion(production.php.version, local.php.version))
      found.push(["php-version", production.php.version, local.php.version]);
    const wanted = production.php.extensions;
    const have = local.php.extensions;
    if (wanted && have) {
      const missing = wanted.filter((extension) => !have.includes(extension));
      const extra = have.filter((extension) => !wanted.includes(extension));
      if (missing.length > 0) found.push(["php-extensions-missing", missing.join(", "), ""]);
      if (extra.length > 0) found.push(["php-extensions-extra", "", extra.join(", ")]);
    }
  }
  if (production.db && local.db) {
    const differs =
      production.db.engine !== local.db.engine ||
      !sameVersion(production.db.version, local.db.version);
    if (differs)
      found.push([
        "db-engine",
        `${production.db.engine} ${production.db.version}`,
        `${local.db.engine} ${local.db.version}`,
      ]);
  }
  return found;
}

function describe(container: ContainerView): string {
  return `${container.init ? "init container " : ""}${container.repository}:${container.tag}`;
}

function classify(
  difference: Omit<Difference, "expected" | "because">,
  context: { transforms: readonly AppliedTransform[]; policy: readonly PolicyRule[] },
): Difference {
  const cause = CAUSES[difference.field];
  const transform = cause
    ? context.transforms.find(
        (applied) =>
          applied.transform === cause &&
          applied.kind === difference.kind &&
          applied.name === difference.workload &&
          (applied.container === undefined || applied.container === difference.container),
      )
    : undefined;
  if (transform)
    return {
      ...difference,
      expected: true,
      because: `transform ${transform.transform}: ${transform.detail}`,
    };
  const rule = context.policy.find(
    (candidate) =>
      matches(candidate.workload, difference.workload) &&
      matches(candidate.container, difference.container) &&
      (candidate.field === undefined || candidate.field === difference.field),
  );
  if (rule) return { ...difference, expected: true, because: `policy: ${rule.reason}` };
  return { ...difference, expected: false };
}

// `*` matches any characters; undefined matches everything.
function matches(pattern: string | undefined, value: string | undefined): boolean {
  if (pattern === undefined) return true;
  if (value === undefined) return false;
  const regex = new RegExp(
    `^${pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return regex.test(value);
}
