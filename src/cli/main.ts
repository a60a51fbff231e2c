import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import type { BackendName } from "../backends/backend.js";
import { BACKEND_NAMES } from "../core/backend-names.js";
import { ExitCode } from "../errors/exit-codes.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { VERSION } from "../version.js";
import { Output } from "./output.js";

// The composition root and the only place that reads argv, prints final results and sets
// the exit code. Each command's module is imported when it runs, so `--version` and
// `--help` load nothing heavy. Options several commands share are declared once, in
// SHARED_OPTIONS; a command names the ones it takes. Over 400 lines on purpose: it is
// the table of every command and flag, grouped by function, read as the CLI's reference.

interface CommonOptions {
  dir: string;
  name?: string;
  json: boolean;
  debug: boolean;
  backend?: BackendName;
}

// A command module's handler, called with the options commander parsed (each module's
// flags type is its own, checked by the option definitions here): one cast at the call.
type CallableHandler = (
  output: Output,
  options: CommonOptions,
  ...args: unknown[]
) => Promise<number>;

const SHARED_OPTIONS = {
  name: ["-n, --name <name>", "environment name, for several environments of one project"],
  lockTimeout: [
    "--lock-timeout <seconds>",
    "how long to wait for another prodlike on this environment",
    "600",
  ],
  noHooks: ["--no-hooks", "skip the project's hooks (prodlike.yaml `hooks:`)"],
  healthTimeout: ["--health-timeout <seconds>", "how long to wait for each service", "300"],
} as const satisfies Record<string, readonly [string, string, string?]>;

type SharedOption = keyof typeof SHARED_OPTIONS;

/** Declares commands with the options every one has, and runs their handlers. */
class CommandTable {
  exitCode: number = ExitCode.ok;

  constructor(
    readonly program: Command,
    /** The project folder the command line names (-C), for help that reads it. */
    readonly projectDir: string,
  ) {}

  /** A command under `parent` (the program, or a group like `db`). */
  add(
    parent: Command,
    name: string,
    description: string,
    shared: readonly SharedOption[] = [],
  ): Command {
    const command = parent
      .command(name)
      .description(description)
      .option("-C, --dir <path>", "project folder (the code root)", process.cwd())
      .option("--json", "print one JSON document on stdout and no progress", false)
      .option("--debug", "print stack traces", false)
      .addOption(
        new Option(
          "--backend <name>",
          "where the environment runs (default: where it already runs, else prodlike.yaml `backend`, else compose)",
        ).choices(BACKEND_NAMES),
      );
    for (const option of shared) {
      const [flags, help, fallback] = SHARED_OPTIONS[option];
      command.option(flags, help, fallback);
    }
    return command;
  }

  group(name: string, description: string): Command {
    return this.program.command(name).description(description);
  }

  /** The action running `exportName` of the module `load` imports. */
  run(
    commandName: string,
    load: () => Promise<Record<string, unknown>>,
    exportName = "default",
  ): (...args: unknown[]) => Promise<void> {
    return async (...args: unknown[]) => {
      const commandObject = args.at(-1) as Command;
      const options = commandObject.opts<CommonOptions>();
      const output = new Output({ json: options.json, debug: options.debug });
      try {
        const handler = (await load())[exportName] as CallableHandler;
        this.exitCode = await handler(output, options, ...args.slice(0, -2));
      } catch (error) {
        this.exitCode = output.error(commandName, error);
      }
    };
  }
}

export async function main(argv: string[]): Promise<number> {
  // With --json a script reads stdout as one document, also when the command line itself
  // is wrong: commander's own error text is held back and reported as that document.
  const wantsJson = argv.includes("--json");
  const dirFlag = argv.findIndex((word) => word === "-C" || word === "--dir");
  const { program, table } = commandProgram(
    (dirFlag >= 0 ? argv[dirFlag + 1] : undefined) ?? process.cwd(),
    { quiet: wantsJson },
  );
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    return parseFailure(error, argv, wantsJson);
  }
  return table.exitCode;
}

/** Every command and flag, as the CLI parses them (and the reference docs list them). */
export function commandProgram(
  projectDir: string,
  options: { quiet?: boolean } = {},
): { program: Command; table: CommandTable } {
  const program = new Command()
    .name("prodlike")
    .description("A local environment shaped like production, in one command.")
    .version(VERSION, "-v, --version")
    .enablePositionalOptions()
    .showHelpAfterError("(run prodlike --help for usage)")
    .exitOverride()
    .configureOutput({
      writeErr: (text) => {
        if (!options.quiet) process.stderr.write(text);
      },
    });
  const table = new CommandTable(program, projectDir);
  lifecycleCommands(table);
  serviceCommands(table);
  dataCommands(table);
  productionCommands(table);
  routerCommands(table);
  toolCommands(table);
  return { program, table };
}

