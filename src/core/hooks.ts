import { randomBytes } from "node:crypto";
import type { Backend } from "../backends/backend.js";
import type { HOOK_EVENTS, ProdlikeConfig } from "../config/schema.js";
import { printable } from "../errors/printable.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { CommandRunner } from "../process/command-runner.js";
import { parseTtl } from "../ui/duration.js";
import type { Progress } from "../ui/steps.js";

// A project's own steps around prodlike's (prodlike.yaml `hooks:`): `drush updb` after a
// pull, a seed script after `up`, a backup before `destroy`. Each runs in order as a task
// of its own; a failing one stops the command with the hook's own exit code and output,
// unless it says `continueOnError`.
//
// A step ends with prodlike: it is stopped past its `timeout:` (10 minutes unless it says),
// and on Ctrl-C, with what it started: on the host its whole process group, in a service
// every process that carries the step's marker in its environment (a `docker exec` that
// is cut off leaves its command running in the container otherwise).

/** How long a step may run unless it says `timeout:`. */
export const DEFAULT_HOOK_TIMEOUT_MS = 10 * 60_000;

export type HookEvent = (typeof HOOK_EVENTS)[number];

export interface HookRun {
  event: HookEvent;
  step: string;
  exitCode: number;
  /** The step's output, its last lines. */
  output: string;
}

export interface HookContext {
  config: ProdlikeConfig;
  backend: Backend;
  runner: CommandRunner;
  envId: string;
  codeRoot: string;
  /** The environment's web URL, given to host steps as PRODLIKE_URL. */
  url?: string | undefined;
}

type HookStep = NonNullable<ProdlikeConfig["hooks"]>[HookEvent] extends (infer S)[] | undefined
  ? S
  : never;

interface StepResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  stopped?: "timeout" | "interrupt";
}

export async function runHooks(
  event: HookEvent,
  context: HookContext,
  progress: Progress,
): Promise<HookRun[]> {
  const steps = context.config.hooks?.[event] ?? [];
  const runs: HookRun[] = [];
  if (steps.length === 0) return runs;
  // Ctrl-C while a step runs stops the step (and what it started), then prodlike.
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once("SIGINT", onSigint);
  try {
    await progress.run(
      steps.map((step) => {
        const what = "exec" in step ? `exec ${step.exec}` : `host ${step.host}`;
        return {
          title: `${event}: ${what}`,
          run: async (task) => {
            const timeoutMs = timeoutOf(step);
            const result = await runStep(step, context, { timeoutMs, signal: interrupt.signal });
            const output = printable(tail(`${result.stdout}\n${result.stderr}`), 500);
            runs.push({ event, step: what, exitCode: result.exitCode, output });
            if (result.stopped === "interrupt") {
              throw new ProdlikeError("INTERRUPTED", `${event} hook \`${what}\` was interrupted`, {
                hint: "It was stopped, with what it started (on the host and in the container).",
              });
            }
            if (result.exitCode === 0 && !result.stopped) {
              task.setTitle(`${event}: ${what}`);
              if (output) progress.info(output);
              return;
            }
            const failure = result.stopped
              ? new ProdlikeError(
                  "HOOK_TIMEOUT",
                  `${event} hook \`${what}\` ran past its timeout (${formatTimeout(timeoutMs)}) and was stopped`,
                  {
                    hint: `${output || "It printed nothing."}\nGive the step more time in prodlike.yaml (\`timeout: 30m\` on it), or run with --no-hooks.`,
                    data: { event, step: what, timeoutMs },
                  },
                )
              : new ProdlikeError(
                  "HOOK_FAILED",
                  `${event} hook \`${what}\` exited ${result.exitCode}`,
                  {
                    hint: `${output || "It printed nothing."}\nFix the step in prodlike.yaml \`hooks.${event}\`, mark it continueOnError, or run with --no-hooks.`,
                    exitCode: result.exitCode,
                    data: { event, step: what, exitCode: result.exitCode },
                  },
                );
            if (step.continueOnError) {
              progress.warn(`${failure.message} (continueOnError)\n${output}`);
              return;
            }
            throw failure;
          },
        };
      }),
    );
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
  return runs;
}

function timeoutOf(step: HookStep): number {
  if (!step.timeout) return DEFAULT_HOOK_TIMEOUT_MS;
  const parsed = parseTtl(step.timeout, "timeout");
  return parsed === "never" ? DEFAULT_HOOK_TIMEOUT_MS : parsed;
}

function formatTimeout(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

async function runStep(
  step: HookStep,
  context: HookContext,
  limits: { timeoutMs: number; signal: AbortSignal },
): Promise<StepResult> {
  if ("exec" in step) return runInService(step.exec, context, limits);
  const result = await context.runner.run("sh", ["-c", step.host], {
    cwd: context.codeRoot,
    env: {
      PRODLIKE_ENV: context.envId,
      ...(context.url ? { PRODLIKE_URL: context.url } : {}),
    },
    timeoutMs: limits.timeoutMs,
    signal: limits.signal,
    group: true,
  });
  const stopped = limits.signal.aborted ? "interrupt" : result.timedOut ? "timeout" : undefined;
  return { ...result, ...(stopped ? { stopped } : {}) };
}

// Every process of the step in the service carries PRODLIKE_HOOK=<nonce> (children inherit
// it): what stops it finds them by it, in /proc, with only sh, tr and grep.
const STOP_MARKED = [
  'stop() { for pid in [0-9]*; do [ "$pid" = "$$" ] && continue;',
  '{ tr "\\000" "\\n" < "$pid/environ"; } 2>/dev/null | grep -qx "PRODLIKE_HOOK=$1" && kill "-$2" "$pid" 2>/dev/null; done; };',
  "cd /proc &&",
  'stop "$1" TERM; sleep 1; stop "$1" KILL; true',
].join(" ");

async function runInService(
  exec: string,
  context: HookContext,
  limits: { timeoutMs: number; signal: AbortSignal },
): Promise<StepResult> {
  const [service = ""] = exec.trim().split(/\s+/);
  const command = exec.trim().slice(service.length).trim();
  const nonce = randomBytes(8).toString("hex");
  const running = context.backend.execStream(context.envId, {
    service,
    command: ["env", `PRODLIKE_HOOK=${nonce}`, "sh", "-c", command],
  });
  let timer: NodeJS.Timeout | undefined;
  const cutOff = new Promise<"timeout" | "interrupt">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), limits.timeoutMs);
    limits.signal.addEventListener("abort", () => resolve("interrupt"), { once: true });
    if (limits.signal.aborted) resolve("interrupt");
  });
  const first = await Promise.race([running, cutOff]);
  clearTimeout(timer);
  // Ctrl-C reaches the docker CLI too, which then ends at once: the command in the
  // container does not, so it is stopped whichever came first.
  const stopped =
    typeof first === "string" ? first : limits.signal.aborted ? "interrupt" : undefined;
  if (!stopped && typeof first !== "string") return first;
  await context.backend
    .execStream(context.envId, {
      service,
      command: ["sh", "-c", STOP_MARKED, "prodlike-stop", nonce],
    })
    .catch(() => undefined);
  const ended = await Promise.race([
    running,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 15_000).unref()),
  ]);
  return {
    exitCode: ended?.exitCode ?? 143,
    stdout: ended?.stdout ?? "",
    stderr: ended?.stderr ?? "",
    stopped: stopped ?? "interrupt",
  };
}

function tail(text: string): string {
  return text.trim().split("\n").slice(-20).join("\n");
}
