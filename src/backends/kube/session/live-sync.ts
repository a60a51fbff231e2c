import { type FSWatcher, watch } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import type { EnvironmentRecord } from "../../../env/environment-records.js";
import type { Clock } from "../../../waits/clock.js";
import type { KubeApi, PodInfo } from "../kube-api.js";
import { kindOf, listCodeTree } from "../sync/code-tree.js";
import type { IgnoreRules } from "../sync/ignore-rules.js";
import { packTar, type TarOwner } from "../sync/tar-pack.js";

// Live code on a remote cluster: the checkout is watched, changes are gathered for a
// moment (an editor's save, a git checkout's thousand files: one batch), and each batch
// goes to every pod that mounts the code as one exec: the deleted paths removed (a rename
// is the old name deleted and the new one sent), the changed ones unpacked from a tar
// stream on its stdin. Ignored paths (.gitignore, sync.exclude) never leave the machine.

/** How long a batch waits for more changes after the last one. */
const SETTLE_MS = 30;
/** The longest a batch waits while changes keep coming. */
const MAX_WAIT_MS = 250;

export interface SyncBatch {
  /** Files, links and folders sent (relative paths; a folder ends with `/`). */
  sent: string[];
  deleted: string[];
  /** Pods it went to. */
  pods: string[];
  bytes: number;
  ms: number;
}

export interface LiveSyncOptions {
  api: KubeApi;
  record: EnvironmentRecord & { sync: NonNullable<EnvironmentRecord["sync"]> };
  rules: IgnoreRules;
  owner: TarOwner;
  clock: Clock;
  onBatch(batch: SyncBatch): void;
  onError(message: string): void;
}

export class LiveSync {
  private watcher: FSWatcher | undefined;
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private firstPendingAt = 0;
  private running: Promise<void> = Promise.resolve();
  /** The pods each target had when the tree was last complete in them. */
  private readonly knownPods = new Map<string, Set<string>>();

  constructor(private readonly options: LiveSyncOptions) {}

  start(): void {
    const { codeRoot } = this.options.record;
    this.watcher = watch(codeRoot, { recursive: true }, (_event, name) => {
      if (!name) return;
      const relative = name.toString().split(path.sep).join("/");
      if (this.options.rules.ignores(relative, false)) return;
      this.pending.add(relative);
      this.schedule();
    });
    this.watcher.on("error", (error) => this.options.onError(`watching: ${error.message}`));
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Sends what is pending now (tests and the end of a session). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const paths = [...this.pending];
    this.pending.clear();
    this.running = this.running.then(() =>
      this.send(paths).catch((error: unknown) =>
        this.options.onError(error instanceof Error ? error.message : String(error)),
      ),
    );
    return this.running;
  }

  private schedule(): void {
    const now = Date.now();
    if (!this.timer) this.firstPendingAt = now;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(SETTLE_MS, this.firstPendingAt + MAX_WAIT_MS - now));
    this.timer = setTimeout(() => void this.flush(), wait);
  }

  private async send(paths: readonly string[]): Promise<void> {
    const started = this.options.clock.now();
    const { codeRoot, sync } = this.options.record;
    const sent = new Set<string>();
    const deleted = new Set<string>();
    for (const relative of [...new Set(paths)].sort()) {
      if (!isInside(relative)) continue;
      const kind = await kindOf(codeRoot, relative);
      if (kind === undefined) {
        deleted.add(relative);
        continue;
      }
      if (this.options.rules.ignores(relative, kind === "folder")) continue;
      if (kind !== "folder") {
        sent.add(relative);
        continue;
      }
      // A folder moved or made in one go: its own events may never come.
      sent.add(`${relative}/`);
      const inside = await listCodeTree(path.join(codeRoot, relative), this.options.rules);
      for (const child of inside) sent.add(`${relative}/${child}`);
    }
    // Every pod at once: the web pod serves the edit without waiting behind the cli's.
    const unpacked = await Promise.all(
      sync.targets.map(async (target) => {
        const ready = (
          await this.options.api.listPods(this.options.record.namespace, target.selector)
        ).filter(isRunning);
        const known = this.knownPods.get(target.selector);
        const done = await Promise.all(
          ready.map(async (pod) => {
            // A pod started since (a restart, a reschedule) has the tree as `up` baked it:
            // it gets the whole tree, not just this batch.
            const fresh = known !== undefined && !known.has(pod.uid);
            const entries = fresh
              ? await listCodeTree(codeRoot, this.options.rules)
              : [...sent].sort();
            if (entries.length === 0 && deleted.size === 0) return [];
            const bytes = await this.unpack(pod.name, target, entries, fresh ? [] : [...deleted]);
            return [{ pod: pod.name, bytes }];
          }),
        );
        this.knownPods.set(target.selector, new Set(ready.map((pod) => pod.uid)));
        return done.flat();
      }),
    );
    const pods = unpacked.flat().map((done) => done.pod);
    const bytes = unpacked.flat().reduce((sum, done) => sum + done.bytes, 0);
    if (sent.size > 0 || deleted.size > 0)
      this.options.onBatch({
        sent: [...sent].sort(),
        deleted: [...deleted].sort(),
        pods,
        bytes,
        ms: this.options.clock.now() - started,
      });
  }

  /** Notes the pods that have the tree now (the session's start, right after `up`). */
  async learnPods(): Promise<void> {
    for (const target of this.options.record.sync.targets) {
      const pods = await this.options.api.listPods(this.options.record.namespace, target.selector);
      this.knownPods.set(target.selector, new Set(pods.filter(isRunning).map((pod) => pod.uid)));
    }
  }

  private async unpack(
    pod: string,
    target: { container: string; path: string },
    entries: readonly string[],
    deleted: readonly string[],
  ): Promise<number> {
    const stdin = new PassThrough();
    const script = entries.length
      ? 'cd "$1" && shift && rm -rf -- "$@" && tar -x -m -f -'
      : 'cd "$1" && shift && rm -rf -- "$@"';
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let errors = "";
    stderr.on("data", (chunk: Buffer) => (errors += chunk.toString("utf8")));
    stdout.resume();
    const command = ["sh", "-c", script, "sh", target.path, ...deleted];
    const run = this.options.api.exec(
      this.options.record.namespace,
      pod,
      target.container,
      command,
      { stdin: entries.length ? stdin : null, stdout, stderr, tty: false },
    );
    let bytes = 0;
    if (entries.length) {
      bytes = await packTar(this.options.record.codeRoot, entries, this.options.owner, (chunk) => {
        stdin.write(chunk);
      });
      stdin.end();
    }
    const code = await run;
    if (code !== 0) throw new Error(`sync into ${pod} failed (exit ${code}): ${errors.trim()}`);
    return bytes;
  }
}

function isRunning(pod: PodInfo): boolean {
  return !pod.terminating && pod.phase === "Running";
}

// Paths from the watcher are relative to the checkout; nothing may climb out of it.
function isInside(relative: string): boolean {
  return relative !== "" && !path.isAbsolute(relative) && !relative.split("/").includes("..");
}