function lifecycleCommands(table: CommandTable): void {
  const { program } = table;
  table
    .add(
      program,
      "up",
      "start the environment (build images, create containers, wait until healthy)",
      ["name", "healthTimeout", "lockTimeout", "noHooks"],
    )
    .option("--rebuild", "rebuild the preset images even when they exist", false)
    .option(
      "--ttl <duration>",
      "lifetime of a throwaway environment (4h, 90m, 1h30m; `never` removes one); `prodlike gc` destroys it after",
    )
    .option(
      "--mirror",
      "run production's layout instead of the preset (read where the last `prodlike mirror` read it, else mirror.from)",
      false,
    )
    .option("--from <source>", "with --mirror: production's manifests (as for prodlike mirror)")
    .option(
      "--seed-from <env[:snapshot]>",
      "a new environment starts from another environment's data (its live database, or one of its snapshots)",
    )
    .option(
      "--idle <duration>",
      "put it to sleep after this long with nothing reaching its URLs (2h, 90m; `never` removes it; as prodlike.yaml `idle:`)",
    )
    .option(
      "--lock",
      "basic authentication on its router names (a generated password, shown once; as prodlike.yaml `lock: true`)",
      false,
    )
    .option(
      "--rm-on-failure",
      "remove a new environment that fails to come up (by default it stays, for `prodlike logs`)",
      false,
    )
    .option(
      "--bake",
      "existing cluster: the code baked into an image (immutable, for QA) instead of synced live",
      false,
    )
    .option("--ref <git-ref>", "existing cluster: bake the code of this commit, branch or tag")
    .action(table.run("up", () => import("./commands/up.js")));
  table
    .add(
      program,
      "connect",
      "existing cluster: keep the port-forwards and live sync going in the foreground (up starts them in the background)",
      ["name"],
    )
    .addOption(new Option("--background", "run as up's background session").hideHelp())
    .action(table.run("connect", () => import("./commands/connect.js")));
  table
    .add(program, "down", "stop the environment; data and containers are kept", [
      "name",
      "lockTimeout",
    ])
    .option(
      "--force",
      "stop it although another checkout of yours made it (a moved checkout)",
      false,
    )
    .action(table.run("down", () => import("./commands/down.js")));
  table
    .add(
      program,
      "destroy",
      "remove the environment: containers, volumes, network and the images only it used",
      ["name", "lockTimeout", "noHooks"],
    )
    .option("--keep-images", "keep prodlike-built images for a fast re-create", false)
    .option("--keep-snapshots", "keep the database snapshots", false)
    .option(
      "--force",
      "remove it although another checkout of yours made it (the checkout was moved or deleted)",
      false,
    )
    .action(table.run("destroy", () => import("./commands/destroy.js")));
  table
    .add(
      program,
      "rollback",
      "back to the images and configuration before the last up that changed them (data kept)",
      ["name", "healthTimeout", "lockTimeout"],
    )
    .option(
      "--data",
      "the data too: back to the snapshot taken when that release was replaced (the data left is snapshotted first)",
      false,
    )
    .option("--to <id>", "an older kept release instead of the previous one (`prodlike releases`)")
    .action(table.run("rollback", () => import("./commands/rollback.js")));
  table
    .add(program, "releases", "list the releases kept to go back to (`rollback [--to ID]`)", [
      "name",
    ])
    .action(table.run("releases", () => import("./commands/releases.js")));
  table
    .add(program, "status", "show the environment's services, health and URLs", ["name"])
    .action(table.run("status", () => import("./commands/status.js")));
  table
    .add(
      program,
      "gc",
      "destroy every environment whose lifetime (`up --ttl`) is over, and anyone's expired namespace on the team clusters",
    )
    .option("--dry-run", "only list what would be removed", false)
    .action(table.run("gc", () => import("./commands/gc.js")));
  table
    .add(
      program,
      "ls",
      "list all environments on this machine (found by label), and everyone's on the team clusters",
    )
    .action(table.run("ls", () => import("./commands/ls.js")));
  const lifecycle = () => import("./commands/lifecycle.js");
  table
    .add(program, "keep", "keep the environment: gc never removes it", ["name"])
    .argument("[env]", "an id from `prodlike ls`, or a name of this project (as --name)")
    .option("--off", "let gc remove it again once its lifetime ends", false)
    .option("--force", "although another checkout of yours made it", false)
    .action(table.run("keep", lifecycle, "keepCommand"));
  table
    .add(
      program,
      "ttl",
      "change the environment's lifetime: +4h extends it, 4h sets it, never removes it",
      ["name"],
    )
    .argument("<env-or-duration>", "ENV (an id from `prodlike ls`, or a name), or the duration")
    .argument("[duration]", "+4h, 4h, never (with ENV first)")
    .option("--force", "although another checkout of yours made it", false)
    .action(table.run("ttl", lifecycle, "ttlCommand"));
  table
    .add(
      program,
      "sleep",
      "stop the environment's containers (CPU and memory freed); data, ports and names kept",
      ["name", "lockTimeout"],
    )
    .argument("[env]", "an id from `prodlike ls`, or a name of this project (as --name)")
    .option("--force", "although another checkout of yours made it", false)
    .action(table.run("sleep", lifecycle, "sleepCommand"));
  table
    .add(program, "wake", "start a sleeping environment as it was and wait until healthy", [
      "name",
      "healthTimeout",
      "lockTimeout",
    ])
    .argument("[env]", "an id from `prodlike ls`, or a name of this project (as --name)")
    .option("--force", "although another checkout of yours made it", false)
    .action(table.run("wake", lifecycle, "wakeCommand"));
  table
    .add(
      program,
      "waker",
      "wake this user's sleeping environments when a request reaches their names (`sleep` starts it; it ends when none sleeps)",
    )
    .option("--address <ip>", "where to listen (default: the local router network's gateway)")
    .option("--port <port>", "the port (default: a free one)")
    .action(table.run("waker", lifecycle, "wakerCommand"));
  table
    .add(
      program,
      "dashboard",
      "a web page of every environment, live, on 127.0.0.1 (Ctrl-C stops it)",
    )
    .option("--port <port>", "the port to listen on (default: a free one)", "0")
    .option("--open", "open it in the browser", false)
    .action(table.run("dashboard", () => import("./commands/dashboard.js")));
}

