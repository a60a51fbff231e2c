import type http from "node:http";
import type { ResourceType } from "./resources.js";
import { ApiError } from "./status.js";
import { type KubeJson, matchesFields, matchesLabels, type Store } from "./store.js";

// A watch: the changes after `resourceVersion` (without one, `listed` as ADDED), then
// each change as it happens, one JSON event per line of a chunked response; a version
// older than the history answers an ERROR event with 410 Gone, as etcd compaction does.

export function serveWatch(
  store: Store,
  request: http.IncomingMessage,
  response: http.ServerResponse,
  type: ResourceType,
  namespace: string,
  query: URLSearchParams,
  listed: readonly KubeJson[],
): void {
  response.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
  const labels = query.get("labelSelector") ?? "";
  const fields = query.get("fieldSelector") ?? "";
  const matches = (object: KubeJson) =>
    (!namespace || !type.namespaced || object.metadata.namespace === namespace) &&
    matchesLabels(object.metadata.labels, labels) &&
    matchesFields(object, fields);
  const send = (kind: string, object: unknown) =>
    response.write(`${JSON.stringify({ type: kind, object })}\n`);
  const from = Number(query.get("resourceVersion") ?? "0");
  if (from > 0 && from < store.oldestWatchable - 1) {
    send(
      "ERROR",
      new ApiError(410, "Expired", `too old resource version: ${from} (${store.oldestWatchable})`)
        .status,
    );
    response.end();
    return;
  }
  if (from > 0) {
    for (const change of store.since(from))
      if (change.resource === type && matches(change.object)) send(change.type, change.object);
  } else for (const object of listed) send("ADDED", object);
  const listener = (change: { resource: ResourceType; type: string; object: KubeJson }) => {
    if (change.resource === type && matches(change.object)) send(change.type, change.object);
  };
  store.changes.on("change", listener);
  const timeout = Number(query.get("timeoutSeconds") ?? "0");
  const timer = timeout > 0 ? setTimeout(() => response.end(), timeout * 1000) : undefined;
  const stop = () => {
    store.changes.off("change", listener);
    if (timer) clearTimeout(timer);
  };
  request.on("close", stop);
  response.on("close", stop);
}
