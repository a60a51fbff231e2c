import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

// The source tree's imports, read from the files themselves (relative specifiers only:
// packages and node: modules are outside the layering).

export interface ImportEdge {
  from: string;
  to: string;
  /** `import type` / `export type`: gone at run time, but still an arrow in the design. */
  typeOnly: boolean;
}

const IMPORT =
  /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^;]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

export async function importGraph(srcRoot: string): Promise<ImportEdge[]> {
  const edges: ImportEdge[] = [];
  for (const file of await sourceFiles(srcRoot)) {
    const text = await readFile(file, "utf8");
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[3] ?? match[4];
      if (!specifier) continue;
      const target = path.resolve(path.dirname(file), specifier).replace(/\.js$/, ".ts");
      edges.push({
        from: path.relative(srcRoot, file),
        to: path.relative(srcRoot, target),
        typeOnly: match[2] !== undefined,
      });
    }
  }
  return edges;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(full);
      return entry.name.endsWith(".ts") ? [full] : [];
    }),
  );
  return files.flat();
}

/** Every cycle among the files (each reported once, as the files in order). */
export function cycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of edges) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const found = new Map<string, string[]>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const target of next.get(file) ?? []) {
      if (state.get(target) === "open") {
        const cycle = stack.slice(stack.indexOf(target));
        found.set([...cycle].sort().join(" "), cycle);
      } else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of next.keys()) if (!state.has(file)) visit(file);
  return [...found.values()];
}
