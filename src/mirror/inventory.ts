import { type ManifestDocument, SUPPORTED_KINDS } from "./manifests.js";

// What of production's manifests a local environment takes. DaemonSets (one pod per node:
// log shippers, node agents) and kinds prodlike does not know (custom resources) are listed
// as skipped, never silently dropped. Secret values are dropped here, at the door: only
// their keys go on, so no production secret is ever written to disk.

export interface Skipped {
  kind: string;
  name: string;
  source: string;
  index: number;
  reason: string;
}

export interface Inventory {
  documents: ManifestDocument[];
  skipped: Skipped[];
}

export function takeInventory(documents: readonly ManifestDocument[]): Inventory {
  const kept: ManifestDocument[] = [];
  const skipped: Skipped[] = [];
  for (const document of documents) {
    const { kind, metadata } = document.object;
    const skip = (reason: string) =>
      skipped.push({
        kind,
        name: metadata.name,
        source: document.source,
        index: document.index,
        reason,
      });
    if (kind === "DaemonSet") {
      skip(
        "a DaemonSet runs one pod per node (agents, log shippers): not part of a local environment",
      );
    } else if (!(kind in SUPPORTED_KINDS)) {
      skip(
        `${kind} (${document.object.apiVersion}) is not mirrored: a custom resource or a kind prodlike does not know`,
      );
    } else {
      kept.push(
        kind === "Secret" ? { ...document, object: withoutValues(document.object) } : document,
      );
    }
  }
  return { documents: kept, skipped };
}

/** A Secret with its keys and without its values. */
function withoutValues(secret: ManifestDocument["object"]): ManifestDocument["object"] {
  const keys = [
    ...Object.keys((secret.data as Record<string, unknown> | undefined) ?? {}),
    ...Object.keys((secret.stringData as Record<string, unknown> | undefined) ?? {}),
  ];
  const { data: _data, stringData: _stringData, ...rest } = secret;
  return {
    ...rest,
    stringData: Object.fromEntries([...new Set(keys)].sort().map((key) => [key, ""])),
  };
}
