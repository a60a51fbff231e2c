#!/usr/bin/env node
// Entry point: check the Node version, load the bundled CLI with its compiled code kept
// from an earlier run, run, set the exit code. CommonJS, as the bundle it loads: a
// CommonJS entry never starts Node's ES module loader, a few milliseconds of every command.
"use strict";
const fs = require("node:fs");
const Module = require("node:module");
const os = require("node:os");
const path = require("node:path");
const vm = require("node:vm");

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  process.stderr.write(
    `error[TOOL_MISSING]: prodlike needs Node.js 22 or newer; this is ${process.version}\nhint: install Node.js 22 LTS or 24 LTS (https://nodejs.org) and run again.\n`,
  );
  process.exit(3);
}
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

// Compiled code is kept in the user's own cache folder, never Node's default under /tmp:
// another local user could create that folder first and plant code this process would
// then run. Node's cache serves the packages; the CLI's bundle has a cache of its own.
const cacheRoot = path.join(
  process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"),
  "prodlike",
);
Module.enableCompileCache?.(path.join(cacheRoot, "node"));

const argv = process.argv.slice(2);
const quickName = argv[0] === "status" || argv[0] === "ls" ? argv[0] : undefined;
const cli = loadBundle(path.join(__dirname, "..", "dist", "prodlike.cjs"), quickName ?? "main");
// `status` and `ls` in their plain forms skip the command table (commander and every
// command's definition): see src/cli/quick.ts. Anything else goes through main.
const quick = quickName ? cli.exports.quickCommand(argv, process.cwd()) : undefined;
(quick ? cli.exports.runQuick(quick) : cli.exports.main(argv)).then((code) => {
  process.exitCode = stdoutFailed && code === 0 ? 1 : code;
  cli.keepCode();
});

// The bundle (scripts/bundle-cli.js), compiled with V8's code from the last run of the
// same command. Node's own cache keeps only the code compiled before a file runs, so
// every function a command calls was compiled again at each start: ~10 ms of `status`.
// This one is taken after the command ran, one per command kind (status, ls, the rest),
// and is used only for the same bundle file (size, time, inode) and Node; V8 refuses it
// for another V8 or other flags. Anything amiss with the cache means a plain require.
function loadBundle(file, kind) {
  let cache;
  try {
    const stat = fs.statSync(file);
    cache = codeCache(path.join(cacheRoot, "code"), kind, [
      process.version,
      process.arch,
      stat.size,
      stat.mtimeMs,
      stat.ino,
    ]);
  } catch {
    return { exports: require(file), keepCode() {} };
  }
  // Node's module wrapper, and the import() the bundle's own dynamic imports go through
  // (scripts/bundle-cli.js): one inside a script compiled here would need a flag. They
  // import packages and Node's modules by name, found from here as from dist/.
  const wrapped = `(function (exports, require, module, __filename, __dirname, __prodlikeImport) {${fs.readFileSync(file, "utf8")}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData: cache.read() });
  const bundle = new Module(file, module);
  bundle.filename = file;
  bundle.paths = Module._nodeModulePaths(path.dirname(file));
  const localRequire = (id) => bundle.require(id);
  script
    .runInThisContext()
    .call(
      bundle.exports,
      bundle.exports,
      localRequire,
      bundle,
      file,
      path.dirname(file),
      (specifier) => import(specifier),
    );
  bundle.loaded = true;
  return {
    exports: bundle.exports,
    keepCode() {
      if (script.cachedDataRejected === false) return;
      cache.write(script.createCachedData());
    },
  };
}

// One file per command kind in a folder only this user can write (checked, not assumed:
// a folder that is not ours, or that others may write to, is not read).
function codeCache(folder, kind, key) {
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  const folderStat = fs.statSync(folder);
  if (folderStat.uid !== process.getuid?.() || (folderStat.mode & 0o022) !== 0) {
    throw new Error(`${folder} is not this user's own`);
  }
  const file = path.join(folder, `${kind}.v8`);
  const header = Buffer.from(`${key.join(" ")}\n`);
  return {
    read() {
      try {
        const kept = fs.readFileSync(file);
        return kept.subarray(0, header.length).equals(header)
          ? kept.subarray(header.length)
          : undefined;
      } catch {
        return undefined;
      }
    },
    write(data) {
      try {
        const partial = `${file}.${process.pid}.partial`;
        fs.writeFileSync(partial, Buffer.concat([header, data]), { mode: 0o600 });
        fs.renameSync(partial, file);
      } catch {
        // A cache that cannot be written only costs speed.
      }
    },
  };
}