function routerCommands(table: CommandTable): void {
  const { program } = table;
  const router = table.group(
    "router",
    "the local router: https://ENV.PROJECT.localhost for every environment",
  );
  const routerModule = () => import("./commands/router.js");
  table
    .add(router, "status", "its ports, CA, trust and every routed host")
    .action(table.run("router status", routerModule, "statusCommand"));
  table
    .add(router, "stop", "remove it (environments keep their 127.0.0.1 ports; `up` restarts it)")
    .option("--purge", "remove its CA too (browsers must trust the new one)", false)
    .action(table.run("router stop", routerModule, "stopCommand"));
  const access = () => import("./commands/access.js");
  table
    .add(program, "lock", "put basic authentication on the environment's router names", ["name"])
    .argument("[env]", "an id from `prodlike ls`, or a name of this project (as --name)")
    .option("--off", "take the lock off (and forget its password)", false)
    .option("--force", "although another checkout of yours made it", false)
    .action(table.run("lock", access, "lockCommand"));
  table
    .add(
      program,
      "share",
      "open the environment to a colleague: its URL on this machine's LAN address, behind its lock",
      ["name"],
    )
    .argument("[env]", "an id from `prodlike ls`, or a name of this project (as --name)")
    .option("--address <ip>", "the address to listen on (default: this machine's LAN address)")
    .option("--port <port>", "the port to listen on (default: a free one)")
    .option("--off", "stop sharing (the lock stays)", false)
    .option("--force", "although another checkout of yours made it", false)
    .action(table.run("share", access, "shareCommand"));
  table
    .add(program, "trust", "trust the router's CA in the system and browser stores (mkcert)")
    .option("--uninstall", "remove it from those stores", false)
    .action(table.run("trust", () => import("./commands/trust.js")));
  table
    .add(program, "mail", "where the environment's mail catcher shows caught mail", ["name"])
    .option("--open", "open it in the browser", false)
    .action(table.run("mail", () => import("./commands/mail.js")));
}

