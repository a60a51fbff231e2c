import type { Command, Option } from "commander";
import { errorCatalog } from "../errors/catalog.js";
import { ExitCode } from "../errors/exit-codes.js";

// The reference pages of docs/ that the code's own tables can say: every command with
// its flags (from the command table), every exit code and error code (from the catalog).
// scripts/write-docs.js writes them; a unit test fails when they fall behind the code.

/** docs/reference/commands.md: one section per command, its arguments and flags. */
export function commandsReference(program: Command): string {
  const lines = [
    "# Commands",
    "",
    "<!-- Generated from the CLI's command table by `npm run docs`; do not edit. -->",
    "",
    "Every command takes `-C, --dir <path>` (the project folder), `--json` (one JSON",
    "document on stdout, no progress; see [JSON documents](../json.md)), `--debug` and",
    "`--backend <name>`; they are left out below. Exit codes: [errors](errors.md).",
    "",
  ];
  const common = new Set(["--dir", "--json", "--debug", "--backend", "--help"]);
  const visit = (command: Command, path: string) => {
    const children = command.commands.filter((child) => child.name() !== "help");
    if (path !== "" && (children.length === 0 || command.options.length > 0)) {
      const args = command.registeredArguments
        .map((argument) => {
          const name = `${argument.name()}${argument.variadic ? "…" : ""}`;
          return argument.required ? `<${name}>` : `[${name}]`;
        })
        .join(" ");
      lines.push(
        `## \`prodlike ${path}${args ? ` ${args}` : ""}\``,
        "",
        `${capitalized(command.description())}.`,
        "",
      );
      const flags = command.options.filter((option: Option) => !common.has(option.long ?? ""));
      if (flags.length > 0) {
        lines.push("| flag | what it does |", "| --- | --- |");
        for (const option of flags) {
          const fallback =
            option.defaultValue !== undefined && typeof option.defaultValue !== "boolean"
              ? ` (default ${String(option.defaultValue)})`
              : "";
          lines.push(`| \`${option.flags}\` | ${escapeCell(option.description)}${fallback} |`);
        }
        lines.push("");
      }
    }
    for (const child of children) visit(child, path ? `${path} ${child.name()}` : child.name());
  };
  visit(program, "");
  return `${lines.join("\n").trimEnd()}\n`;
}

/** docs/reference/errors.md: the exit codes scripts branch on, and every error code. */
export function errorsReference(): string {
  const exitMeaning: Record<number, string> = {
    [ExitCode.ok]: "it worked",
    [ExitCode.failed]:
      "the operation ran and failed (a service did not become healthy, a command failed)",
    [ExitCode.invalidInput]: "bad input: prodlike.yaml, a flag, an argument; nothing was changed",
    [ExitCode.missingPrerequisite]:
      "something prodlike needs is missing here: the Docker engine, compose, a base image",
    [ExitCode.notFound]: "the named environment, service, snapshot or release does not exist",
    [ExitCode.busy]: "another prodlike process holds this environment's lock",
    [ExitCode.rolledBack]:
      "`up`: the new release did not come up; the previous one runs again, data kept",
    [ExitCode.interrupted]: "interrupted (Ctrl-C)",
  };
  const lines = [
    "# Exit codes and errors",
    "",
    "<!-- Generated from src/errors/catalog.ts and exit-codes.ts by `npm run docs`; do not edit. -->",
    "",
    "A failed command prints the error's message and a hint (with `--json`: `error.code`,",
    "`error.message`, `error.hint`, `error.exitCode`), never a stack trace unless `--debug`.",
    "",
    "## Exit codes",
    "",
    "| code | meaning |",
    "| --- | --- |",
    ...Object.values(ExitCode).map((code) => `| ${code} | ${exitMeaning[code] ?? ""} |`),
    "",
    "## Error codes",
    "",
    "| code | exit | what happened |",
    "| --- | --- | --- |",
    ...Object.entries(errorCatalog).map(
      ([code, entry]) => `| \`${code}\` | ${entry.exitCode} | ${escapeCell(entry.title)} |`,
    ),
    "",
  ];
  return lines.join("\n");
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}
