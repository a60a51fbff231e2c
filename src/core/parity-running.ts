import type { Backend } from "../backends/backend.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { podSpecOf } from "../kube/pods.js";
import { workloadSelector } from "../kube/web-entry.js";
import { runningViews } from "../parity/running-view.js";
import {
  mergeFacts,
  parseProbe,
  RUNTIME_PROBE,
  type RuntimeFacts,
} from "../parity/runtime-facts.js";
import { type ContainerView, type WorkloadView, workloadViews } from "../parity/workload-view.js";
import { Label, MirrorLabel } from "../topology/labels.js";
import { backendFor, type EnvRequest } from "./environments.js";
import type { CoreServices } from "./services.js";

// `parity --against running`: the environment `up --mirror` runs, as workload views, with
// what each running container says about its PHP and database. Compose shows containers
// (so production's views lose what a container cannot show); a cluster shows the objects.

type Probe = { key: string; run: () => Promise<RuntimeFacts> };

export async function runningSide(
  services: CoreServices,
  request: EnvRequest,
  production: WorkloadView[],
): Promise<{ production: WorkloadView[]; local: WorkloadView[]; label: string }> {
  const { backend, identity } = await backendFor(services, request);
  let local: WorkloadView[];
  let probes: Probe[];
  const running = await backend.running(identity.id);
  if (running.shape === "containers") {
    const { containers } = running;
    local = runningViews(containers);
    // What a running compose container cannot show is not compared: ports (compose
    // declares none per container), probes (compose runs none), and which ConfigMap or
    // Secret key an environment value came from (compose resolved it into the value).
    // A container shows what envFrom brought in as its own variables: so does production's
    // side here.
    production = mapContainers(production, ({ envFromNames, ...container }) =>
      joinCommand({
        ...container,
        envNames: [...new Set([...container.envNames, ...(envFromNames ?? [])])].sort(),
        ports: [],
        probes: [],
        configKeys: container.configKeys.filter((key) => key.includes("@")),
      }),
    );
    // Compose splits a command between entrypoint and cmd where the manifest had command
    // and args: compared joined on both sides.
    local = mapContainers(local, joinCommand);
    probes = containers.flatMap(({ labels }) => {
      const service = labels[Label.service];
      const at = labels[MirrorLabel.workload];
      const container = labels[MirrorLabel.container];
      if (!service || !at || !container || labels[MirrorLabel.init] === "true") return [];
      return [{ key: `${at}|${container}`, run: () => probe(backend, identity.id, service) }];
    });
  } else {
    // A cluster runs the objects themselves: everything is compared as applied.
    const { objects } = running;
    local = workloadViews(objects);
    probes = objects.flatMap((object) => {
      // Jobs are not probed: they do not stay up.
      const selector = workloadSelector(object);
      if (!selector) return [];
      return (podSpecOf(object)?.containers ?? []).map((container) => ({
        key: `${object.kind}/${object.metadata.name}|${container.name}`,
        run: () => probe(backend, identity.id, container.name, selector),
      }));
    });
  }
  if (local.length === 0) {
    throw new ProdlikeError("USAGE", `${identity.id} does not run production's layout`, {
      hint: "Start it with prodlike up --mirror, then compare.",
    });
  }
  // PHP and the database as the containers report them, where the image cannot tell.
  const answers = new Map(
    await Promise.all(probes.map(async (entry) => [entry.key, await entry.run()] as const)),
  );
  local = mapContainers(local, (container, view) => {
    const facts = answers.get(`${view.kind}/${view.name}|${container.name}`);
    return facts
      ? { ...container, runtime: mergeFacts(container.runtime ?? {}, facts) }
      : container;
  });
  return { production, local, label: `${identity.id} (running)` };
}

// A container without a shell, or one that stopped meanwhile, tells nothing: its runtime
// is left uncompared rather than failing the whole report.
async function probe(
  backend: Pick<Backend, "execStream">,
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

function mapContainers(
  views: readonly WorkloadView[],
  change: (container: ContainerView, view: WorkloadView) => ContainerView,
): WorkloadView[] {
  return views.map((view) => ({
    ...view,
    containers: view.containers.map((container) => change(container, view)),
  }));
}

function joinCommand(container: ContainerView): ContainerView {
  return { ...container, command: [...container.command, ...container.args], args: [] };
}
