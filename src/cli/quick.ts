import type { BackendName } from "../backends/backend.js";
import { Output } from "./output.js";

// `prodlike status` and `prodlike ls` without commander: the two commands scripts and
// prompts run most often start on what they use alone (the goal: status within
// 2x a bare `node -e 0`). Only their plain forms are read here; anything else (help, an
// unknown flag, a flag without its value) returns undefined and goes through main.ts,
// which owns every message and exit code. The options are main.ts's, with its defaults.

export interface QuickCommand {
  command: "status" | "ls";
  options: {
    dir: string;
    name?: string;
    backend?: BackendName;
    json: boolean;
    debug: boolean;
  };
}

const BACKENDS: readonly string[] = ["compose", "kind", "minikube"];

/** The command and its options, when argv is one of the plain forms; else undefined. */
export function quickCommand(argv: readonly string[], cwd: string): QuickCommand | undefined {
  const [command, ...rest] = argv;
  if (command !== "status" && command !== "ls") return undefined;
  const options: QuickCommand["options"] = { dir: cwd, json: false, debug: false };
  for (let index = 0; index < rest.length; index++) {
    const flag = rest[index];
    const value = rest[index + 1];
    if (flag === "--json") options.json = true;
    else if (flag === "--debug") options.debug = true;
    else if ((flag === "-C" || flag === "--dir") && value && !value.startsWith("-")) {
      options.dir = value;
      index++;
    } else if (
      command === "status" &&
      (flag === "-n" || flag === "--name") &&
      value &&
      !value.startsWith("-")
    ) {
      options.name = value;
      index++;
    } else if (flag === "--backend" && value && BACKENDS.includes(value)) {
      options.backend = value as BackendName;
      index++;
    } else return undefined;
  }
  return { command, options };
}

/** Runs a quick command as main.ts would; resolves the exit code. */
export async function runQuick(quick: QuickCommand): Promise<number> {
  const output = new Output({ json: quick.options.json, debug: quick.options.debug });
  try {
    const module =
      quick.command === "status"
        ? await import("./commands/status.js")
        : await import("./commands/ls.js");
    return await module.default(output, quick.options);
  } catch (error) {
    return output.error(quick.command, error);
  }
}
