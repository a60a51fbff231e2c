import { type CoreServices, createCoreServices } from "../../core/services.js";
import { ProdlikeError } from "../../errors/prodlike-error.js";

// Every environment command builds the same services from the process environment.
export function services(): Promise<CoreServices> {
  return createCoreServices(process.env, [process.execPath, process.argv[1] ?? ""]);
}

/** A TTY for exec only when both ends are terminals (scripts pipe stdin). */
export function interactive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

/** Commander keeps a `--` separator in pass-through arguments; the command starts after it. */
export function afterSeparator(args: readonly string[]): string[] {
  return args[0] === "--" ? args.slice(1) : [...args];
}

/** Parses a whole number of seconds from a flag, in milliseconds. */
export function secondsFlag(value: string, flag: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new ProdlikeError("USAGE", `${flag} must be a number of seconds, got \`${value}\``);
  }
  return seconds * 1000;
}

/** `--no-hooks` (commander's `hooks: false`) as the core's request field. */
export function hookFlags(flags: { hooks?: boolean | undefined }): { noHooks: boolean } {
  return { noHooks: flags.hooks === false };
}

/** `--lock-timeout SECONDS` of a command that changes an environment. */
export function lockTimeoutMs(flags: { lockTimeout?: string | undefined }): number {
  return secondsFlag(flags.lockTimeout ?? "600", "--lock-timeout");
}
