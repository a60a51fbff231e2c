import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { packageFile } from "../package-files.js";

// compose/base.yml: what every rendered compose project starts from. Kept as a data file
// at the product's top level so users can read and diff it; checked here so a broken
// edit fails with the file and the field, not with compose's own error later.

export const COMPOSE_BASE_FILE = packageFile("compose/base.yml");

export interface ComposeBase {
  version: string;
  /** The environment's network, before its labels. */
  network: Record<string, unknown>;
  /** Merged into every service before the model's own fields. */
  serviceDefaults: Record<string, unknown>;
}

let loaded: Promise<ComposeBase> | undefined;

export function loadComposeBase(file = COMPOSE_BASE_FILE): Promise<ComposeBase> {
  if (file !== COMPOSE_BASE_FILE) return readBase(file);
  loaded ??= readBase(file);
  return loaded;
}

async function readBase(file: string): Promise<ComposeBase> {
  const document = parse(await readFile(file, "utf8")) as Record<string, unknown> | null;
  const invalid = (field: string, expected: string) =>
    new ProdlikeError("CONFIG_INVALID", `${file}: \`${field}\` must be ${expected}`, {
      location: { file },
      hint: "compose/base.yml ships with prodlike; restore it from the package.",
    });
  if (typeof document?.version !== "string") throw invalid("version", 'a string like "2.4"');
  const network = (document.networks as { default?: unknown } | undefined)?.default ?? {};
  if (!isRecord(network)) throw invalid("networks.default", "a mapping");
  const serviceDefaults = document["x-service-defaults"] ?? {};
  if (!isRecord(serviceDefaults)) throw invalid("x-service-defaults", "a mapping");
  return { version: document.version, network, serviceDefaults };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
