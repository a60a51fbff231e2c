import os from "node:os";
import path from "node:path";
import type { z } from "zod";
import type { pullSchema, pullSourceSchema } from "../config/schema.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { PresetDefinition } from "../topology/preset-schema.js";
import type { DrushAlias } from "./drush-aliases.js";
import { ROWS_MARKER } from "./dump-transform.js";
import type { SubsetRequest } from "./subset-cut.js";

// What `db pull` will run, decided before anything runs: the guard (production is only
// ever a source), the strategy, the exact commands. Pure, so every refusal and every
// command line is unit-tested.

export type PullConfig = z.output<typeof pullSchema>;
export type PullSourceConfig = z.output<typeof pullSourceSchema>;

export interface SanitizeStep {
  /** Run only when the pulled data has this table. */
  table?: string | undefined;
  sql: string;
}

export interface PullRequest {
  from?: string | undefined;
  /** A second argument, as in `drush sql:sync SOURCE TARGET`: only this environment. */
  target?: string | undefined;
  /** false with --no-sanitize. */
  sanitize: boolean;
  /** `--subset [ROWS]`: a consistent slice (true: the preset's number of rows). */
  subset?: number | true | undefined;
}

export interface PullContext {
  config: PullConfig | undefined;
  preset: PresetDefinition["pull"];
  aliases: Map<string, DrushAlias>;
  /** vendor/bin/drush exists in the code root. */
  hasDrush: boolean;
  home?: string;
}

export interface HostCommand {
  file: string;
  args: string[];
}

interface PlanBase {
  /** Where the data comes from, for messages (never a secret). */
  source: string;
  structureTables: string[];
  /** SQL run on the pulled data before it goes live. */
  sanitizeSql: SanitizeStep[];
  /** `drush sql:sanitize` after the switch (the site's own sanitizers). */
  drushSanitize: boolean;
  /** `--subset`: the staging copy cut to a slice by the preset's rules. */
  subset?: SubsetRequest;
}

export type PullPlan = PlanBase &
  (
    | { strategy: "drush-sync"; command: string[] }
    | { strategy: "drush-dump"; command: string[] }
    /** A kubectl alias: drush runs in production's pod, reached from this machine by
     *  kubectl exec (the cli container has neither kubectl nor the developer's config). */
    | { strategy: "drush-dump-remote"; transport: HostCommand; script: string }
    | { strategy: "mysqldump"; transport: HostCommand; script: string }
  );

const SELF_NAMES = new Set(["@self", "self", "@local", "local", "@none", "@default"]);

export function planPull(request: PullRequest, context: PullContext): PullPlan {
  const plan = planSource(request, context);
  if (request.subset === undefined) return plan;
  const rules = context.preset.subset;
  if (!rules) {
    throw new ProdlikeError("USAGE", "This preset declares no subset rules", {
      hint: "A preset says how to cut a consistent slice in preset.yaml `pull.subset` (Drupal's and OpenMage's do); pull without --subset.",
    });
  }
  if (plan.strategy === "drush-sync") {
    throw new ProdlikeError("USAGE", `--subset cuts a staging copy, and ${plan.source} has none`, {
      hint: "drush sql:sync writes straight into the live database: pull through a pull source (prodlike.yaml pull.sources, mysqldump) to take a subset.",
    });
  }
  return {
    ...plan,
    subset: { rules, rows: request.subset === true ? rules.rows : request.subset },
  };
}

