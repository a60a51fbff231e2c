import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeRuntimeChoices } from "../config/edit-config.js";
import { parseYaml, validateYaml } from "../config/yaml-source.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { takeInventory } from "../mirror/inventory.js";
import { parseManifests } from "../mirror/manifests.js";
import type { AppliedTransform } from "../mirror/transforms.js";
import {
  compareWorkloads,
  DIFF_FIELDS,
  type Difference,
  type PolicyRule,
} from "../parity/compare.js";
import { type FollowedRuntime, runtimeToFollow } from "../parity/follow.js";
import { declaredFacts, mergeFacts } from "../parity/runtime-facts.js";
import { type WorkloadView, workloadViews } from "../parity/workload-view.js";
import { MIRROR_DIR, readProduction, readProductionFiles } from "./mirror.js";
import { runningSide } from "./parity-running.js";
import { resolveTarget, type TargetOptions } from "./plan.js";
import type { CoreServices } from "./services.js";

// `prodlike parity`: where the local environment differs from production, and whether
// each difference is expected (a listed transform, the team's policy) or not.

export interface ParityReport {
  against: "rendered" | "running";
  production: string;
  local: string;
  differences: Difference[];
  unexpected: number;
  /** `--write`: what production runs, written into prodlike.yaml for the next `up`. */
  written?: FollowedRuntime & { file: string; changed: boolean };
}

const policySchema = z.strictObject({
  allow: z
    .array(
      z.strictObject({
        workload: z.string().min(1).optional(),
        container: z.string().min(1).optional(),
        field: z.enum(DIFF_FIELDS).optional(),
        reason: z.string().min(1),
      }),
    )
    .default([]),
});

export async function parity(
  services: CoreServices,
  request: TargetOptions & {
    manifests?: string | undefined;
    against: "rendered" | "running";
    policy?: string | undefined;
    /** Write production's PHP version, extensions and database into prodlike.yaml. */
    write?: boolean | undefined;
  },
): Promise<ParityReport> {
  const target = await resolveTarget(services, request);
  const { codeRoot } = target.loaded;
  // Without --manifests: production where the last mirror read it, a live cluster too.
  const { source, documents } =
    request.manifests === undefined
      ? await readProduction(services, target, request)
      : await readProductionFiles(services, target, request.manifests, {
          question: "Which production manifests?",
          hint: "Pass --manifests PATH, or set mirror.from in prodlike.yaml.",
        });
  const production = takeInventory(documents).documents.map((document) => document.object);
  const dir = path.join(codeRoot, MIRROR_DIR);
  const localFile = path.join(dir, "manifests.yaml");
  const [localText, reportText] = await Promise.all([
    readFile(localFile, "utf8").catch(() => undefined),
    readFile(path.join(dir, "report.json"), "utf8").catch(() => undefined),
  ]);
  if (localText === undefined) {
    throw new ProdlikeError("USAGE", `Nothing to compare: ${localFile} does not exist`, {
      hint: "Run prodlike mirror first.",
    });
  }
  const transforms = reportText ? mirrorReportTransforms(reportText, dir) : [];
  const policy = request.policy ? await readPolicy(request.policy) : [];
  const declared = target.loaded.config.mirror?.runtime ?? {};
  // What the team declares about production's custom images, over what the images tell.
  let productionViews = workloadViews(production).map((view) => ({
    ...view,
    containers: view.containers.map((container) => {
      const stated = declared[`${view.name}/${container.name}`] ?? declared[container.name];
      return stated
        ? { ...container, runtime: mergeFacts(container.runtime ?? {}, declaredFacts(stated)) }
        : container;
    }),
  }));
  let localViews: WorkloadView[];
  let local = localFile;
  if (request.against === "running") {
    const running = await runningSide(services, request, productionViews);
    ({ production: productionViews, local: localViews, label: local } = running);
  } else {
    localViews = workloadViews(
      parseManifests(localText, localFile).map((document) => document.object),
    );
  }
  const differences = compareWorkloads(productionViews, localViews, { transforms, policy });
  const report: ParityReport = {
    against: request.against,
    production: source,
    local,
    differences,
    unexpected: differences.filter((difference) => !difference.expected).length,
  };
  if (request.write) {
    // Extensions only against a running environment: only it says what PHP loads here.
    const followed = runtimeToFollow(
      productionViews,
      request.against === "running" ? localViews : undefined,
    );
    const file = target.loaded.file ?? path.join(codeRoot, "prodlike.yaml");
    const { changed } = await writeRuntimeChoices(file, {
      php: followed.php,
      database: followed.database,
      addExtensions: followed.addExtensions,
    });
    report.written = { ...followed, file, changed };
  }
  return report;
}

async function readPolicy(file: string): Promise<PolicyRule[]> {
  const content = await readFile(file, "utf8").catch(() => {
    throw new ProdlikeError("USAGE", `${file} does not exist`, {
      hint: "--policy names a YAML file with `allow:` rules.",
    });
  });
  return validateYaml(
    parseYaml(file, content),
    policySchema,
    () =>
      "Rules: allow: [{ workload, container, field, reason }]; field is one of " +
      DIFF_FIELDS.join(", "),
  ).allow;
}

// What the last `prodlike mirror` changed on purpose (its report.json): a report that is
// not one is said, never read as "nothing was changed".
function mirrorReportTransforms(text: string, dir: string): AppliedTransform[] {
  const report = z
    .object({
      transforms: z
        .array(
          z.object({
            transform: z.string(),
            kind: z.string(),
            name: z.string(),
            detail: z.string(),
            container: z.string().optional(),
          }),
        )
        .default([]),
    })
    .safeParse(parseJsonOrNothing(text));
  if (!report.success) {
    throw new ProdlikeError(
      "STATE_INVALID",
      `The last mirror's report is damaged: ${path.join(dir, "report.json")}`,
      { hint: "Run prodlike mirror again: it writes the report anew." },
    );
  }
  return report.data.transforms as AppliedTransform[];
}

function parseJsonOrNothing(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
