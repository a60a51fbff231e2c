#!/usr/bin/env node
// Entry point: check the Node version, enable the module compile cache (faster second
// start), run, set the exit code. CommonJS, as the bundled CLI it loads: a CommonJS entry
// never starts Node's ES module loader, a few milliseconds of every command.
"use strict";
const module_ = require("node:module");
const os = require("node:os");
const path = require("node:path");

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  process.stderr.write(
    `error[TOOL_MISSING]: prodlike needs Node.js 22 or newer; this is ${process.version}\nhint: install Node.js 22 LTS or 24 LTS (https://nodejs.org) and run again.\n`,
  );
  process.exit(3);
}
// In the user's own cache folder, never Node's default under /tmp: another local user
// could create that folder first and plant compiled code this process would then run.
module_.enableCompileCache?.(
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "prodlike", "node"),
);
// stdout that cannot be written (a full disk behind `> file`, a closed pipe): say so once
// on stderr and exit 1, never with a stack trace. The command's own error has the details.
let stdoutFailed = false;
process.stdout.on("error", (error) => {
  if (!stdoutFailed) {
    stdoutFailed = true;
    process.stderr.write(
      `error[${error.code === "ENOSPC" ? "DISK_FULL" : "IO_FAILED"}]: cannot write to standard output (${error.code ?? error.message})\n`,
    );
  }
  process.exitCode = 1;
});
// The CLI is one bundled file (scripts/bundle-cli.js). `status` and `ls` in their plain
// forms skip the command table (commander and every command's definition): see
// src/cli/quick.ts. Anything else goes through main.
const cli = require("../dist/prodlike.cjs");
const argv = process.argv.slice(2);
const quick =
  argv[0] === "status" || argv[0] === "ls" ? cli.quickCommand(argv, process.cwd()) : undefined;
(quick ? cli.runQuick(quick) : cli.main(argv)).then((code) => {
  process.exitCode = stdoutFailed && code === 0 ? 1 : code;
});
