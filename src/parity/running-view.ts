import type { RunningContainer } from "../backends/backend.js";
import { splitImage } from "../kube/image-ref.js";
import { MirrorLabel } from "../topology/labels.js";
import { factsFromImage } from "./runtime-facts.js";
import type { WorkloadView } from "./workload-view.js";

// The mirrored environment as it runs (compose containers labelled by `up --mirror` with
// the workload and container they came from), as parity's workload views. What the
// image sets by itself (PATH, its entrypoint) is not the environment's: it is left out,
// as production's manifests leave it out.

export function runningViews(running: readonly RunningContainer[]): WorkloadView[] {
  const views = new Map<string, WorkloadView>();
  for (const { labels, config } of running) {
    const workload = labels[MirrorLabel.workload];
    const container = labels[MirrorLabel.container];
    if (!workload || !container) continue;
    const [kind = "", name = ""] = workload.split("/");
    const view = views.get(workload) ?? { kind, name, containers: [] };
    views.set(workload, view);
    const imageEnv = new Set(config.imageDefaults.env);
    const cron = config.entrypoint[3] === "prodlike-cron" ? config.entrypoint[4] : undefined;
    if (cron) view.schedule = cron;
    const { repository, tag } = splitImage(config.image);
    const own = (value: string[], image: string[]) =>
      value.join("\0") === image.join("\0") ? [] : value;
    view.containers.push({
      name: container,
      init: labels[MirrorLabel.init] === "true",
      repository,
      tag,
      ports: [],
      envNames: [
        ...new Set(
          config.env
            // docker-compose 1.x adds `affinity:container==ID` to a container it
            // re-creates: compose's, not the environment's.
            .filter((entry) => !imageEnv.has(entry) && !entry.startsWith("affinity:container="))
            .map((entry) => entry.split("=")[0] ?? ""),
        ),
      ].sort(),
      configKeys: config.mounts
        .flatMap((mount) => {
          // Where the compose renderer put a mirrored ConfigMap or Secret (a folder, or
          // one of its keys).
          const match = /\/config\/(configmap|secret)-([^/]+)(?:\/[^/]+)?$/.exec(mount.source);
          return match ? [`${match[1]}/${match[2]}@${mount.destination}`] : [];
        })
        .sort(),
      probes: [],
      // A CronJob's job runs as the loop's arguments: the job is its command.
      command: cron ? config.cmd : own(config.entrypoint, config.imageDefaults.entrypoint),
      args: cron ? [] : own(config.cmd, config.imageDefaults.cmd),
      runtime: factsFromImage(repository, tag),
    });
  }
  return [...views.values()];
}
