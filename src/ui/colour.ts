import { Chalk, type ChalkInstance } from "chalk";

// Colour only on a terminal and never when NO_COLOR is set (https://no-color.org), or
// FORCE_COLOR=0. FORCE_COLOR=1 turns it on for a non-TTY.
export function createColour(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): ChalkInstance {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  const forced = env.FORCE_COLOR;
  let level: 0 | 1 | 2 | 3 = stream.isTTY ? 2 : 0;
  if (forced !== undefined) level = forced === "0" || forced === "false" ? 0 : 1;
  if (noColor) level = 0;
  return new Chalk({ level });
}
