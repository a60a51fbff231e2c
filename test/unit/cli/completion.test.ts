import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI } from "../../integration/support/harness.js";

// The generated scripts, loaded in the real shells: completing a word gives the commands
// and flags the CLI really has. (Runs the built CLI: npm test builds before this suite.)

const script = (shell: string) =>
  execFileSync("node", [CLI, "completion", shell], { encoding: "utf8" });
const hasZsh = spawnSync("zsh", ["--version"]).status === 0;

async function saved(shell: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), "prodlike-completion-")), shell);
  await writeFile(file, script(shell));
  return file;
}

/** What bash offers for the words after `prodlike` (the last one being completed). */
function bashWords(script: string, cwd: string, words: string[]): string[] {
  return execFileSync(
    "bash",
    [
      "-c",
      `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _prodlike; printf '%s\\n' "\${COMPREPLY[@]}"`,
      script,
      "prodlike",
      ...words,
    ],
    { encoding: "utf8", cwd },
  )
    .split("\n")
    .filter(Boolean)
    .sort();
}

describe("prodlike completion bash", () => {
  it("completes commands, subcommands, flags and flag values", async () => {
    const file = await saved("bash");
    const complete = (...words: string[]) => bashWords(file, process.cwd(), words);
    expect(complete("d")).toEqual(["dashboard", "db", "destroy", "doctor", "down", "drush"]);
    expect(complete("db", "")).toEqual(["--help", "export", "import", "pull"]);
    expect(complete("up", "--t")).toEqual(["--ttl"]);
    expect(complete("up", "--backend", "")).toEqual(["compose", "kind", "minikube"]);
    expect(complete("snapshot", "restore", "--l")).toEqual(["--latest", "--lock-timeout"]);
    expect(complete("-C", "/tmp", "g")).toEqual(["gc"]);
  });

  it("completes the project's own commands from prodlike.yaml, without running prodlike", async () => {
    const file = await saved("bash");
    const project = await mkdtemp(path.join(os.tmpdir(), "prodlike-completion-project-"));
    await writeFile(
      path.join(project, "prodlike.yaml"),
      [
        "name: shop",
        "commands:",
        "  uli: { service: cli, run: drush uli }",
        "  cim:",
        "    service: cli",
        "    run: drush cim -y",
        "hooks:",
        "  post-up: []",
        "",
      ].join("\n"),
    );
    const complete = (cwd: string, ...words: string[]) => bashWords(file, cwd, words);
    const all = complete(project, "run", "");
    expect(all).toEqual(expect.arrayContaining(["--list", "cim", "uli"]));
    // Keys of other mappings are not commands.
    expect(all).not.toContain("post-up");
    expect(complete(project, "run", "u")).toEqual(["uli"]);
    expect(complete(os.tmpdir(), "-C", project, "run", "c")).toEqual(["cim"]);
    // Without a prodlike.yaml there is nothing to add, and no error.
    expect(complete(os.tmpdir(), "run", "u")).toEqual([]);
    // `run --help` lists them too.
    const help = execFileSync("node", [CLI, "run", "--help"], { encoding: "utf8", cwd: project });
    expect(help).toContain("This project's commands (prodlike.yaml): uli, cim");
  });
});

describe("prodlike completion zsh", () => {
  it.skipIf(!hasZsh)(
    "loads in zsh and offers the same words (skipped: zsh is not on PATH)",
    async () => {
      const file = await saved("zsh");
      // compadd and _describe replaced by printers: the script's own logic runs for real.
      const out = execFileSync(
        "zsh",
        [
          "-f",
          "-c",
          `compdef() { :; }
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }
_describe() { local entry; for entry in "\${(@P)4}"; do print -r -- "\${entry%%:*}"; done; }
source "$1"
words=(prodlike "\${@:2}"); CURRENT=$#words; _prodlike`,
          "zsh",
          file,
          "db",
          "",
        ],
        { encoding: "utf8" },
      );
      expect(out.split("\n").filter(Boolean).sort()).toEqual([
        "--help",
        "export",
        "import",
        "pull",
      ]);
    },
  );
});

describe("prodlike completion", () => {
  it("refuses another shell with a usage error", () => {
    const result = spawnSync("node", [CLI, "completion", "fish"], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("No completion for `fish`");
  });
});