function planSource(request: PullRequest, context: PullContext): PullPlan {
  refuseTarget(request.target, context.aliases);
  const from = request.from ?? context.config?.from ?? soleSource(context.config) ?? "@prod";
  if (SELF_NAMES.has(from)) {
    throw unsafe(`${from} is this environment's own database`, from);
  }
  const structureTables = context.config?.structureTables ?? context.preset.structureTables;
  const sanitizeConfig = context.config?.sanitize;
  const sanitizeSql =
    !request.sanitize || sanitizeConfig === false
      ? []
      : Array.isArray(sanitizeConfig)
        ? sanitizeConfig
        : context.preset.sanitize;
  const sanitizing = request.sanitize && sanitizeConfig !== false;

  if (from.startsWith("@")) {
    const alias = context.aliases.get(from);
    if (!alias) {
      const known = [...context.aliases.keys()].filter((name) => !name.startsWith("@self."));
      throw new ProdlikeError("USAGE", `No drush alias ${from}`, {
        hint: known.length
          ? `Aliases in drush/sites: ${known.join(", ")}.`
          : "Add drush/sites/self.site.yml with a `prod:` record, or configure pull.sources in prodlike.yaml and use --from NAME.",
      });
    }
    if (alias.transport === "local") {
      throw unsafe(
        `${from} (${alias.file}) has no host, kubectl or docker: drush would run it here, on this environment`,
        from,
      );
    }
    if (!context.hasDrush) {
      throw new ProdlikeError(
        "TOOL_MISSING",
        `${from} needs drush, and vendor/bin/drush is missing`,
        {
          hint: "Run `prodlike exec cli composer require drush/drush`, or pull without drush: configure pull.sources in prodlike.yaml and use --from NAME.",
        },
      );
    }
    const tables = structureTables.length
      ? [`--structure-tables-list=${structureTables.join(",")}`]
      : [];
    const base = {
      source: `${from} (drush, ${alias.transport}${alias.host ? ` ${alias.host}` : ""})`,
      structureTables,
      sanitizeSql,
      drushSanitize: sanitizing,
    };
    // sql:sync copies over ssh itself; with kubectl/docker aliases it treats the source as
    // local and skips the copy (drush #5912, #6180), so those stream sql:dump instead. And
    // drush in the cli container cannot reach a pod or a compose service (no kubectl, no
    // docker there): prodlike runs that side itself, from this machine.
    if (alias.transport === "ssh") {
      return {
        ...base,
        // The SQL steps run on the live data here; sql:sync has no staging copy.
        strategy: "drush-sync",
        command: ["drush", "sql:sync", from, "@self", "--yes", "--create-db", ...tables],
      };
    }
    if (alias.transport === "kubectl" && alias.kubectl) {
      return {
        ...base,
        strategy: "drush-dump-remote",
        transport: kubectlAliasTransport(alias.kubectl),
        script: remoteDrushDumpScript(alias, tables),
      };
    }
    throw new ProdlikeError(
      "USAGE",
      `${from} (${alias.file}) reaches production through docker-compose, which prodlike does not run for a pull`,
      {
        hint: `Pull from the container with a pull source instead: in prodlike.yaml,\npull:\n  sources:\n    prod:\n      docker: { container: CONTAINER_OF_${(alias.dockerService ?? "SERVICE").toUpperCase()} }\n      database: { name: DATABASE, user: USER, passwordEnv: MYSQL_PASSWORD }\nthen: prodlike db pull --from prod`,
      },
    );
  }

  const source = context.config?.sources?.[from];
  if (!source) {
    const names = Object.keys(context.config?.sources ?? {});
    throw new ProdlikeError("USAGE", `No pull source ${from}`, {
      hint: names.length
        ? `Sources in prodlike.yaml: ${names.join(", ")}; drush aliases start with @.`
        : "Configure pull.sources in prodlike.yaml (ssh, kubectl or docker + database), or give a drush alias (@prod).",
    });
  }
  return {
    source: `${from} (mysqldump over ${describeTransport(source)})`,
    structureTables,
    sanitizeSql,
    drushSanitize: false,
    strategy: "mysqldump",
    transport: transportCommand(source, context.config?.ssh, context.home ?? os.homedir()),
    script: remoteDumpScript(source.database, structureTables),
  };
}

