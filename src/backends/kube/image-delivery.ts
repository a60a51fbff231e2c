import type { KubernetesObject } from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { ClusterSpec, LocalClusterTool } from "./cluster-provider.js";

// How an environment's local images reach its cluster's node, apart from making the
// cluster (lifecycle) and reaching it (ports): loaded into the node as an archive (kind
// load, minikube image load), or pushed to a registry the node pulls from
// (registry-delivery.ts). Each says which reference the node knows an image by, and the
// manifests are applied with those references.

export interface ImageDelivery {
  readonly name: "archive" | "registry";
  /** Delivers the images (local tags); resolves the reference each is pulled by in the
   *  cluster. `delivered`: tags this cluster had already, by the record. */
  deliver(
    spec: ClusterSpec,
    images: readonly string[],
    delivered: ReadonlySet<string>,
    onDetail?: (detail: string) => void,
  ): Promise<DeliveryResult>;
}

export interface DeliveryResult {
  /** Local tag -> the reference the cluster pulls it by. */
  references: Record<string, string>;
  /** The tags that were sent this time (the others were there already). */
  sent: string[];
}

/** Into the node's own image store: the whole image each time it is new to the cluster. */
export class ArchiveDelivery implements ImageDelivery {
  readonly name = "archive";

  constructor(private readonly provider: Pick<LocalClusterTool, "loadImages">) {}

  async deliver(
    spec: ClusterSpec,
    images: readonly string[],
    delivered: ReadonlySet<string>,
  ): Promise<DeliveryResult> {
    const missing = images.filter((image) => !delivered.has(image));
    if (missing.length > 0) await this.provider.loadImages(spec, missing);
    return { references: Object.fromEntries(images.map((image) => [image, image])), sent: missing };
  }
}

const POD_TEMPLATE_PATHS: Record<string, readonly string[]> = {
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

/** The objects with each container's image replaced by the reference it is delivered as. */
export function withDeliveredImages(
  objects: readonly KubernetesObject[],
  references: Readonly<Record<string, string>>,
): KubernetesObject[] {
  return objects.map((object) => {
    const path = POD_TEMPLATE_PATHS[object.kind ?? ""];
    if (!path) return object;
    const copy = structuredClone(object) as unknown as Record<string, unknown>;
    let template: unknown = copy;
    for (const key of path) template = (template as Record<string, unknown> | undefined)?.[key];
    const spec = (template as { spec?: Record<string, unknown> } | undefined)?.spec;
    for (const list of ["initContainers", "containers"]) {
      for (const container of (spec?.[list] as { image?: string }[] | undefined) ?? []) {
        const reference = container.image ? references[container.image] : undefined;
        if (reference) container.image = reference;
      }
    }
    return copy as unknown as KubernetesObject;
  });
}

/** The manifests file for objects whose images were replaced: the header kept. */
export function manifestsYaml(original: string, objects: readonly KubernetesObject[]): string {
  const header = original.startsWith("#") ? `${original.split("\n")[0]}\n` : "";
  return `${header}${objects.map((object) => stringify(object, { lineWidth: 0 })).join("---\n")}`;
}
