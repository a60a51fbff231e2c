import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { CommandRunner } from "../process/command-runner.js";
import type { KubeObject } from "../topology/model.js";

// Production's Kubernetes manifests, read as they are: a folder of YAML, one multi-document
// file, stdin, or a kustomize folder rendered by `kubectl kustomize`. Every document keeps
// where it came from (file and document number), so an error names both.

/** One production object: the model's own Kubernetes object type. */
export type ManifestObject = KubeObject;

export interface ManifestDocument {
  /** The file, `<stdin>` or `kustomize DIR`. */
  source: string;
  /** 1-based number of the document in its source. */
  index: number;
  object: ManifestObject;
}

/** The API versions prodlike understands for each kind it mirrors. */
export const SUPPORTED_KINDS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ["apps/v1"],
  StatefulSet: ["apps/v1"],
  DaemonSet: ["apps/v1"],
  CronJob: ["batch/v1"],
  Job: ["batch/v1"],
  Service: ["v1"],
  ConfigMap: ["v1"],
  Secret: ["v1"],
  PersistentVolumeClaim: ["v1"],
  Ingress: ["networking.k8s.io/v1"],
  HorizontalPodAutoscaler: ["autoscaling/v2", "autoscaling/v1"],
  PodDisruptionBudget: ["policy/v1"],
  NetworkPolicy: ["networking.k8s.io/v1"],
  ServiceAccount: ["v1"],
};

export interface ReadDeps {
  runner: CommandRunner;
  readStdin: () => Promise<string>;
}

export async function readManifests(source: string, deps: ReadDeps): Promise<ManifestDocument[]> {
  if (source === "-") return parseManifests(await deps.readStdin(), "<stdin>");
  const info = await stat(source).catch(() => undefined);
  if (!info) {
    throw new ProdlikeError("MANIFEST_INVALID", `${source} does not exist`, {
      hint: "Give a folder of YAML, a multi-document file, a kustomize folder or - for stdin.",
    });
  }
  if (info.isFile()) return parseManifests(await readFile(source, "utf8"), source);
  if (await isKustomization(source)) return kustomize(source, deps.runner);
  const files = (await readdir(source, { recursive: true }))
    .filter((file) => /\.ya?ml$/.test(file))
    .sort();
  const documents: ManifestDocument[] = [];
  for (const file of files) {
    const full = path.join(source, file);
    documents.push(...parseManifests(await readFile(full, "utf8"), full));
  }
  return documents;
}

async function isKustomization(dir: string): Promise<boolean> {
  for (const name of ["kustomization.yaml", "kustomization.yml", "Kustomization"]) {
    if (await stat(path.join(dir, name)).catch(() => undefined)) return true;
  }
  return false;
}

async function kustomize(dir: string, runner: CommandRunner): Promise<ManifestDocument[]> {
  const result = await runner.run("kubectl", ["kustomize", dir]);
  if (result.notFound) {
    throw new ProdlikeError(
      "TOOL_MISSING",
      `${dir} is a kustomize folder and kubectl is not installed`,
      {
        hint: "Install kubectl (it renders kustomize), or render it elsewhere: kubectl kustomize DIR | prodlike mirror --from -",
      },
    );
  }
  if (result.exitCode !== 0) {
    throw new ProdlikeError("MANIFEST_INVALID", `kubectl kustomize ${dir} failed`, {
      hint: result.stderr.trim().split("\n").slice(-6).join("\n"),
    });
  }
  return parseManifests(result.stdout, `kustomize ${dir}`);
}

/** Every document of a YAML stream as a Kubernetes object; `List`s are unpacked. */
export function parseManifests(text: string, source: string): ManifestDocument[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  if (!Array.isArray(documents)) return [];
  const parsed: ManifestDocument[] = [];
  documents.forEach((document, position) => {
    const index = position + 1;
    const where = (line?: number) =>
      `${source}, document ${index}${line === undefined ? "" : ` (line ${line})`}`;
    const [error] = document.errors;
    if (error) {
      const line = lineCounter.linePos(error.pos[0]).line;
      throw invalid(`${where(line)}: not valid YAML`, error.message.split("\n")[0] ?? "");
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return; // an empty document (`---` at the end)
    const startLine = lineCounter.linePos(document.contents?.range?.[0] ?? document.range[0]).line;
    const objects = isList(value) ? value.items : [value];
    for (const object of objects)
      parsed.push({ source, index, object: checked(object, () => where(startLine)) });
  });
  return parsed;
}

function isList(value: unknown): value is { items: unknown[] } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { kind?: unknown }).kind === "List" &&
    Array.isArray((value as { items?: unknown }).items)
  );
}

function checked(value: unknown, where: () => string): ManifestObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(
      `${where()}: not a Kubernetes object`,
      "Each document must be a mapping with apiVersion, kind and metadata.",
    );
  }
  const object = value as Record<string, unknown>;
  if (typeof object.kind !== "string" || object.kind === "") {
    throw invalid(
      `${where()}: \`kind\` is missing`,
      "Every object names its kind (Deployment, Service, ...).",
    );
  }
  if (typeof object.apiVersion !== "string" || object.apiVersion === "") {
    throw invalid(
      `${where()}: ${object.kind} has no \`apiVersion\``,
      "For example apiVersion: apps/v1.",
    );
  }
  const known = SUPPORTED_KINDS[object.kind];
  if (known && !known.includes(object.apiVersion)) {
    throw invalid(
      `${where()}: unknown apiVersion \`${object.apiVersion}\` for ${object.kind}`,
      `prodlike reads ${object.kind} as ${known.join(" or ")}; older versions were removed from Kubernetes (kubectl convert updates them).`,
    );
  }
  const metadata = object.metadata as { name?: unknown } | undefined;
  if (typeof metadata?.name !== "string" || metadata.name === "") {
    throw invalid(
      `${where()}: ${object.kind} has no \`metadata.name\``,
      "Every object needs a name.",
    );
  }
  return object as ManifestObject;
}

function invalid(message: string, hint: string): ProdlikeError {
  return new ProdlikeError("MANIFEST_INVALID", message, { hint });
}
