// prodlike-node-watch MAIN: runs `node MAIN` with the live code and restarts it when a
// source file changes: written in place, replaced by a rename (sed -i, most editors'
// safe save), created or deleted. It watches folders, not files: a watch on a file
// follows its inode, which a rename-style save replaces, and `node --watch` (Node 18)
// then never fires again. node_modules, .git and .prodlike are not watched.

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const main = process.argv[2];
const SOURCE = /\.(c|m)?(js|ts)$|\.json$/;
const IGNORED = new Set(["node_modules", ".git", ".prodlike"]);
const watched = new Map();
let child;
let timer;
let stopping = false;

// `services.app.inspect: true`: the app (not this watcher) opens Node's debugger, again
// after each restart.
const inspect = process.env.PRODLIKE_INSPECT ? [`--inspect=${process.env.PRODLIKE_INSPECT}`] : [];

function start() {
  child = spawn(process.execPath, [...inspect, main], { stdio: "inherit" });
  child.on("exit", (code, signal) => {
    if (!stopping && !timer) {
      console.error(`prodlike: ${main} exited (${signal ?? code}); waiting for a change`);
    }
  });
}

// Several events come for one save (a temp file, the rename, a change): one restart.
function restart(reason) {
  clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    console.error(`prodlike: ${reason} changed, restarting ${main}`);
    if (child.exitCode !== null || child.signalCode !== null) return start();
    child.once("exit", start);
    child.kill("SIGTERM");
  }, 50);
}

function watchTree(dir) {
  if (watched.has(dir)) return;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
    const watcher = fs.watch(dir, (_event, name) => {
      if (!name || IGNORED.has(name)) return;
      const full = path.join(dir, name);
      fs.stat(full, (error, info) => {
        if (!error && info.isDirectory()) watchTree(full);
      });
      if (SOURCE.test(name)) restart(path.relative(process.cwd(), full));
    });
    // A watched folder removed: forget it (it is watched again if it comes back).
    watcher.on("error", () => {
      watcher.close();
      watched.delete(dir);
    });
    watched.set(dir, watcher);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.isDirectory() && !IGNORED.has(entry.name)) watchTree(path.join(dir, entry.name));
  }
}

watchTree(process.cwd());
start();
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) process.exit(0);
    child.once("exit", () => process.exit(0));
    child.kill(signal);
  });
}
