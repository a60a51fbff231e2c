#!/usr/bin/env node
// Entry point: check the Node version, enable the module compile cache (faster second
// start), run, set the exit code.
import module from "node:module";

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  process.stderr.write(
    `error[TOOL_MISSING]: prodlike needs Node.js 22 or newer; this is ${process.version}\nhint: install Node.js 22 LTS or 24 LTS (https://nodejs.org) and run again.\n`,
  );
  process.exit(3);
}
module.enableCompileCache?.();
const { main } = await import("../dist/cli/main.js");
process.exitCode = await main(process.argv.slice(2));
