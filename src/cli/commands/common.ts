import { type CoreServices, createCoreServices } from "../../core/services.js";

// Every environment command builds the same services from the process environment.
export function services(): Promise<CoreServices> {
  return createCoreServices(process.env);
}

/** A TTY for exec only when both ends are terminals (scripts pipe stdin). */
export function interactive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

/** Commander keeps a `--` separator in pass-through arguments; the command starts after it. */
export function afterSeparator(args: readonly string[]): string[] {
  return args[0] === "--" ? args.slice(1) : [...args];
}
