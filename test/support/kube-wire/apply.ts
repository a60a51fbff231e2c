import { ApiError, invalid } from "./status.js";
import type { KubeJson, ManagedFields } from "./store.js";

// Writes as kube-apiserver makes them: server-side apply with field ownership per manager
// (fieldsV1 sets; a field another manager owns with another value is a 409 conflict
// unless `force`; fields the manager applied before and leaves out now are removed), JSON
// merge patch (RFC 7386), the defaults the server adds (Services' clusterIP, a PVC's volume
// mode…), and the fields that may not change once set (422).

type Json = Record<string, unknown>;
type Path = readonly string[];

const IDENTITY = new Set(["apiVersion", "kind", "metadata.name", "metadata.namespace"]);

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The leaves of an applied configuration: what its manager owns. Lists are atomic. */
export function leafPaths(value: unknown, prefix: Path = []): Path[] {
  if (!isObject(value) || (Object.keys(value).length === 0 && prefix.length > 0)) return [prefix];
  return Object.entries(value).flatMap(([field, child]) => {
    const path = [...prefix, field];
    if (IDENTITY.has(path.join("."))) return [];
    if (path[0] === "status" || path.join(".").startsWith("metadata.managedFields")) return [];
    return leafPaths(child, path);
  });
}

export function valueAt(value: unknown, path: Path): unknown {
  let current = value;
  for (const part of path) current = isObject(current) ? current[part] : undefined;
  return current;
}

function removeAt(value: Json, path: Path): void {
  const parent = valueAt(value, path.slice(0, -1));
  if (isObject(parent)) delete parent[path[path.length - 1] ?? ""];
}

/** Objects merged field by field; lists and scalars of the patch replace. */
export function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isObject(base) || !isObject(patch)) return structuredClone(patch);
  const merged: Json = { ...base };
  for (const [field, value] of Object.entries(patch)) merged[field] = deepMerge(base[field], value);
  return merged;
}

/** RFC 7386: null removes a field. */
export function mergePatch(base: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const merged: Json = isObject(base) ? { ...base } : {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete merged[field];
    else merged[field] = mergePatch(merged[field], value);
  }
  return merged;
}

function toFieldsV1(paths: readonly Path[]): Json {
  const tree: Json = {};
  for (const path of paths) {
    let node = tree;
    for (const part of path) {
      const field = `f:${part}`;
      if (!isObject(node[field])) node[field] = {};
      node = node[field] as Json;
    }
  }
  return tree;
}

function fromFieldsV1(tree: Json, prefix: Path = []): Path[] {
  const entries = Object.entries(tree).filter(([field]) => field.startsWith("f:"));
  if (entries.length === 0) return prefix.length > 0 ? [prefix] : [];
  return entries.flatMap(([field, child]) =>
    fromFieldsV1(isObject(child) ? child : {}, [...prefix, field.slice(2)]),
  );
}

const key = (path: Path) => path.join(".");

function entry(
  manager: string,
  operation: ManagedFields["operation"],
  apiVersion: string,
  paths: readonly Path[],
): ManagedFields {
  return {
    manager,
    operation,
    apiVersion,
    time: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    fieldsType: "FieldsV1",
    fieldsV1: toFieldsV1(paths),
  };
}