// `drush sql:sync @prod @self` order, or the swapped one: anything but this environment
// as the target is refused before anything runs.
function refuseTarget(target: string | undefined, aliases: Map<string, DrushAlias>): void {
  if (target === undefined || SELF_NAMES.has(target)) return;
  const alias = aliases.get(target);
  const where = alias?.host
    ? ` (${alias.file}: host ${alias.host})`
    : alias
      ? ` (${alias.file})`
      : "";
  throw unsafe(
    `db pull only writes to this environment's database; ${target}${where} cannot be a target`,
    target,
  );
}

function soleSource(config: PullConfig | undefined): string | undefined {
  const names = Object.keys(config?.sources ?? {});
  return names.length === 1 ? names[0] : undefined;
}

function unsafe(message: string, name: string): ProdlikeError {
  return new ProdlikeError("UNSAFE_TARGET", message, {
    hint: `Production is only ever a source: \`prodlike db pull --from @prod\` copies it into this environment. Nothing was run (${name}).`,
  });
}

function describeTransport(source: PullSourceConfig): string {
  if (source.ssh) return `ssh ${source.ssh.host}`;
  if (source.kubectl) return `kubectl exec ${source.kubectl.target}`;
  return `docker exec ${source.docker?.container ?? ""}`;
}

/** `kubectl exec` into a kubectl drush alias's pod, a shell reading the script on stdin. */
function kubectlAliasTransport(kubectl: NonNullable<DrushAlias["kubectl"]>): HostCommand {
  return {
    file: "kubectl",
    args: [
      ...(kubectl.kubeconfig ? ["--kubeconfig", kubectl.kubeconfig] : []),
      ...(kubectl.namespace ? ["--namespace", kubectl.namespace] : []),
      "exec",
      "-i",
      kubectl.resource,
      ...(kubectl.container ? ["-c", kubectl.container] : []),
      "--",
      "sh",
      "-s",
    ],
  };
}

/** What runs in the alias's pod: its drush (paths.drush-script, else the site's own
 *  vendor/bin/drush, else drush on the PATH) dumps the site's database, gzipped. */
export function remoteDrushDumpScript(alias: DrushAlias, tables: readonly string[]): string {
  const lines = [
    "set -eu",
    ...(alias.root ? [`cd ${shellQuote(alias.root)}`] : []),
    alias.drushScript
      ? `drush=${shellQuote(alias.drushScript)}`
      : "if [ -x vendor/bin/drush ]; then drush=vendor/bin/drush; elif [ -x ../vendor/bin/drush ]; then drush=../vendor/bin/drush; else drush=drush; fi",
    `exec "$drush" sql:dump --gzip${tables.map((table) => ` ${shellQuote(table)}`).join("")}`,
  ];
  return `${lines.join("\n")}\n`;
}

/** The host command that opens a shell on the source; the dump script goes to its stdin. */
export function transportCommand(
  source: PullSourceConfig,
  ssh: PullConfig["ssh"],
  home: string,
): HostCommand {
  if (source.ssh) {
    return {
      file: "ssh",
      args: [...sshOptions(source.ssh, ssh, home), "--", source.ssh.host, "sh", "-s"],
    };
  }
  const [file = "docker", ...args] = execWords(source);
  return { file, args: [...args, "sh", "-s"] };
}

/** `kubectl … exec -i TARGET [-c C] --` or `docker [-H H] exec -i CONTAINER`: the words
 *  before the command run on a pod or container source (db pull and files pull). */
export function execWords(source: PullSourceConfig): string[] {
  if (source.kubectl) {
    const { context, namespace, target, container } = source.kubectl;
    return [
      "kubectl",
      ...(context ? ["--context", context] : []),
      ...(namespace ? ["--namespace", namespace] : []),
      "exec",
      "-i",
      target,
      ...(container ? ["-c", container] : []),
      "--",
    ];
  }
  const docker = source.docker;
  if (!docker) throw new Error("pull source without a transport");
  return ["docker", ...(docker.host ? ["-H", docker.host] : []), "exec", "-i", docker.container];
}

