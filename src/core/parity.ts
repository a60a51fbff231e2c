import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { Backend } from "../backends/backend.js";
import { parseYaml, validateYaml } from "../config/yaml-source.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { takeInventory } from "../mirror/inventory.js";
import { type ManifestObject, parseManifests } from "../mirror/manifests.js";
import { type AppliedTransform, podSpecOf } from "../mirror/transforms.js";
import { workloadSelector } from "../mirror/web-entry.js";
import {
  compareWorkloads,
  DIFF_FIELDS,
  type Difference,
  type PolicyRule,
} from "../parity/compare.js";
import { runningViews } from "../parity/running-view.js";
import {
  declaredFacts,
  mergeFacts,
  parseProbe,
  RUNTIME_PROBE,
  type RuntimeFacts,
} from "../parity/runtime-facts.js";
import { type ContainerView, type WorkloadView, workloadViews } from "../parity/workload-view.js";
import { Label, MirrorLabel } from "../topology/labels.js";
import { MIRROR_DIR, readProductionFiles } from "./mirror.js";
import { backendFor } from "./operations.js";
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
  },
): Promise<ParityReport> {
  const target = await resolveTarget(request);
  const { codeRoot } = target.loaded;
  const { source, documents } = await readProductionFiles(services, target, request.manifests, {
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
  const transforms = reportText
    ? ((JSON.parse(reportText) as { transforms?: AppliedTransform[] }).transforms ?? [])
    : [];
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
    const { backend, identity } = await backendFor(services, request);
    let probes: Probe[];
    if (backend.runningConfigs) {
      const running = await backend.runningConfigs(identity.id);
      localViews = runningViews(running);
      // What a running compose container cannot show is not compared: ports (compose
      // declares none per container), probes (compose runs none), and which ConfigMap or
      // Secret key an environment value came from (compose resolved it into the value).
      productionViews = mapContainers(productionViews, (container) =>
        joinCommand({
          ...container,
          ports: [],
          probes: [],
          configKeys: container.configKeys.filter((key) => key.includes("@")),
        }),
      );
      // Compose splits a command between entrypoint and cmd where the manifest had command
      // and args: compared joined on both sides.
      localViews = mapContainers(localViews, joinCommand);
      probes = running.flatMap(({ labels }) => {
        const service = labels[Label.service];
        const at = labels[MirrorLabel.workload];
        const container = labels[MirrorLabel.container];
        if (!service || !at || !container || labels[MirrorLabel.init] === "true") return [];
        return [{ key: `${at}|${container}`, run: () => probe(backend, identity.id, service) }];
      });
    } else if (backend.runningObjects) {
      // A cluster runs the objects themselves: everything is compared as applied.
      const objects = (await backend.runningObjects(identity.id)) as ManifestObject[];
      localViews = workloadViews(objects);
      probes = objects.flatMap((object) => {
        // Jobs are not probed: they do not stay up.
        const selector = workloadSelector(object);
        if (!selector) return [];
        return (podSpecOf(object)?.containers ?? []).map((container) => ({
          key: `${object.kind}/${object.metadata.name}|${container.name}`,
          run: () => probe(backend, identity.id, container.name, selector),
        }));
      });
    } else {
      throw new ProdlikeError(
        "NOT_SUPPORTED",
        `parity --against running cannot read ${backend.name} environments`,
        { hint: "Use --against rendered for the mirrored manifests." },
      );
    }
    if (localViews.length === 0) {
      throw new ProdlikeError("USAGE", `${identity.id} does not run production's layout`, {
        hint: "Start it with prodlike up --mirror, then compare.",
      });
    }
    // PHP and the database as the containers report them, where the image cannot tell.
    const asked = await askRuntime(probes);
    localViews = localViews.map((view) => ({
      ...view,
      containers: view.containers.map((container) => {
        const facts = asked.get(`${view.kind}/${view.name}|${container.name}`);
        return facts
          ? { ...container, runtime: mergeFacts(container.runtime ?? {}, facts) }
          : container;
      }),
    }));
    local = `${identity.id} (running)`;
  } else {
    localViews = workloadViews(
      parseManifests(localText, localFile).map((document) => document.object),
    );
  }
  const differences = compareWorkloads(productionViews, localViews, { transforms, policy });
  return {
    against: request.against,
    production: source,
    local,
    differences,
    unexpected: differences.filter((difference) => !difference.expected).length,
  };
}

type Probe = { key: string; run: () => Promise<RuntimeFacts> };

async function askRuntime(probes: readonly Probe[]): Promise<Map<string, RuntimeFacts>> {
  const answers = await Promise.all(
    probes.map(async (entry) => [entry.key, await entry.run()] as const),
  );
  return new Map(answers);
}

// A container without a shell, or one that stopped meanwhile, tells nothing: its runtime
// is left uncompared rather than failing the whole report.
async function probe(
  backend: { execStream: Backend["execStream"] },
  envId: string,
  service: string,
  selector?: string,
): Promise<RuntimeFacts> {
  try {
    const result = await backend.execStream(envId, {
      service,
      command: ["sh", "-c", RUNTIME_PROBE],
      ...(selector ? { selector } : {}),
    });
    return result.exitCode === 0 ? parseProbe(result.stdout) : {};
  } catch {
    return {};
  }
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

function mapContainers(
  views: readonly WorkloadView[],
  change: (container: ContainerView) => ContainerView,
): WorkloadView[] {
  return views.map((view) => ({ ...view, containers: view.containers.map(change) }));
}

function joinCommand(container: ContainerView): ContainerView {
  return { ...container, command: [...container.command, ...container.args], args: [] };
}
