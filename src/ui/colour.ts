import { createRequire } from "node:module";
import type { ChalkInstance } from "chalk";

// Colour only on a terminal and never when NO_COLOR is set (https://no-color.org), or
// FORCE_COLOR=0. FORCE_COLOR=1 turns it on for a non-TTY.
export function createColour(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): ChalkInstance {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  const forced = env.FORCE_COLOR;
  let level: 0 | 1 | 2 | 3 = stream.isTTY ? 2 : 0;
  if (forced !== undefined) level = forced === "0" || forced === "false" ? 0 : 1;
  if (noColor) level = 0;
  if (level === 0) return PLAIN;
  // Loaded only when there is colour to write: scripts, pipes and CI (status, ls --json)
  // start without it.
  const { Chalk } = createRequire(import.meta.url)("chalk") as typeof import("chalk");
  return new Chalk({ level });
}

// No colour: every style (chained or not) returns its text as it is, as chalk does at
// level 0, without loading chalk.
const plainStyle = (...text: unknown[]): string => text.join(" ");
const PLAIN = new Proxy(plainStyle, {
  get: (target, property) =>
    property === "level" ? 0 : property in target ? Reflect.get(target, property) : PLAIN,
}) as unknown as ChalkInstance;
