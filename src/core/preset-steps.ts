import path from "node:path";
import { Readable } from "node:stream";
import type { Backend, EnvironmentStatus } from "../backends/backend.js";
import { pathExists } from "../env/generated-files.js";
import type { PresetDefinition } from "../topology/preset-schema.js";
import { fillTemplate, type TemplateValues } from "../topology/templates.js";
import type { Progress } from "../ui/steps.js";

// The steps a preset declares for after a data change (refresh) and for `cache purge`
// (purge), run through the backend's exec: core runs what the preset says and knows no
// framework. A step runs in every running service with its role.

export type PresetStep = PresetDefinition["refresh"][number];

export interface StepValues {
  /** Where the code is mounted in the containers. */
  codePath: string;
  /** The environment's URLs, without a trailing slash. */
  urls: { web: string; secure: string };
}

/** Runs the steps in order; resolves what each one that worked said it did. */
export async function runPresetSteps(
  backend: Backend,
  status: EnvironmentStatus,
  steps: readonly PresetStep[],
  context: { codeRoot: string; values: () => Promise<StepValues>; progress: Progress },
): Promise<string[]> {
  const done: string[] = [];
  let values: StepValues | undefined;
  for (const step of steps) {
    const targets = status.services.filter(
      (service) => service.role === step.role && service.state === "running",
    );
    if (targets.length === 0) continue;
    if (step.ifFile && !(await pathExists(path.join(context.codeRoot, step.ifFile)))) continue;
    values ??= await context.values();
    for (const service of targets) {
      const plain = templateValues(values, service.name, (text) => text);
      const result = step.sql
        ? await backend.execStream(status.id, {
            service: service.name,
            command: ["sh", "-c", 'exec mariadb "$MARIADB_DATABASE"'],
            stdin: Readable.from([
              fillTemplate(step.sql, templateValues(values, service.name, sqlQuoted), "step.sql"),
            ]),
          })
        : await backend.execStream(status.id, {
            service: service.name,
            command: ["sh", "-c", fillTemplate(step.run ?? "", plain, "step.run")],
          });
      if (result.exitCode === 0) {
        done.push(fillTemplate(step.done, plain, "step.done"));
      } else if (step.warn) {
        const why = result.stderr.trim().split("\n").slice(-3).join(" ");
        context.progress.warn(
          `${fillTemplate(step.warn, { ...plain, exit: String(result.exitCode) }, "step.warn")}${why ? ` (${why})` : ""}`,
        );
      }
    }
  }
  return done;
}

function templateValues(
  values: StepValues,
  service: string,
  quote: (text: string) => string,
): TemplateValues {
  return {
    service: quote(service),
    codePath: quote(values.codePath),
    "urls.web": quote(values.urls.web),
    "urls.secure": quote(values.urls.secure),
  };
}

// Inside a quoted SQL string: a quote doubled.
function sqlQuoted(text: string): string {
  return text.replace(/'/g, "''");
}