function serviceCommands(table: CommandTable): void {
  const { program } = table;
  table
    .add(program, "logs", "show service logs", ["name"])
    .argument("[services...]", "services (all when none)")
    .option("-f, --follow", "follow new output", false)
    .option("--tail <lines>", "lines of history per service", "200")
    .action(table.run("logs", () => import("./commands/logs.js")));
  table
    .add(
      program,
      "exec",
      "run a command in a service (stdin streams); exits with the command's code",
      ["name"],
    )
    .argument("<service>", "service name (web, php-fpm, cli, db)")
    .argument("<command...>", "the command, after --")
    .option("-w, --workdir <path>", "working folder inside the container")
    .passThroughOptions()
    .action(table.run("exec", () => import("./commands/exec.js")));
  table
    .add(
      program,
      "shell",
      "open a shell in a service (by default the cli service, else the PHP or app one)",
      ["name"],
    )
    .argument("[service]", "service name")
    .action(table.run("shell", () => import("./commands/shell.js")));
  table
    .add(program, "drush", "run the project's drush (vendor/bin/drush) in the cli container", [
      "name",
    ])
    .argument("[args...]", "drush arguments, after --")
    .passThroughOptions()
    .action(table.run("drush", () => import("./commands/drush.js")));
  table
    .add(
      program,
      "run",
      "run a project command from prodlike.yaml `commands:` (exit: its own code)",
      ["name"],
    )
    .argument("[command]", "the command's name (none: list them)")
    .argument("[args...]", "arguments passed on to it")
    .option("--list", "list the project's commands", false)
    .addHelpText("after", () => projectCommandsHelp(table.projectDir))
    .passThroughOptions()
    .action(table.run("run", () => import("./commands/run.js")));
  table
    .add(program, "xdebug", "switch Xdebug step debugging on or off in the PHP containers", [
      "name",
    ])
    .argument("<on|off|status>", "what to do")
    .option("--port <port>", "where the IDE listens (default 9003)")
    .option("--host <address>", "the IDE's address as containers reach it (default: their gateway)")
    .option("--every-request", "debug every request, not only those with XDEBUG_TRIGGER", false)
    .action(table.run("xdebug", () => import("./commands/xdebug.js")));
  const cache = table.group(
    "cache",
    "the environment's caches: Varnish, php-fpm's APCu and opcache, the framework's",
  );
  table
    .add(
      cache,
      "purge",
      "empty every cache (Varnish ban, php-fpm reload, drush cr / OpenMage var/cache and Redis)",
      ["name"],
    )
    .action(table.run("cache purge", () => import("./commands/cache-purge.js")));
}

function dataCommands(table: CommandTable): void {
  const db = table.group("db", "the environment's database: pull, import, export");
  table
    .add(
      db,
      "import",
      "load a .sql or .sql.gz dump (- for stdin); the old data is replaced only on success",
      ["name", "lockTimeout", "noHooks"],
    )
    .argument("<file>", "dump file, or - for stdin")
    .option("--allow-empty", "switch in a dump that creates no table (refused otherwise)", false)
    .action(table.run("db import", () => import("./commands/db-import.js")));
  table
    .add(
      db,
      "pull",
      "seed the database from production (sanitized; the old data stays on failure)",
      ["name", "lockTimeout", "noHooks"],
    )
    .argument("[source]", "drush alias (@prod) or a pull source from prodlike.yaml")
    .argument("[target]", "only @self: production is never a target")
    .option("--from <source>", "same as the source argument")
    .option("--no-sanitize", "keep production data as it is (status will say so)")
    .option("--files", "pull production's user files too (see files pull)", false)
    .option(
      "--subset [rows]",
      "a consistent slice: the newest rows of the preset's root tables (nodes, orders) and every row they reference",
    )

    .action(table.run("db pull", () => import("./commands/db-pull.js")));
  table
    .add(db, "export", "dump the database (gzip by default; - for stdout)", ["name"])
    .argument("[file]", "target file (default: ENV-TIMESTAMP.sql.gz), or - for stdout")
    .option("--no-gzip", "write plain SQL")
    .action(table.run("db export", () => import("./commands/db-export.js")));

  const snapshot = table.group(
    "snapshot",
    "physical database snapshots of the environment, to roll back to",
  );
  const snapshots = () => import("./commands/snapshot.js");
  table
    .add(snapshot, "create", "snapshot the database while it runs (mariabackup)", ["name"])
    .argument("[snapshot]", "snapshot name (default: a timestamp)")
    .option("--pin", "keep it when pruning", false)
    .action(table.run("snapshot create", snapshots, "createCommand"));
  table
    .add(snapshot, "list", "list the environment's snapshots", ["name"])
    .action(table.run("snapshot list", snapshots, "listCommand"));
  table
    .add(snapshot, "restore", "restore a snapshot (the latest by default)", [
      "name",
      "healthTimeout",
      "lockTimeout",
      "noHooks",
    ])
    .argument("[snapshot]", "snapshot name")
    .option("--latest", "the newest snapshot", false)
    .action(table.run("snapshot restore", snapshots, "restoreCommand"));
  table
    .add(snapshot, "prune", "remove old snapshots; pinned ones are kept", ["name"])
    .requiredOption("--keep <n>", "how many unpinned snapshots to keep")
    .action(table.run("snapshot prune", snapshots, "pruneCommand"));
}

