import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import type { PodContext } from "./runtime.js";

// What a pod's containers are given from the cluster's objects: ConfigMap and Secret keys
// as files (their items' paths and mode), and environment variables (values, ConfigMap
// and Secret keys, the pod's own name and namespace, envFrom).

export async function writeProjectedFiles(
  folder: string,
  files: Record<string, string>,
  options: { items: { key: string; path: string }[] | undefined; mode: number },
): Promise<void> {
  await mkdir(folder, { recursive: true });
  await chmod(folder, 0o755);
  for (const [key, value] of Object.entries(files)) {
    const target = options.items ? options.items.find((item) => item.key === key)?.path : key;
    if (!target) continue;
    await mkdir(path.dirname(path.join(folder, target)), { recursive: true });
    await writeFile(path.join(folder, target), value, { mode: options.mode });
    await chmod(path.join(folder, target), options.mode);
  }
}

export function environment(pod: V1Pod, spec: V1Container, context: PodContext): string[] {
  const values: Record<string, string> = {};
  for (const source of spec.envFrom ?? []) {
    const found = source.configMapRef
      ? context.configMap(source.configMapRef.name ?? "")
      : source.secretRef
        ? context.secret(source.secretRef.name ?? "")
        : undefined;
    for (const [key, value] of Object.entries(found ?? {}))
      values[`${source.prefix ?? ""}${key}`] = value;
  }
  for (const variable of spec.env ?? []) {
    const from = variable.valueFrom;
    const value = from?.secretKeyRef
      ? context.secret(from.secretKeyRef.name ?? "")?.[from.secretKeyRef.key]
      : from?.configMapKeyRef
        ? context.configMap(from.configMapKeyRef.name ?? "")?.[from.configMapKeyRef.key]
        : from?.fieldRef
          ? (
              {
                "metadata.name": pod.metadata?.name,
                "metadata.namespace": pod.metadata?.namespace,
              } as Record<string, string | undefined>
            )[from.fieldRef.fieldPath]
          : variable.value;
    if (value !== undefined) values[variable.name] = value;
  }
  return Object.entries(values).map(([key, value]) => `${key}=${value}`);
}
