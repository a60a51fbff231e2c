// npm run bench: every benchmark, each against its raw baseline measured in this run.
// Prints a table and writes bench/results.json. Needs a running Docker engine.
import { writeFile } from "node:fs/promises";
import { clusterSyncBench } from "./cluster-sync.js";
import { dashboardBench } from "./dashboard.js";
import { dbImportBench, snapshotBench } from "./db-import.js";
import { dbLongLinesBench } from "./db-long-lines.js";
import { dbPullBench } from "./db-pull.js";
import { filesPullBench } from "./files-pull.js";
import { kindUpBench } from "./kind-up.js";
import { mirrorUpBench } from "./mirror-up.js";
import { qaParallelBench } from "./qa-parallel.js";
import { registryDeliveryBench } from "./registry-delivery.js";
import { releaseBench } from "./release.js";
import { routerBench } from "./router.js";
import { routerSyncBench } from "./router-sync.js";
import { seedLayersBench } from "./seed-layers.js";
import { snapshotScaleBench } from "./snapshot-scale.js";
import { startupAndEditBench } from "./startup-and-edit.js";
import { versionsBench } from "./versions.js";
import { warmUpBench } from "./warm-up.js";

const only = process.argv[2];
const results = [];
// Each result is said as soon as it is known: a later bench that fails (a port another
// program took on this shared machine) does not take the earlier ones with it.
const said = (result) => {
  process.stderr.write(`bench: ${result.name}: ${result.detail ?? result.skipped}\n`);
  return result;
};
if (!only || only === "startup") results.push(...(await startupAndEditBench()));
if (!only || only === "up") {
  results.push(said(await warmUpBench()));
  results.push(said(await routerSyncBench()));
}
if (!only || only === "kind") {
  results.push(said(await kindUpBench()), said(await registryDeliveryBench()));
}
if (!only || only === "cluster-sync") results.push(said(await clusterSyncBench()));
if (!only || only === "db") results.push(await dbImportBench(), snapshotBench());
if (!only || only === "db" || only === "db-lines") results.push(said(await dbLongLinesBench()));
if (!only || only === "pull") results.push(await dbPullBench());
if (!only || only === "files") results.push(...(await filesPullBench()));
if (!only || only === "qa") results.push(await qaParallelBench());
if (!only || only === "mirror") results.push(await mirrorUpBench());
if (!only || only === "versions") results.push(...(await versionsBench()));
if (!only || only === "router") results.push(...(await routerBench()));
if (!only || only === "release") results.push(...(await releaseBench()));
if (!only || only === "snapshot-scale") results.push(...(await snapshotScaleBench()));
if (!only || only === "seed") results.push(...(await seedLayersBench()).map(said));
if (!only || only === "dashboard") results.push(...(await dashboardBench()));

const line = (cells) =>
  cells.map((cell, index) => String(cell).padEnd([52, 10, 14, 8][index] ?? 0)).join(" ");
process.stdout.write(`\n${line(["benchmark", "ratio", "goal", "met"])}\n`);
for (const result of results) {
  if (result.skipped) {
    // Not run here: said so, never counted as met.
    process.stdout.write(
      `${line([result.name, "-", result.goal, "SKIPPED"])}\n    ${result.skipped}\n`,
    );
    continue;
  }
  const ratio = result.ratio === undefined ? "-" : result.ratio.toFixed(2);
  const met = result.informational ? "-" : result.met ? "yes" : "NO";
  process.stdout.write(`${line([result.name, ratio, result.goal, met])}\n    ${result.detail}\n`);
}
await writeFile(
  new URL("./results.json", import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`,
);
