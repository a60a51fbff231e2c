// zod as one file in dist. Its ESM build is about a hundred modules, and loading them was
// a fifth of the CPU time of a command as short as `prodlike status` (20 of ~100 ms,
// measured): esbuild bundles it into dist/vendor/zod.js and dist's imports of "zod" are
// pointed at that file. The sources, and the unit tests that run them, import "zod" as
// usual; zod's licence goes beside the bundle. Run by `npm run build` after tsc.
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
const vendor = path.join(dist, "vendor");
await mkdir(vendor, { recursive: true });
await build({
  stdin: { contents: 'export * from "zod";', resolveDir: root, loader: "js" },
  outfile: path.join(vendor, "zod.js"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  legalComments: "inline",
  logLevel: "warning",
});
await copyFile(path.join(root, "node_modules", "zod", "LICENSE"), path.join(vendor, "zod.LICENSE"));

const IMPORT_OF_ZOD = /(\bfrom\s*)"zod"/g;
let pointed = 0;
for (const entry of await readdir(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
  const file = path.join(entry.parentPath, entry.name);
  if (file.startsWith(vendor + path.sep) || file.startsWith(path.join(dist, "web") + path.sep)) {
    continue;
  }
  const text = await readFile(file, "utf8");
  const relative = path.relative(path.dirname(file), path.join(vendor, "zod.js"));
  const specifier = (relative.startsWith(".") ? relative : `./${relative}`).split(path.sep);
  const pointedText = text.replace(IMPORT_OF_ZOD, `$1"${specifier.join("/")}"`);
  if (pointedText === text) continue;
  await writeFile(file, pointedText);
  pointed++;
}
if (pointed === 0) throw new Error("bundle-zod: no file in dist imports zod; is dist built?");