/** Server-side apply of `config` by `manager` onto `live` (undefined: it is created). */
export function serverSideApply(
  live: KubeJson | undefined,
  config: KubeJson,
  options: { manager: string; force: boolean },
): KubeJson {
  const applied = leafPaths(config);
  const apiVersion = config.apiVersion ?? "v1";
  if (!live) {
    const created = structuredClone(config);
    created.metadata = {
      ...created.metadata,
      managedFields: [entry(options.manager, "Apply", apiVersion, applied)],
    };
    return created;
  }
  const managers = live.metadata.managedFields ?? [];
  const others = managers.filter(
    (managed) => !(managed.manager === options.manager && managed.operation === "Apply"),
  );
  const mine = managers.find(
    (managed) => managed.manager === options.manager && managed.operation === "Apply",
  );
  const ownedByOthers = new Map<string, string>();
  for (const managed of others)
    for (const path of fromFieldsV1(managed.fieldsV1))
      ownedByOthers.set(key(path), managed.manager);

  const conflicts = applied.filter((path) => {
    const owner = ownedByOthers.get(key(path));
    return owner && JSON.stringify(valueAt(live, path)) !== JSON.stringify(valueAt(config, path));
  });
  if (conflicts.length > 0 && !options.force) {
    const causes = conflicts.map((path) => ({
      reason: "FieldManagerConflict",
      message: `conflict with "${ownedByOthers.get(key(path))}" using ${apiVersion}`,
      field: `.${key(path)}`,
    }));
    throw new ApiError(
      409,
      "Conflict",
      `Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"}: ${causes.map((cause) => `${cause.message}: ${cause.field}`).join(", ")}`,
      { causes },
    );
  }
  const taken = new Set(conflicts.map(key));
  const appliedKeys = new Set(applied.map(key));
  const result = structuredClone(live) as Json;
  for (const path of mine ? fromFieldsV1(mine.fieldsV1) : []) {
    if (!appliedKeys.has(key(path)) && !ownedByOthers.has(key(path))) removeAt(result, path);
  }
  const merged = deepMerge(result, config) as KubeJson;
  merged.metadata.managedFields = [
    ...others
      .map((managed) => ({
        ...managed,
        fieldsV1: toFieldsV1(
          fromFieldsV1(managed.fieldsV1).filter((path) => !taken.has(key(path))),
        ),
      }))
      .filter((managed) => Object.keys(managed.fieldsV1).length > 0),
    entry(options.manager, "Apply", apiVersion, applied),
  ];
  return merged;
}

/** A JSON merge patch by `manager` (an Update in managedFields). */
export function mergePatchUpdate(live: KubeJson, patch: Json, manager: string): KubeJson {
  const merged = mergePatch(live, patch) as KubeJson;
  const paths = leafPaths(patch);
  const managers = (live.metadata.managedFields ?? []).filter(
    (managed) => !(managed.manager === manager && managed.operation === "Update"),
  );
  merged.metadata.managedFields = [
    ...managers,
    entry(manager, "Update", live.apiVersion ?? "v1", paths),
  ];
  return merged;
}

/** 422 when `next` changes what `live` may no longer change. */
export function checkImmutable(live: KubeJson, next: KubeJson): void {
  const name = live.metadata.name;
  const spec = (object: KubeJson) => (isObject(object.spec) ? object.spec : {});
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const without = (object: Json, ...fields: string[]) =>
    Object.fromEntries(Object.entries(object).filter(([field]) => !fields.includes(field)));
  switch (live.kind) {
    case "PersistentVolumeClaim":
      if (!same(without(spec(live), "resources"), without(spec(next), "resources")))
        throw invalid(live.kind, name, [
          {
            reason: "FieldValueForbidden",
            field: "spec",
            message:
              "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
          },
        ]);
      return;
    case "Service": {
      const was = spec(live).clusterIP;
      const now = spec(next).clusterIP;
      if (was && now && was !== now)
        throw invalid(live.kind, name, [
          {
            reason: "FieldValueInvalid",
            field: "spec.clusterIPs[0]",
            message: `Invalid value: []string{"${String(now)}"}: may not change once set`,
          },
        ]);
      return;
    }
    case "Deployment":
    case "StatefulSet": {
      if (!same(spec(live).selector, spec(next).selector))
        throw invalid(live.kind, name, [
          {
            reason: "FieldValueInvalid",
            field: "spec.selector",
            message: `Invalid value: ${JSON.stringify(spec(next).selector)}: field is immutable`,
          },
        ]);
      const mutable = [
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
      ];
      if (
        live.kind === "StatefulSet" &&
        !same(without(spec(live), ...mutable), without(spec(next), ...mutable))
      )
        throw invalid(live.kind, name, [
          {
            reason: "FieldValueForbidden",
            field: "spec",
            message:
              "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
          },
        ]);
      return;
    }
    case "Job":
      if (!same(spec(live).template, spec(next).template))
        throw invalid(live.kind, name, [
          {
            reason: "FieldValueInvalid",
            field: "spec.template",
            message: "Invalid value: core.PodTemplateSpec{...}: field is immutable",
          },
        ]);
      return;
  }
}
