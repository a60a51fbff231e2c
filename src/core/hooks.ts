import type { Backend } from "../backends/backend.js";
import type { HOOK_EVENTS, ProdlikeConfig } from "../config/schema.js";
import { printable } from "../errors/printable.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { CommandRunner } from "../process/command-runner.js";
import type { Progress } from "../ui/steps.js";

// A project's own steps around prodlike's (prodlike.yaml `hooks:`): `drush updb` after a
// pull, a seed script after `up`, a backup before `destroy`. Each runs in order as a task
// of its own; a failing one stops the command with the hook's own exit code and output,
// unless it says `continueOnError`.

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

export async function runHooks(
  event: HookEvent,
  context: HookContext,
  progress: Progress,
): Promise<HookRun[]> {
  const steps = context.config.hooks?.[event] ?? [];
  const runs: HookRun[] = [];
  if (steps.length === 0) return runs;
  await progress.run(
    steps.map((step) => {
      const what = "exec" in step ? `exec ${step.exec}` : `host ${step.host}`;
      return {
        title: `${event}: ${what}`,
        run: async (task) => {
          const result = await runStep(step, context);
          const output = printable(tail(`${result.stdout}\n${result.stderr}`), 500);
          runs.push({ event, step: what, exitCode: result.exitCode, output });
          if (result.exitCode === 0) {
            task.setTitle(`${event}: ${what}`);
            if (output) progress.info(output);
            return;
          }
          if (step.continueOnError) {
            progress.warn(
              `${event}: ${what} exited ${result.exitCode} (continueOnError)\n${output}`,
            );
            return;
          }
          throw new ProdlikeError(
            "HOOK_FAILED",
            `${event} hook \`${what}\` exited ${result.exitCode}`,
            {
              hint: `${output || "It printed nothing."}\nFix the step in prodlike.yaml \`hooks.${event}\`, mark it continueOnError, or run with --no-hooks.`,
              exitCode: result.exitCode,
              data: { event, step: what, exitCode: result.exitCode },
            },
          );
        },
      };
    }),
  );
  return runs;
}

async function runStep(
  step: NonNullable<ProdlikeConfig["hooks"]>[HookEvent] extends (infer S)[] | undefined ? S : never,
  context: HookContext,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  if ("exec" in step) {
    const [service = ""] = step.exec.trim().split(/\s+/);
    const command = step.exec.trim().slice(service.length).trim();
    return context.backend.execStream(context.envId, {
      service,
      command: ["sh", "-c", command],
    });
  }
  return context.runner.run("sh", ["-c", step.host], {
    cwd: context.codeRoot,
    env: {
      PRODLIKE_ENV: context.envId,
      ...(context.url ? { PRODLIKE_URL: context.url } : {}),
    },
  });
}

function tail(text: string): string {
  return text.trim().split("\n").slice(-20).join("\n");
}
