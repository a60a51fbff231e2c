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

export function parseYaml(file: string, text: string): ParsedYaml {
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
  return {
    file,
    data: document.toJS() ?? {},
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