function productionCommands(table: CommandTable): void {
  const { program } = table;
  table
    .add(
      program,
      "mirror",
      "import production's Kubernetes manifests, localized, into .prodlike/mirror/",
      ["name"],
    )
    .option(
      "--from <source>",
      "a folder of YAML, a multi-document file, a kustomize folder, or - for stdin",
    )
    .option(
      "--context <context>",
      "read a live cluster instead (kubeconfig context; read-only: list)",
    )
    .option("--namespace <namespace>", "the namespace to read with --context")
    .action(table.run("mirror", () => import("./commands/mirror.js")));
  table
    .add(
      program,
      "parity",
      "where local differs from production, each difference expected or not (exit 1: unexpected)",
      ["name"],
    )
    .option("--manifests <path>", "production's manifests (default: mirror.from)")
    .option("--against <what>", "rendered (the mirrored manifests) or running", "rendered")
    .option(
      "--policy <file>",
      "YAML of allowed differences: allow: [{ workload, container, field, reason }]",
    )
    .option(
      "--write",
      "write production's PHP version, database and (against running) missing PHP extensions into prodlike.yaml",
      false,
    )
    .action(table.run("parity", () => import("./commands/parity.js")));
  const files = table.group("files", "production's user files");
  table
    .add(
      files,
      "pull",
      "copy production's user files into the checkout (rsync over ssh; only what changed)",
      ["name", "lockTimeout"],
    )
    .argument("[source]", "a pull source with ssh from prodlike.yaml (default files.from)")
    .action(table.run("files pull", () => import("./commands/files-pull.js")));
}

function toolCommands(table: CommandTable): void {
  const { program } = table;
  table
    .add(
      program,
      "doctor",
      "check what this machine has for each backend, and the rights a team cluster grants (exit 0: --backend usable)",
    )
    .action(table.run("doctor", () => import("./commands/doctor.js")));
  table
    .add(program, "init", "write a prodlike.yaml for this project")
    .option("--preset <name>", "preset (detected from the code when not given)")
    .option("-y, --yes", "never prompt; use detected or default values", false)
    .option("--force", "overwrite an existing prodlike.yaml", false)
    .action(table.run("init", () => import("./commands/init.js")));
  const images = table.group("images", "manage the images prodlike builds from");
  table
    .add(images, "base", "make sure debian:SUITE-slim (the presets' base) is present")
    .option(
      "--suite <name>",
      "the Debian release: trixie (PHP 8.4, MariaDB 11.8) or bookworm",
      "trixie",
    )
    .option(
      "--offline",
      "build it from the host's Debian mirror with debootstrap + docker import",
      false,
    )
    .option("--mirror <url>", "Debian mirror for --offline (default: the host's apt source)")
    .option("--force", "rebuild even when the image exists", false)
    .option("--tag <name:tag>", "import under another name (default debian:SUITE-slim)")
    .action(table.run("images base", () => import("./commands/images-base.js")));
  program
    .command("completion")
    .description("print a shell completion script: source <(prodlike completion bash)")
    .argument("<shell>", "bash or zsh")
    .action(async (shell: string) => {
      const { bashCompletion, commandNodes, zshCompletion } = await import("./completion.js");
      if (shell !== "bash" && shell !== "zsh") {
        table.exitCode = new Output({ json: false, debug: false }).error(
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
}

// `prodlike run --help` lists the project's own commands: the keys of prodlike.yaml's
// `commands:` (block style), read as text so help stays instant and never fails.
function projectCommandsHelp(dir: string): string {
  let text: string;
  try {
    text = readFileSync(path.join(dir, "prodlike.yaml"), "utf8");
  } catch {
    return "";
  }
  const block = /^commands:[ \t]*\n((?:[ \t]+.*\n?|[ \t]*#.*\n?|\n)*)/m.exec(text)?.[1] ?? "";
  const names = [...block.matchAll(/^ {2}([A-Za-z0-9_.-]+):/gm)].map((match) => match[1]);
  return names.length > 0 ? `\nThis project's commands (prodlike.yaml): ${names.join(", ")}\n` : "";
}

// Help and version end parsing by throwing; a wrong command line becomes USAGE (exit 2),
// as one JSON document with --json.
function parseFailure(error: unknown, argv: readonly string[], wantsJson: boolean): number {
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
