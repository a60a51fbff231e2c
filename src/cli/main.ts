import { Command, Option } from "commander";
import type { BackendName } from "../backends/backend.js";
import { ExitCode } from "../errors/exit-codes.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { VERSION } from "../version.js";
import { Output } from "./output.js";

// The composition root and the only place that reads argv, prints final results and sets
// the exit code. Each command's module is imported when it runs, so `--version` and
// `--help` load nothing heavy.

interface CommonOptions {
  dir: string;
  name?: string;
  json: boolean;
  debug: boolean;
  backend?: BackendName;
}

// Each command module's default export. Its flags type is its own (checked by commander's
// option definitions here), hence `never` in the signature and one cast at the call.
type Handler = (output: Output, options: never, ...args: never[]) => Promise<number>;
type CallableHandler = (
  output: Output,
  options: CommonOptions,
  ...args: unknown[]
) => Promise<number>;

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  // With --json a script reads stdout as one document, also when the command line itself
  // is wrong: commander's own error text is held back and reported as that document.
  const wantsJson = argv.includes("--json");
  const program = new Command()
    .name("prodlike")
    .description("A local environment shaped like production, in one command.")
    .version(VERSION, "-v, --version")
    .enablePositionalOptions()
    .showHelpAfterError("(run prodlike --help for usage)")
    .exitOverride()
    .configureOutput({
      writeErr: (text) => {
        if (!wantsJson) process.stderr.write(text);
      },
    });

  const command = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .option("-C, --dir <path>", "project folder (the code root)", process.cwd())
      .option("--json", "print one JSON document on stdout and no progress", false)
      .option("--debug", "print stack traces", false)
      .addOption(
        new Option(
          "--backend <name>",
          "where the environment runs (default: where it already runs, else prodlike.yaml `backend`, else compose)",
        ).choices(["compose", "kind", "minikube"]),
      );

  const run =
    (commandName: string, load: () => Promise<{ default: Handler }>) =>
    async (...args: unknown[]) => {
      const commandObject = args.at(-1) as Command;
      const options = commandObject.opts<CommonOptions>();
      const output = new Output({ json: options.json, debug: options.debug });
      try {
        const handler = (await load()).default as unknown as CallableHandler;
        exitCode = await handler(output, options, ...args.slice(0, -2));
      } catch (error) {
        exitCode = output.error(commandName, error);
      }
    };

  const noHooks = ["--no-hooks", "skip the project's hooks (prodlike.yaml `hooks:`)"] as const;
  // Every command that changes an environment waits on its lock this long.
  const lockTimeout = [
    "--lock-timeout <seconds>",
    "how long to wait for another prodlike on this environment",
    "600",
  ] as const;

  command("up", "start the environment (build images, create containers, wait until healthy)")
    .option(
      "-n, --name <name>",
      "environment name, for several environments of one project",
      undefined,
    )
    .option("--rebuild", "rebuild the preset images even when they exist", false)
    .option("--health-timeout <seconds>", "how long to wait for each service", "300")
    .option(...lockTimeout)
    .option(...noHooks)
    .option(
      "--ttl <duration>",
      "lifetime of a throwaway environment (4h, 90m, 1h30m; `never` removes one); `prodlike gc` destroys it after",
    )
    .option(
      "--mirror",
      "run production's layout from `prodlike mirror` (mirror.from in prodlike.yaml) instead of the preset; compose only",
      false,
    )
    .option(
      "--seed-from <env[:snapshot]>",
      "a new environment starts from another environment's data (its live database, or one of its snapshots)",
    )
    .action(run("up", () => import("./commands/up.js")));

  command("down", "stop the environment; data and containers are kept")
    .option("-n, --name <name>", "environment name")
    .option(...lockTimeout)
    .action(run("down", () => import("./commands/down.js")));

  command(
    "destroy",
    "remove the environment: containers, volumes, network and the images only it used",
  )
    .option("-n, --name <name>", "environment name")
    .option("--keep-images", "keep prodlike-built images for a fast re-create", false)
    .option("--keep-snapshots", "keep the database snapshots", false)
    .option(...lockTimeout)
    .option(...noHooks)
    .action(run("destroy", () => import("./commands/destroy.js")));

  command("status", "show the environment's services, health and URLs")
    .option("-n, --name <name>", "environment name")
    .action(run("status", () => import("./commands/status.js")));

  command("gc", "destroy every environment whose lifetime (`up --ttl`) is over")
    .option("--dry-run", "only list what would be removed", false)
    .action(run("gc", () => import("./commands/gc.js")));

  command("ls", "list all environments on this machine (found by label)").action(
    run("ls", () => import("./commands/ls.js")),
  );

  command("logs", "show service logs")
    .argument("[services...]", "services (all when none)")
    .option("-n, --name <name>", "environment name")
    .option("-f, --follow", "follow new output", false)
    .option("--tail <lines>", "lines of history per service", "200")
    .action(run("logs", () => import("./commands/logs.js")));

  command("exec", "run a command in a service (stdin streams); exits with the command's code")
    .argument("<service>", "service name (web, php-fpm, cli, db)")
    .argument("<command...>", "the command, after --")
    .option("-n, --name <name>", "environment name")
    .option("-w, --workdir <path>", "working folder inside the container")
    .passThroughOptions()
    .action(run("exec", () => import("./commands/exec.js")));

  command("shell", "open a shell in a service (cli by default)")
    .argument("[service]", "service name", "cli")
    .option("-n, --name <name>", "environment name")
    .action(run("shell", () => import("./commands/shell.js")));

  command("drush", "run the project's drush (vendor/bin/drush) in the cli container")
    .argument("[args...]", "drush arguments, after --")
    .option("-n, --name <name>", "environment name")
    .passThroughOptions()
    .action(run("drush", () => import("./commands/drush.js")));

  command("run", "run a project command from prodlike.yaml `commands:` (exit: its own code)")
    .argument("[command]", "the command's name (none: list them)")
    .argument("[args...]", "arguments passed on to it")
    .option("-n, --name <name>", "environment name")
    .option("--list", "list the project's commands", false)
    .passThroughOptions()
    .action(run("run", () => import("./commands/run.js")));

  command(
    "doctor",
    "check what this machine has for each backend (exit 0: --backend usable)",
  ).action(run("doctor", () => import("./commands/doctor.js")));

  // `db` and `snapshot` subcommands share the environment options of the top-level ones.
  const db = program.command("db").description("the environment's database: pull, import, export");
  const snapshot = program
    .command("snapshot")
    .description("physical database snapshots of the environment, to roll back to");
  const environmentCommand = (parent: Command, name: string, description: string) =>
    parent
      .command(name)
      .description(description)
      .option("-C, --dir <path>", "project folder (the code root)", process.cwd())
      .option("-n, --name <name>", "environment name")
      .option("--json", "print one JSON document on stdout and no progress", false)
      .option("--debug", "print stack traces", false)
      .addOption(
        new Option("--backend <name>", "where the environment runs").choices([
          "compose",
          "kind",
          "minikube",
        ]),
      );
  const dbCommand = (name: string, description: string) =>
    environmentCommand(db, name, description);
  dbCommand(
    "import",
    "load a .sql or .sql.gz dump (- for stdin); the old data is replaced only on success",
  )
    .argument("<file>", "dump file, or - for stdin")
    .option("--allow-empty", "switch in a dump that creates no table (refused otherwise)", false)
    .option(...lockTimeout)
    .option(...noHooks)
    .action(run("db import", () => import("./commands/db-import.js")));
  dbCommand("pull", "seed the database from production (sanitized; the old data stays on failure)")
    .argument("[source]", "drush alias (@prod) or a pull source from prodlike.yaml")
    .argument("[target]", "only @self: production is never a target")
    .option("--from <source>", "same as the source argument")
    .option("--no-sanitize", "keep production data as it is (status will say so)")
    .option("--files", "pull production's user files too (see files pull)", false)
    .option(...lockTimeout)
    .option(...noHooks)
    .action(run("db pull", () => import("./commands/db-pull.js")));
  dbCommand("export", "dump the database (gzip by default; - for stdout)")
    .argument("[file]", "target file (default: ENV-TIMESTAMP.sql.gz), or - for stdout")
    .option("--no-gzip", "write plain SQL")
    .action(run("db export", () => import("./commands/db-export.js")));

  environmentCommand(snapshot, "create", "snapshot the database while it runs (mariabackup)")
    .argument("[snapshot]", "snapshot name (default: a timestamp)")
    .option("--pin", "keep it when pruning", false)
    .action(run("snapshot create", () => import("./commands/snapshot-create.js")));
  environmentCommand(snapshot, "list", "list the environment's snapshots").action(
    run("snapshot list", () => import("./commands/snapshot-list.js")),
  );
  environmentCommand(snapshot, "restore", "restore a snapshot (the latest by default)")
    .argument("[snapshot]", "snapshot name")
    .option("--latest", "the newest snapshot", false)
    .option("--health-timeout <seconds>", "how long to wait for the database", "300")
    .option(...lockTimeout)
    .option(...noHooks)
    .action(run("snapshot restore", () => import("./commands/snapshot-restore.js")));
  environmentCommand(snapshot, "prune", "remove old snapshots; pinned ones are kept")
    .requiredOption("--keep <n>", "how many unpinned snapshots to keep")
    .action(run("snapshot prune", () => import("./commands/snapshot-prune.js")));

  command("mirror", "import production's Kubernetes manifests, localized, into .prodlike/mirror/")
    .option("-n, --name <name>", "environment name")
    .option(
      "--from <source>",
      "a folder of YAML, a multi-document file, a kustomize folder, or - for stdin",
    )
    .option(
      "--context <context>",
      "read a live cluster instead (kubeconfig context; read-only: list)",
    )
    .option("--namespace <namespace>", "the namespace to read with --context")
    .action(run("mirror", () => import("./commands/mirror.js")));

  command(
    "parity",
    "where local differs from production, each difference expected or not (exit 1: unexpected)",
  )
    .option("-n, --name <name>", "environment name")
    .option("--manifests <path>", "production's manifests (default: mirror.from)")
    .option("--against <what>", "rendered (the mirrored manifests) or running", "rendered")
    .option(
      "--policy <file>",
      "YAML of allowed differences: allow: [{ workload, container, field, reason }]",
    )
    .action(run("parity", () => import("./commands/parity.js")));

  command("init", "write a prodlike.yaml for this project")
    .option("--preset <name>", "preset (detected from the code when not given)")
    .option("-y, --yes", "never prompt; use detected or default values", false)
    .option("--force", "overwrite an existing prodlike.yaml", false)
    .action(run("init", () => import("./commands/init.js")));

  const files = program.command("files").description("production's user files");
  environmentCommand(
    files,
    "pull",
    "copy production's user files into the checkout (rsync over ssh; only what changed)",
  )
    .argument("[source]", "a pull source with ssh from prodlike.yaml (default files.from)")
    .option(...lockTimeout)
    .action(run("files pull", () => import("./commands/files-pull.js")));

  const cache = program
    .command("cache")
    .description("the environment's caches: Varnish, php-fpm's APCu and opcache, the framework's");
  environmentCommand(
    cache,
    "purge",
    "empty every cache (Varnish ban, php-fpm reload, drush cr / OpenMage var/cache and Redis)",
  ).action(run("cache purge", () => import("./commands/cache-purge.js")));

  const images = program.command("images").description("manage the images prodlike builds from");
  images
    .command("base")
    .description("make sure debian:bookworm-slim (the presets' base) is present")
    .option(
      "--offline",
      "build it from the host's Debian mirror with debootstrap + docker import",
      false,
    )
    .option("--mirror <url>", "Debian mirror for --offline (default: the host's apt source)")
    .option("--force", "rebuild even when the image exists", false)
    .option("--tag <name:tag>", "import under another name (default debian:bookworm-slim)")
    .option("--json", "print one JSON document on stdout and no progress", false)
    .option("--debug", "print stack traces", false)
    .option("-C, --dir <path>", "unused; accepted for symmetry", process.cwd())
    .action(run("images base", () => import("./commands/images-base.js")));

  program
    .command("completion")
    .description("print a shell completion script: source <(prodlike completion bash)")
    .argument("<shell>", "bash or zsh")
    .action(async (shell: string) => {
      const { bashCompletion, commandNodes, zshCompletion } = await import("./completion.js");
      if (shell !== "bash" && shell !== "zsh") {
        exitCode = new Output({ json: false, debug: false }).error(
          "completion",
          new ProdlikeError("USAGE", `No completion for \`${shell}\``, {
            hint: "Shells: bash, zsh.",
          }),
        );
        return;
      }
      const nodes = commandNodes(program);
      process.stdout.write(shell === "bash" ? bashCompletion(nodes) : zshCompletion(nodes));
    });

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (
      code === "commander.helpDisplayed" ||
      code === "commander.version" ||
      code === "commander.help"
    ) {
      return ExitCode.ok;
    }
    if (typeof code === "string" && code.startsWith("commander.")) {
      if (!wantsJson) return ExitCode.invalidInput;
      const message = (error as Error).message.replace(/^error: /, "");
      return new Output({ json: true, debug: false }).error(
        "prodlike",
        new ProdlikeError("USAGE", message, { hint: "Run prodlike --help for usage." }),
      );
    }
    return new Output({ json: wantsJson, debug: argv.includes("--debug") }).error(
      "prodlike",
      error instanceof ProdlikeError ? error : new ProdlikeError("USAGE", String(error)),
    );
  }
  return exitCode;
}
