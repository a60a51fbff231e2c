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
// `status` and `ls` in their plain forms skip the command table (commander and every
// command's definition): see dist/cli/quick.js. Anything else goes through main.
const argv = process.argv.slice(2);
const quick =
  argv[0] === "status" || argv[0] === "ls"
    ? await import("../dist/cli/quick.js").then((module) => ({
        module,
        command: module.quickCommand(argv, process.cwd()),
      }))
    : undefined;
const code = quick?.command
  ? await quick.module.runQuick(quick.command)
  : await (await import("../dist/cli/main.js")).main(argv);
process.exitCode = stdoutFailed && code === 0 ? 1 : code;
