// The CLI as one file, dist/prodlike.cjs, which bin/prodlike.cjs loads. Loading dist/ as
// ~70 ES modules cost more than half of `prodlike status` (the goal: within 2x a
// bare `node -e 0`): the module loader's resolving and linking per file, and classic
// zod evaluated whole.
//
// CommonJS on purpose: an ESM bundle hoists every import of a package or a Node built-in
// to its top, so `status` would load all of them; in CommonJS each becomes a require()
// inside the module that needs it, run only when that module first runs. Packages stay in
// node_modules, loaded that way, except zod:
// - zod/mini (the state files' schemas) is bundled, and only what they use is kept;
// - classic zod (prodlike.yaml's and the presets' schemas) is bundled apart, into
//   dist/vendor/zod.cjs, and required from there when first used. Inside the CLI's
//   bundle it would share zod's core with mini, and the core's index (every locale,
//   every check) would then run with the first state file read.
// The two never mix: no schema of one flavour holds one of the other.
//
// import.meta.url (package-files.ts, the colour module's require) becomes the bundle's
// own URL: dist/ is one folder below the package's top, as package-files.ts expects.
// Run by `npm run build` after tsc.
import { copyFile, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLASSIC_ZOD = "./vendor/zod.cjs";

// Both bundles: CommonJS for Node 22+, whitespace and syntax minified. Names are kept
// (no renaming), so a --debug stack trace still says where it was.
const COMMONJS = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node22",
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "linked",
  logLevel: "warning",
};

await build({
  ...COMMONJS,
  stdin: { contents: 'export * from "zod";', resolveDir: root, loader: "js" },
  outfile: path.join(root, "dist", CLASSIC_ZOD),
});

/** Every package import left to node_modules, but zod's: classic zod from its own
 *  bundle, zod/mini and the core parts it uses inside this one. */
const packagesOutside = {
  name: "packages-outside",
  setup(context) {
    context.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path === "zod") return { path: CLASSIC_ZOD, external: true };
      if (args.path.startsWith("zod/")) return undefined;
      return { path: args.path, external: true };
    });
  },
};

await build({
  ...COMMONJS,
  entryPoints: [path.join(root, "dist", "cli", "entry.js")],
  outfile: path.join(root, "dist", "prodlike.cjs"),
  define: { "import.meta.url": "__prodlikeBundleUrl" },
  banner: {
    js: [
      'const __prodlikeBundleUrl = require("node:url").pathToFileURL(__filename).href;',
      // See dynamicImportsThroughEntry below.
      'const __prodlikeImportOf = typeof __prodlikeImport === "function" ? __prodlikeImport : (specifier) => import(specifier);',
    ].join("\n"),
  },
  plugins: [packagesOutside],
});
await dynamicImportsThroughEntry(path.join(root, "dist", "prodlike.cjs"));

// bin/prodlike.cjs compiles the bundle itself (vm.Script, to keep V8's code between runs),
// and an import() inside a script compiled that way needs an experimental flag. The
// bundle's dynamic imports (packages and Node's modules, by name) therefore go through
// the function the entry passes in, which imports from the same package; required the
// usual way, the bundle imports by itself.
async function dynamicImportsThroughEntry(file) {
  const text = await readFile(file, "utf8");
  const routed = text.replace(/\bimport\(("[^"\\\n]+")\)/g, "__prodlikeImportOf($1)");
  const left = routed.match(/\bimport\((?!specifier\))/g);
  if (left) throw new Error(`bundle-cli: ${left.length} import() not routed through the entry`);
  await writeFile(file, routed);
}

// Both bundles carry zod's code: its licence goes beside them.
await copyFile(
  path.join(root, "node_modules", "zod", "LICENSE"),
  path.join(root, "dist", "zod.LICENSE"),
);
