// The dashboard's page: web/src bundled by esbuild into dist/web/app.js (Preact inside,
// minified, no network at run time), beside web/index.html and web/app.css. Run by
// `npm run build` after tsc; the package ships dist/.
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, "dist", "web");
await mkdir(out, { recursive: true });
await build({
  entryPoints: [path.join(root, "web", "src", "main.tsx")],
  outfile: path.join(out, "app.js"),
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  logLevel: "warning",
});
await copyFile(path.join(root, "web", "index.html"), path.join(out, "index.html"));
await copyFile(path.join(root, "web", "app.css"), path.join(out, "app.css"));