/** ssh's options for a source (what comes before the host): db pull and files pull. */
export function sshOptions(
  target: NonNullable<PullSourceConfig["ssh"]>,
  ssh: PullConfig["ssh"],
  home: string,
): string[] {
  // BatchMode: never a password or host-key prompt in the middle of a pipe. An unknown
  // host key fails unless the user's known_hosts (or the configured file) has it.
  const args = ["-o", "BatchMode=yes"];
  if (ssh?.strictHostKeyChecking)
    args.push("-o", `StrictHostKeyChecking=${ssh.strictHostKeyChecking}`);
  if (ssh?.knownHosts) args.push("-o", `UserKnownHostsFile=${expandHome(ssh.knownHosts, home)}`);
  if (ssh?.identityFile) {
    args.push("-i", expandHome(ssh.identityFile, home), "-o", "IdentitiesOnly=yes");
  }
  if (target.port) args.push("-p", String(target.port));
  if (target.user) args.push("-l", target.user);
  return args;
}

function expandHome(file: string, home: string): string {
  return file.startsWith("~/") ? path.join(home, file.slice(2)) : file;
}

/**
 * The POSIX sh script run on the source: finds the dump tool, lists the tables to take
 * without rows (patterns resolved there, against the real table list), then dumps the
 * schema, and the rows of the other tables in one consistent transaction. `set -e`
 * makes any failure the transport's exit code, so a broken pull is never switched in.
 */
export function remoteDumpScript(
  database: PullSourceConfig["database"],
  structureTables: string[],
): string {
  const auth: string[] = [];
  // --defaults-extra-file must come first on a MySQL client's command line.
  if (database.defaultsFile) auth.push(`--defaults-extra-file=${shellPath(database.defaultsFile)}`);
  if (database.user) auth.push(`--user=${shellQuote(database.user)}`);
  const likes = structureTables.map((pattern) => `table_name LIKE '${likePattern(pattern)}'`);
  const lines = [
    "set -eu",
    `db=${shellQuote(database.name)}`,
    'dump=$(command -v mariadb-dump || command -v mysqldump) || { echo "prodlike: neither mariadb-dump nor mysqldump on the source" >&2; exit 127; }',
    'client=$(command -v mariadb || command -v mysql) || { echo "prodlike: neither mariadb nor mysql on the source" >&2; exit 127; }',
    ...(database.passwordEnv ? [`MYSQL_PWD="$${database.passwordEnv}"`, "export MYSQL_PWD"] : []),
    `set -- ${auth.join(" ")}`.trimEnd(),
    likes.length
      ? `structure=$("$client" "$@" --batch --skip-column-names -e "SELECT table_name FROM information_schema.tables WHERE table_schema = '$db' AND table_type = 'BASE TABLE' AND (${likes.join(" OR ")})")`
      : 'structure=""',
    'ignore=""',
    'for table in $structure; do ignore="$ignore --ignore-table=$db.$table"; done',
    // The schema of every table first, then a marker, then the rows: the local side
    // creates the tables and deals the rows out to several connections in one pass.
    // --no-tablespaces: MySQL 8 otherwise needs the PROCESS privilege production users
    // seldom have. utf8mb4: older dump tools default to utf8mb3 and would mangle emoji.
    'common="--single-transaction --no-tablespaces --default-character-set=utf8mb4"',
    '"$dump" "$@" $common --no-data "$db"',
    `echo '${ROWS_MARKER}'`,
    '"$dump" "$@" $common --quick --no-create-info --skip-triggers $ignore "$db"',
  ];
  return `${lines.join("\n")}\n`;
}

// `cache_*` -> `cache\_%`: `_` is LIKE's single-character wildcard, `*` means any run.
function likePattern(pattern: string): string {
  return pattern.replace(/_/g, "\\_").replace(/\*/g, "%");
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

// `~/x` stays expandable by the source's shell; anything else is quoted.
function shellPath(file: string): string {
  return file.startsWith("~/") ? `"$HOME"/${shellQuote(file.slice(2))}` : shellQuote(file);
}
