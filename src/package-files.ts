import { fileURLToPath } from "node:url";

// Where the package's own files are (presets, compose/base.yml, router/, kind/, schema/,
// dist/web/). Found from this module's own place, one folder below the package's top:
// src/package-files.ts under the unit tests, dist/package-files.js, and the bundled CLI
// dist/prodlike.cjs, which carries this module inside it, all sit one level down.
// Every path is asked for here, so none of them depends on the depth of its caller.
export function packageFile(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}
