import { readFile } from "node:fs/promises";
import path from "node:path";
import type { KubernetesObject } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { ProdlikeError } from "../../errors/prodlike-error.js";
import { ReleaseFiles } from "../release-files.js";

// A cluster release is the manifests `up` applied, and the config hash its record had.
// Going back is applying them again: each Deployment's controller finds the ReplicaSet of
// that pod template still there (it keeps `revisionHistoryLimit` of them) and scales it
// back up, which is what `kubectl rollout undo` does, and a StatefulSet rolls to its
// earlier ControllerRevision; ConfigMaps and Services go back too, which rollout undo
// leaves alone. The volume claims are never in question: nothing here deletes.

export const MANIFESTS_FILE = "manifests.yaml";

export function clusterReleases(dir: string, keep?: number): ReleaseFiles {
  return new ReleaseFiles(dir, [MANIFESTS_FILE], keep);
}

/** The objects a kept release applied. */
export async function releaseObjects(folder: string): Promise<KubernetesObject[]> {
  const file = path.join(folder, MANIFESTS_FILE);
  const documents = parseAllDocuments(await readFile(file, "utf8"));
  const list = Array.isArray(documents) ? documents : [documents];
  const objects: KubernetesObject[] = [];
  for (const document of list) {
    if (document.errors.length > 0) {
      throw new ProdlikeError("RELEASE_NOT_FOUND", `The kept release in ${folder} is damaged`, {
        hint: `${file}: ${document.errors[0]?.message ?? "not YAML"}. Run \`prodlike up\` to make a new release.`,
      });
    }
    const object = document.toJS() as KubernetesObject | null;
    if (object?.kind && object.apiVersion) objects.push(object);
  }
  return objects;
}
