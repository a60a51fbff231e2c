import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { apiVersionOf, type ResourceType } from "./resources.js";

// The double's etcd: objects by type, namespace and name, one resourceVersion counter for
// all of them (as etcd's revision), and the recent changes a watch replays from a
// resourceVersion. Objects are stored with apiVersion and kind; lists leave them off.

/** Object metadata as the API sends it (timestamps as strings). */
export interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
  }[];
  finalizers?: string[];
  managedFields?: ManagedFields[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
}

export interface ManagedFields {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
}

/** A Kubernetes object as JSON: typed metadata, the rest read through client-node's types. */
export interface KubeJson {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
  [field: string]: unknown;
}

export type WatchType = "ADDED" | "MODIFIED" | "DELETED";

export interface Change {
  resourceVersion: number;
  type: WatchType;
  resource: ResourceType;
  object: KubeJson;
}

/** How many changes a watch can replay; older resourceVersions answer 410 Gone. */
const HISTORY = 2000;

export class Store {
  private readonly objects = new Map<string, KubeJson>();
  private revision = 100;
  private readonly history: Change[] = [];
  readonly changes = new EventEmitter();

  constructor() {
    this.changes.setMaxListeners(0);
  }

  get resourceVersion(): number {
    return this.revision;
  }

  /** The oldest resourceVersion a watch may start from. */
  get oldestWatchable(): number {
    return this.history[0]?.resourceVersion ?? this.revision;
  }

  get(type: ResourceType, namespace: string, name: string): KubeJson | undefined {
    const found = this.objects.get(key(type, namespace, name));
    return found ? structuredClone(found) : undefined;
  }

  list(type: ResourceType, namespace?: string): KubeJson[] {
    const prefix = `${apiVersionOf(type)}/${type.kind}/`;
    const found: KubeJson[] = [];
    for (const [name, object] of this.objects) {
      if (!name.startsWith(prefix)) continue;
      if (namespace && type.namespaced && object.metadata?.namespace !== namespace) continue;
      found.push(structuredClone(object));
    }
    return found.sort((a, b) =>
      `${a.metadata.namespace ?? ""}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace ?? ""}/${b.metadata.name}`,
      ),
    );
  }

  /** Stores a new object: uid, creationTimestamp, generation and resourceVersion set. */
  create(type: ResourceType, object: KubeJson): KubeJson {
    const stored = structuredClone(object);
    stored.apiVersion = apiVersionOf(type);
    stored.kind = type.kind;
    stored.metadata.uid = randomUUID();
    stored.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    stored.metadata.generation = 1;
    if (!type.namespaced) delete stored.metadata.namespace;
    return this.write(type, stored, "ADDED");
  }

  /** Replaces a stored object; generation moves when its spec changed. */
  update(type: ResourceType, object: KubeJson): KubeJson {
    const stored = structuredClone(object);
    const before = this.objects.get(key(type, stored.metadata.namespace, stored.metadata.name));
    if (before && JSON.stringify(before.spec) !== JSON.stringify(stored.spec))
      stored.metadata.generation = (before.metadata.generation ?? 1) + 1;
    return this.write(type, stored, "MODIFIED");
  }

  delete(type: ResourceType, namespace: string, name: string): KubeJson | undefined {
    const id = key(type, namespace, name);
    const found = this.objects.get(id);
    if (!found) return undefined;
    this.objects.delete(id);
    this.revision += 1;
    found.metadata.resourceVersion = String(this.revision);
    this.record({ resourceVersion: this.revision, type: "DELETED", resource: type, object: found });
    return structuredClone(found);
  }

  /** The changes after a resourceVersion, for a watch that resumes there. */
  since(resourceVersion: number): Change[] {
    return this.history.filter((change) => change.resourceVersion > resourceVersion);
  }

  private write(type: ResourceType, object: KubeJson, change: WatchType): KubeJson {
    this.revision += 1;
    object.metadata.resourceVersion = String(this.revision);
    this.objects.set(key(type, object.metadata.namespace, object.metadata.name), object);
    this.record({ resourceVersion: this.revision, type: change, resource: type, object });
    return structuredClone(object);
  }

  private record(change: Change): void {
    const copy = { ...change, object: structuredClone(change.object) };
    this.history.push(copy);
    if (this.history.length > HISTORY) this.history.shift();
    this.changes.emit("change", copy);
  }
}

function key(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${apiVersionOf(type)}/${type.kind}/${type.namespaced ? (namespace ?? "") : ""}/${name}`;
}

// Label selectors as the API parses them: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`,
// `a notin (x)`, comma-separated (all must hold).
export function matchesLabels(labels: Record<string, string> | undefined, selector: string) {
  const have = labels ?? {};
  for (const term of splitSelector(selector)) {
    const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (set) {
      const values = (set[3] ?? "").split(",").map((value) => value.trim());
      const value = have[set[1] ?? ""];
      const inSet = value !== undefined && values.includes(value);
      if (set[2] === "in" ? !inSet : inSet) return false;
      continue;
    }
    const pair = /^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (pair) {
      const value = have[pair[1] ?? ""];
      if (pair[2] === "!=" ? value === pair[3] : value !== pair[3]) return false;
      continue;
    }
    if (term.startsWith("!")) {
      if (term.slice(1) in have) return false;
    } else if (!(term in have)) return false;
  }
  return true;
}

// Field selectors the double supports: metadata.name, metadata.namespace, and any dotted
// path (involvedObject.name for events), with = / == / !=.
export function matchesFields(object: KubeJson, selector: string): boolean {
  for (const term of splitSelector(selector)) {
    const pair = /^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!pair) return false;
    let value: unknown = object;
    for (const part of (pair[1] ?? "").split("."))
      value = (value as Record<string, unknown> | undefined)?.[part];
    const equal = String(value ?? "") === pair[3];
    if (pair[2] === "!=" ? equal : !equal) return false;
  }
  return true;
}

function splitSelector(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of selector) {
    if (char === "(") depth += 1;
    if (char === ")") depth -= 1;
    if (char === "," && depth === 0) {
      terms.push(current.trim());
      current = "";
    } else current += char;
  }
  if (current.trim()) terms.push(current.trim());
  return terms;
}
