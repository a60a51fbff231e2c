import type { EnvironmentRecord } from "../../../env/environment-records.js";
import type { Clock } from "../../../waits/clock.js";
import type { KubeApi } from "../kube-api.js";
import { codeIgnoreRules } from "../sync/code-tree.js";
import { LiveSync, type SyncBatch } from "./live-sync.js";
import { PortForwards } from "./port-forwards.js";

// What keeps an environment on an existing cluster usable from this machine after `up`
// returns: its ports forwarded to 127.0.0.1, and its code synced live (unless baked).
// Runs until the signal: in the background (`up` starts it, `down` and `destroy` stop
// it) or in the foreground (`prodlike connect`).

export interface SessionOptions {
  api: KubeApi;
  record: EnvironmentRecord;
  clock: Clock;
  signal: AbortSignal;
  onLine(line: string): void;
  onReady(): void;
  /** Where the local router dials this machine (the forwards listen there too). */
  routerAddress?(): Promise<string | undefined>;
  /** Told about each batch the sync sent (the benchmark times them). */
  onBatch?(batch: SyncBatch): void;
}

export async function runClusterSession(options: SessionOptions): Promise<void> {
  const { record } = options;
  const forwards = new PortForwards(options.api, record, { onLine: options.onLine }, async () =>
    options.routerAddress?.(),
  );
  await forwards.open();
  let sync: LiveSync | undefined;
  if (record.sync) {
    sync = new LiveSync({
      api: options.api,
      record: { ...record, sync: record.sync },
      rules: await codeIgnoreRules(record.codeRoot, record.sync.exclude),
      owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
      clock: options.clock,
      onBatch: (batch) => {
        options.onLine(
          `synced ${batch.sent.length} sent, ${batch.deleted.length} deleted into ${batch.pods.length} pods in ${batch.ms} ms`,
        );
        options.onBatch?.(batch);
      },
      onError: (message) => options.onLine(`sync: ${message}`),
    });
    await sync.learnPods();
    sync.start();
    options.onLine(`syncing ${record.codeRoot} into ${record.sync.targets.length} workloads`);
  }
  options.onReady();
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await sync?.stop();
  await forwards.close();
}
