import { readFile } from "node:fs/promises";
import { isNode, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { ProdlikeError } from "../errors/prodlike-error.js";

// Loads a YAML file so that a schema error can name the line of the offending field.
// Used for prodlike.yaml and for preset definitions alike.

export interface ParsedYaml {
  file: string;
  data: unknown;
  /** 1-based line of the node at `path`, or of its nearest existing parent. */
  lineOf(path: ReadonlyArray<PropertyKey>): number | undefined;
}

/** Larger than any real prodlike.yaml or preset by far; a bigger file is a mistake. */
const MAX_BYTES = 1024 * 1024;
/** Nesting deeper than this is no configuration (and would exhaust the stack). */
const MAX_DEPTH = 64;
/** Aliases a document may expand: a few are YAML's convenience, thousands a bomb. */
const MAX_ALIASES = 100;

export function parseYaml(file: string, text: string): ParsedYaml {
  const refuse = (message: string, hint: string) =>
    new ProdlikeError("CONFIG_INVALID", `${file}: ${message}`, { location: { file }, hint });
  if (Buffer.byteLength(text) > MAX_BYTES) {
    throw refuse(
      `is larger than ${MAX_BYTES / 1024} KiB`,
      "A prodlike.yaml is a few dozen lines; is this the right file?",
    );
  }
  const depth = nestingDepth(text);
  if (depth > MAX_DEPTH) {
    throw refuse(
      `nests ${depth} levels deep (at most ${MAX_DEPTH})`,
      "Flatten the structure; no prodlike field nests that deep.",
    );
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const firstError = document.errors[0];
  if (firstError) {
    const line = lineCounter.linePos(firstError.pos[0]).line;
    throw new ProdlikeError("CONFIG_SYNTAX", `${file}:${line}: ${firstLine(firstError.message)}`, {
      location: { file, line },
      hint: "Fix the YAML syntax at that line (indentation, a missing colon, an unclosed quote).",
    });
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_ALIASES }) ?? {};
  } catch (error) {
    // The yaml library's guard against alias expansion ("billion laughs").
    throw refuse(
      `expands too many aliases: ${firstLine(error instanceof Error ? error.message : String(error))}`,
      "Use fewer YAML aliases (*name); repeated values can be written out.",
    );
  }
  return {
    file,
    data,
    lineOf(path) {
      for (let depth = path.length; depth >= 0; depth--) {
        const node = document.getIn(path.slice(0, depth) as unknown[], true);
        // A map key's own position is more useful than its value's for a wrong key.
        if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

export async function readYamlFile(file: string): Promise<ParsedYaml> {
  return parseYaml(file, await readFile(file, "utf8"));
}

// Validates parsed YAML against a schema; the first issue becomes a ProdlikeError naming
// file, line and field.
export function validateYaml<T extends z.ZodType>(
  parsed: ParsedYaml,
  schema: T,
  hintFor: (field: string) => string,
): z.output<T> {
  const result = schema.safeParse(parsed.data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new ProdlikeError("CONFIG_INVALID", `${parsed.file}: invalid`);
  const unknownKey =
    issue.code === "unrecognized_keys" ? (issue as { keys: string[] }).keys[0] : undefined;
  const pathToNode = unknownKey === undefined ? issue.path : [...issue.path, unknownKey];
  const field = pathToNode.map(String).join(".") || "(top level)";
  const line = parsed.lineOf(pathToNode);
  const where = line === undefined ? parsed.file : `${parsed.file}:${line}`;
  const message =
    unknownKey === undefined
      ? `${where}: field \`${field}\`: ${issue.message}`
      : `${where}: unknown field \`${field}\``;
  throw new ProdlikeError("CONFIG_INVALID", message, {
    location: { file: parsed.file, ...(line === undefined ? {} : { line }), field },
    hint: hintFor(field),
  });
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

// The deepest bracket or indentation nesting, read before parsing so that a hostile file
// cannot overflow the parser's stack. Flow collections count by their brackets, block
// collections by indentation steps (two spaces a level, as prodlike.yaml is written).
function nestingDepth(text: string): number {
  let deepest = 0;
  let brackets = 0;
  for (const character of text) {
    if (character === "[" || character === "{") {
      brackets++;
      if (brackets > deepest) deepest = brackets;
    } else if ((character === "]" || character === "}") && brackets > 0) brackets--;
  }
  for (const line of text.split("\n")) {
    const indent = line.length - line.trimStart().length;
    deepest = Math.max(deepest, Math.floor(indent / 2));
  }
  return deepest;
}
