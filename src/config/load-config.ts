import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import * as z from "zod/mini";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { lazySchema, readStateOrNothing } from "../state/json-state.js";
import { VERSION } from "../version.js";
import type { ProdlikeConfig } from "./schema.js";
import { stateDir } from "./user-settings.js";

export const CONFIG_FILE_NAME = "prodlike.yaml";

export interface LoadedConfig {
  config: ProdlikeConfig;
  /** Absolute path of the file, or undefined when the defaults were used. */
  file: string | undefined;
  /** The folder holding prodlike.yaml (or the working folder): the code root. */
  codeRoot: string;
  /** Resolves a locator giving `file:line` of a field, for errors found after schema
   *  validation. Async: on a cache hit the YAML is only parsed when this is asked for. */
  locator(): Promise<(fieldPath: string[]) => string>;
}

// Reads prodlike.yaml from `dir` when it exists; otherwise the defaults apply.
//
// A file that validated before, byte for byte and with this prodlike version, is taken
// from a cache in the user's state folder: parsing and validation load yaml and zod,
// which would double the start-up time of `status`. Anything else (a new, changed or
// broken file) goes through full validation, so errors are always reported.
export async function loadConfig(dir: string, env: NodeJS.ProcessEnv): Promise<LoadedConfig> {
  const codeRoot = path.resolve(dir);
  try {
    await access(codeRoot);
  } catch {
    throw new ProdlikeError("CODE_ROOT_MISSING", `Code root ${codeRoot} does not exist`, {
      hint: "Pass --dir with your project's folder, or run prodlike from inside it.",
    });
  }
  const file = path.join(codeRoot, CONFIG_FILE_NAME);
  const text = await readFile(file, "utf8").catch(() => undefined);
  const cache = new ValidatedConfigCache(stateDir(env), codeRoot, text);
  const cached = await cache.read();

  if (text === undefined) {
    const config = cached ?? (await validateDefaults());
    if (!cached) await cache.write(config);
    return {
      config: withPresetFolder(config, codeRoot),
      file: undefined,
      codeRoot,
      locator: async () => () => CONFIG_FILE_NAME,
    };
  }

  const locator = async () => {
    const { parseYaml } = await import("./yaml-source.js");
    const parsed = parseYaml(file, text);
    return (fieldPath: string[]) => {
      const line = parsed.lineOf(fieldPath);
      return line === undefined ? file : `${file}:${line}`;
    };
  };
  if (cached) return { config: withPresetFolder(cached, codeRoot), file, codeRoot, locator };

  const [{ parseYaml, validateYaml }, { configSchema }] = await Promise.all([
    import("./yaml-source.js"),
    import("./schema.js"),
  ]);
  const config = validateYaml(
    parseYaml(file, text),
    configSchema,
    hintForField(Object.keys(configSchema.shape)),
  );
  await cache.write(config);
  return { config: withPresetFolder(config, codeRoot), file, codeRoot, locator };
}

/** `preset: ./presets/shop` names a folder of the project's own (holding preset.yaml),
 *  relative to the code root: made absolute, so every reader finds the same folder. */
export function withPresetFolder(config: ProdlikeConfig, codeRoot: string): ProdlikeConfig {
  return isPresetFolder(config.preset)
    ? { ...config, preset: path.resolve(codeRoot, config.preset) }
    : config;
}

/** A preset named by a path (`./x`, `../x`, `/x`) rather than a built-in's name. */
export function isPresetFolder(preset: string): boolean {
  return preset.startsWith("./") || preset.startsWith("../") || path.isAbsolute(preset);
}

async function validateDefaults(): Promise<ProdlikeConfig> {
  const { configSchema } = await import("./schema.js");
  return configSchema.parse({});
}

const cacheEntrySchema = lazySchema(() =>
  z.object({ key: z.string(), config: z.record(z.string(), z.unknown()) }),
);

class ValidatedConfigCache {
  private readonly file: string;
  private readonly key: string;

  // No digest from node:crypto here: loading it costs ~8 ms, a tenth of `status`. The key
  // is the version, the folder and the file's text themselves, compared whole; the file
  // name only spreads folders over entries, and a clash is a miss (its key differs).
  constructor(stateFolder: string, codeRoot: string, text: string | undefined) {
    this.file = path.join(stateFolder, "config-cache", `${fnv1a64(codeRoot)}.json`);
    this.key = `${VERSION}\0${codeRoot}\0${text ?? "\0no prodlike.yaml"}`;
  }

  // The key is checked before the config is trusted, and an entry is written only after
  // full validation. A damaged entry is a miss (validated again).
  async read(): Promise<ProdlikeConfig | undefined> {
    const entry = await readStateOrNothing(this.file, cacheEntrySchema());
    return entry?.key === this.key ? (entry.config as ProdlikeConfig) : undefined;
  }

  async write(config: ProdlikeConfig): Promise<void> {
    try {
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await writeFile(this.file, JSON.stringify({ key: this.key, config }), { mode: 0o600 });
    } catch {
      // A cache that cannot be written only costs speed.
    }
  }
}

/** FNV-1a, 64 bits, as 16 hex digits: a name for a cache entry, not a digest to trust. */
export function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, "utf8")) {
    hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  }
  return hash.toString(16).padStart(16, "0");
}

function hintForField(known: string[]): (field: string) => string {
  const fields = known.filter((key) => key !== "$schema");
  return (field) => {
    const top = field.split(".")[0] ?? field;
    if (!fields.includes(top)) {
      return `Known top-level fields: ${fields.join(", ")}. See schema/prodlike.schema.json.`;
    }
    return `See the \`${top}\` field in docs/reference/configuration.md or schema/prodlike.schema.json.`;
  };
}
