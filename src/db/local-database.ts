import { Readable, type Writable } from "node:stream";
import type { Backend, StreamExecResult } from "../backends/backend.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { PreparedCopies, upgradeInfoFromBackup } from "./prepared-copies.js";
import type { StoredView } from "./views.js";

// The environment's own MariaDB, reached only through the backend's exec (so it works
// on compose and on a cluster alike). prodlike's own maintenance runs as root over the
// server's unix socket (the container's administrator, never a network login); what a
// dump says runs as a user that can reach the staging database and nothing else.
// Over 400 lines on purpose: it is the one place that speaks SQL and shell to the
// database container, so every privilege it uses can be read in one file.

/** What every database an import makes beside the live one is called after the live
 *  one's name: `drupal__prodlike_stage_1a2b3c`. Leftovers of a killed import match it. */
export const SCRATCH_INFIX = "__prodlike_";
/** The account a dump is loaded as: an OS user of the database container and a MariaDB
 *  user of the same name that logs in through the unix socket (no password exists). */
export const LOAD_USER = "prodlike_load";
const LOAD_BUFFER_POOL = 1024 * 1024 * 1024;
/** The server's own values of what a load tunes, kept on the data volume while it runs:
 *  a load killed halfway leaves them for the next operation to put back. */
const SAVED_SETTINGS = "/var/lib/mysql/.prodlike-load-settings";
const TUNED_SETTINGS = ["innodb_flush_log_at_trx_commit", "innodb_buffer_pool_size"] as const;

export class LocalDatabase {
  /** The snapshots kept prepared on this server's volume. */
  preparedCopies(): PreparedCopies {
    return new PreparedCopies(this.backend, this.envId, this.service);
  }

  private nameCache: string | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly envId: string,
    readonly service: string,
  ) {}

  /** The live database's name, as the container was told it (MARIADB_DATABASE). */
  async name(): Promise<string> {
    if (this.nameCache) return this.nameCache;
    const result = await this.run(["sh", "-c", 'printf %s "$MARIADB_DATABASE"']);
    if (!/^[A-Za-z0-9_]+$/.test(result.stdout)) {
      throw new ProdlikeError(
        "COMMAND_FAILED",
        `The ${this.service} service does not name its database`,
        {
          hint: "Its container needs MARIADB_DATABASE set, as the presets do.",
        },
      );
    }
    this.nameCache = result.stdout;
    return this.nameCache;
  }

  /** Runs SQL as root; rows come back tab-separated. */
  async query(sql: string, database?: string): Promise<string> {
    const result = await this.run(
      ["mariadb", "--batch", "--skip-column-names", ...(database ? [database] : [])],
      { stdin: textStream(sql) },
    );
    return result.stdout;
  }

  /**
   * Streams a dump into the staging database as LOAD_USER, in the client's sandbox mode
   * (no shell, no files) and without LOCAL INFILE: whatever the dump says reaches that
   * database only. Resolves the client's result (never throws on SQL errors).
   */
  async load(sql: Readable, database: string): Promise<StreamExecResult> {
    return this.backend.execStream(this.envId, {
      service: this.service,
      command: [
        "setpriv",
        `--reuid=${LOAD_USER}`,
        `--regid=${LOAD_USER}`,
        "--clear-groups",
        "--",
        "env",
        "HOME=/nonexistent",
        "mariadb",
        "--sandbox",
        "--local-infile=0",
        "--max-allowed-packet=1G",
        database,
      ],
      stdin: sql,
    });
  }

  /**
   * Runs a dump's own program objects (triggers, routines, views) in the live database as
   * the application's user: they are created with it as their definer, as production has
   * them, and they can reach nothing the application cannot. Falls back to root only for a
   * database image that names no application user.
   */
  async queryAsApplication(sql: string): Promise<void> {
    await this.run(["sh", "-c", AS_APPLICATION_SCRIPT], { stdin: textStream(sql) });
  }

  /**
   * Makes a new staging database and the load user that may reach it alone, after
   * clearing what a killed operation left (staging and retired databases, the load user,
   * the server settings a load lowered), and lowers the server settings for the load (in
   * the same round trip; restoreLoadSettings puts them back). The caller holds the
   * environment's lock, so no other operation's scratch can be mistaken for a leftover.
   */
  async prepareStaging(stage: string): Promise<{ leftovers: string[] }> {
    const live = await this.name();
    const scratch = `${likeEscape(live.slice(0, 40))}${likeEscape(SCRATCH_INFIX)}%`;
    const result = await this.run(
      ["sh", "-c", PREPARE_STAGING_SCRIPT, "prepare-staging", String(LOAD_BUFFER_POOL)],
      {
        stdin: textStream(
          [
            "DELIMITER //",
            `BEGIN NOT ATOMIC FOR old IN (SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ${quote(scratch)}) DO SELECT old.schema_name; EXECUTE IMMEDIATE CONCAT('DROP DATABASE \`', REPLACE(old.schema_name, '\`', '\`\`'), '\`'); END FOR; END//`,
            "DELIMITER ;",
            `DROP USER IF EXISTS ${LOAD_USER}@localhost;`,
            `CREATE DATABASE \`${stage}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;`,
            `CREATE USER ${LOAD_USER}@localhost IDENTIFIED VIA unix_socket;`,
            // In a grant, `_` and `%` are patterns: escaped, the grant names this database only.
            `GRANT ALL PRIVILEGES ON \`${grantEscape(stage)}\`.* TO ${LOAD_USER}@localhost;`,
            "",
          ].join("\n"),
        ),
      },
    );
    return {
      leftovers: result.stdout
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "" && line !== "schema_name"),
    };
  }

  /** Removes an operation's scratch: its databases (when given) and the load user. */
  async dropStaging(databases: string[]): Promise<void> {
    await this.query(
      [
        ...databases.map((database) => `DROP DATABASE IF EXISTS \`${database}\`;`),
        `DROP USER IF EXISTS ${LOAD_USER}@localhost;`,
        "",
      ].join("\n"),
    );
  }

  /** A consistent logical dump of the live database to `out`. */
  async dump(out: Writable): Promise<StreamExecResult> {
    const name = await this.name();
    return this.backend.execStream(this.envId, {
      service: this.service,
      command: [
        "mariadb-dump",
        "--single-transaction",
        "--quick",
        "--routines",
        "--triggers",
        "--max-allowed-packet=1G",
        name,
      ],
      stdout: out,
    });
  }

  /**
   * Puts back the server settings `prepareStaging` lowered for a bulk
   * load: the log flushed once a second instead of at every commit, and a buffer pool big
   * enough that the load is not throttled by page flushing. (Growing the redo log too
   * measured slower: the server writes the new file first.) Lowering them is safe because
   * this server is the environment's own copy, and the staging database means a crash
   * mid-load loses nothing live. Does nothing when they were not lowered.
   */
  async restoreLoadSettings(): Promise<void> {
    await this.run(["sh", "-c", RESTORE_SETTINGS_SCRIPT]);
  }

  /** A hot physical backup (mariabackup's mbstream) of the whole server to `out`. */
  async physicalBackup(out: Writable): Promise<StreamExecResult> {
    return this.backend.execStream(this.envId, {
      service: this.service,
      command: [
        "sh",
        "-c",
        "exec mariabackup --backup --stream=mbstream --target-dir=/tmp --user=root 2>/tmp/prodlike-backup.log || { tail -n 20 /tmp/prodlike-backup.log >&2; exit 1; }",
      ],
      stdout: out,
    });
  }

  /**
   * Unpacks and prepares a physical backup in a new folder on the data volume while the
   * server keeps running on the old data; `pointDataDirectory` then makes it the data of
   * the next start. A failure at any step removes the new folder. Resolves the folder in
   * use now (undefined: the volume's top level) and the new one.
   */
  async preparePhysicalRestore(
    stream: Readable,
  ): Promise<{ previous: string | undefined; next: string }> {
    const next = `data-${Date.now()}`;
    const result = await this.backend.execStream(this.envId, {
      service: this.service,
      command: ["sh", "-c", PREPARE_RESTORE_SCRIPT, "prepare-restore", next],
      stdin: stream,
    });
    if (result.exitCode !== 0) {
      throw new ProdlikeError(
        "COMMAND_FAILED",
        `Preparing the snapshot failed (exit ${result.exitCode})`,
        {
          hint: `${result.stderr.split("\n").slice(-8).join("\n")}\nThe database was not touched.`,
        },
      );
    }
    const previous = result.stdout.trim();
    return { previous: previous === "" ? undefined : previous, next };
  }

  /** Points the server at a data folder (undefined: the volume's top level) for its next start. */
  async pointDataDirectory(folder: string | undefined): Promise<void> {
    await this.run([
      "sh",
      "-c",
      folder
        ? 'printf %s "$1" > /var/lib/mysql/.prodlike-current.next && mv /var/lib/mysql/.prodlike-current.next /var/lib/mysql/.prodlike-current'
        : "rm -f /var/lib/mysql/.prodlike-current",
      "point",
      folder ?? "",
    ]);
  }

  /** Removes a prepared data folder that will not be used. */
  async removeDataFolder(folder: string): Promise<void> {
    await this.run(["rm", "-rf", "--", `/var/lib/mysql/${folder}`]);
  }

  /** Removes every data folder but the live one (the data a restore replaced). */
  async removeDataExcept(folder: string): Promise<void> {
    await this.run(["sh", "-c", REMOVE_OLD_DATA_SCRIPT, "remove-old-data", folder]);
  }

  /** How many tables a database holds, and its views as the server stores them (views.ts). */
  async contents(
    database: string,
  ): Promise<{ tables: number; tableNames: string[]; views: StoredView[] }> {
    // Base64: a view's query may hold tabs and newlines the batch output would escape.
    const columns = ["table_name", "view_definition", "algorithm", "security_type", "check_option"]
      .map((column) => `TO_BASE64(${column})`)
      .join(", ");
    // One run, two result sets told apart by their first column: `T` a table's name
    // (base64 too), `V` a view.
    const rows = (
      await this.query(
        [
          `SELECT 'T', TO_BASE64(table_name) FROM information_schema.tables WHERE table_schema = ${quote(database)} AND table_type = 'BASE TABLE';`,
          `SELECT 'V', ${columns} FROM information_schema.views WHERE table_schema = ${quote(database)};`,
        ].join("\n"),
      )
    )
      .split("\n")
      .filter((row) => row.trim() !== "");
    const decode = (field: string) =>
      Buffer.from(field.replace(/\\n/g, ""), "base64").toString("utf8");
    const tableNames = rows
      .filter((row) => row.startsWith("T\t"))
      .map((row) => decode(row.slice(2)));
    const views = rows
      .filter((row) => row.startsWith("V\t"))
      .map((row) => row.slice(2))
      .map((row) => {
        const [name, definition, algorithm, security, checkOption] = row.split("\t").map(decode);
        return {
          name: name ?? "",
          definition: definition ?? "",
          algorithm: algorithm ?? "UNDEFINED",
          security: security ?? "DEFINER",
          checkOption: checkOption ?? "NONE",
        };
      });
    // Counted as information_schema counts them: views are tables too.
    return { tables: tableNames.length + views.length, tableNames, views };
  }

  private async run(
    command: string[],
    options: { stdin?: Readable } = {},
  ): Promise<StreamExecResult> {
    const result = await this.backend.execStream(this.envId, {
      service: this.service,
      command,
      ...options,
    });
    if (result.exitCode !== 0) {
      throw new ProdlikeError(
        "COMMAND_FAILED",
        `${command[0]} in ${this.service} failed (exit ${result.exitCode})`,
        {
          hint: result.stderr.split("\n").slice(-8).join("\n") || "It printed nothing.",
        },
      );
    }
    return result;
  }
}

/**
 * Drops a database's views, triggers, procedures and functions (before its tables move
 * out: they cannot move with them), found and dropped on the server in one client run.
 * A compound statement (MariaDB 10.3+), so the client needs its own delimiter around it.
 */
export function dropProgramObjectsScript(database: string): string {
  const name = (column: string) =>
    `CONCAT('\`${database}\`.\`', REPLACE(${column}, '\`', '\`\`'), '\`')`;
  const objects = [
    `SELECT CONCAT('DROP VIEW IF EXISTS ', ${name("table_name")}) AS statement FROM information_schema.views WHERE table_schema = ${quote(database)}`,
    `SELECT CONCAT('DROP TRIGGER IF EXISTS ', ${name("trigger_name")}) FROM information_schema.triggers WHERE trigger_schema = ${quote(database)}`,
    `SELECT CONCAT('DROP ', routine_type, ' IF EXISTS ', ${name("routine_name")}) FROM information_schema.routines WHERE routine_schema = ${quote(database)}`,
  ].join(" UNION ALL ");
  return [
    "DELIMITER //",
    `BEGIN NOT ATOMIC FOR object IN (${objects}) DO EXECUTE IMMEDIATE object.statement; END FOR; END//`,
    "DELIMITER ;",
    "",
  ].join("\n");
}

// Moves every table of `stage` into `live` and the old ones out, in one RENAME TABLE:
// atomic, so the live database is either all old or all new, never half of each.
export function swapScript(live: string, stage: string, retired: string): string {
  const moves = (from: string, to: string) =>
    `(SELECT GROUP_CONCAT(CONCAT('\`', table_schema, '\`.\`', table_name, '\` TO \`${to}\`.\`', table_name, '\`') SEPARATOR ', ') FROM information_schema.tables WHERE table_schema = ${quote(from)} AND table_type = 'BASE TABLE')`;
  return [
    "SET SESSION group_concat_max_len = 16777216;",
    `DROP DATABASE IF EXISTS \`${retired}\`;`,
    `CREATE DATABASE \`${retired}\`;`,
    `SET @retire = ${moves(live, retired)};`,
    `SET @promote = ${moves(stage, live)};`,
    "SET @swap = CONCAT_WS(', ', @retire, @promote);",
    "SET @swap = IF(@swap IS NULL OR @swap = '', 'DO 0', CONCAT('RENAME TABLE ', @swap));",
    "PREPARE swap FROM @swap;",
    "EXECUTE swap;",
    "DEALLOCATE PREPARE swap;",
    `DROP DATABASE \`${retired}\`;`,
    `DROP DATABASE \`${stage}\`;`,
    "",
  ].join("\n");
}

// $1: the new folder. Prints the folder in use before (empty: the top level).
const PREPARE_RESTORE_SCRIPT = `set -eu
root=/var/lib/mysql
new="$root/$1"
trap 'rm -rf "$new.partial"' EXIT
rm -rf "$new.partial"
mkdir "$new.partial"
mbstream -x -C "$new.partial"
mariabackup --prepare --target-dir="$new.partial" >/tmp/prodlike-prepare.log 2>&1 || { tail -n 20 /tmp/prodlike-prepare.log >&2; exit 1; }
${upgradeInfoFromBackup("$new.partial")}
chown -R mysql:mysql "$new.partial"
mv "$new.partial" "$new"
trap - EXIT
cat "$root/.prodlike-current" 2>/dev/null || true`;

// $1: the folder in use. Everything else on the volume (but the snapshots kept prepared and
// a seed's server options) was data a restore replaced.
const REMOVE_OLD_DATA_SCRIPT = `set -eu
cd /var/lib/mysql
for entry in * .[!.]*; do
  [ -e "$entry" ] || continue
  case "$entry" in "$1"|.prodlike-current|.prodlike-prepared|.prodlike-server-options|lost+found) ;; *) rm -rf -- "$entry" ;; esac
done`;

// Run as root in the database container: the OS user the load runs as (made once per
// container), the saved settings of a killed load put back (first: they would undo the
// new ones), the load settings (the server's own values saved before they change, for
// restoreLoadSettings; $1: the buffer pool a load wants), then the SQL on stdin.
const PREPARE_STAGING_SCRIPT = `set -eu
id -u ${LOAD_USER} >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ${LOAD_USER}
${restoreSettings()}
f=${SAVED_SETTINGS}
mariadb --batch --skip-column-names -e "SELECT ${TUNED_SETTINGS.map((name) => `@@GLOBAL.${name}`).join(", ")}" > "$f.new"
mv "$f.new" "$f"
mariadb -e "SET GLOBAL innodb_flush_log_at_trx_commit = 2; SET GLOBAL innodb_buffer_pool_size = GREATEST(@@GLOBAL.innodb_buffer_pool_size, $1);"
exec mariadb --batch`;

// The application's login over TCP (its account is '%'; the socket would meet the
// anonymous localhost accounts first); the password stays in the container's environment.
const AS_APPLICATION_SCRIPT = `if [ -n "\${MARIADB_USER:-}" ] && [ -n "\${MARIADB_PASSWORD:-}" ]; then
  MYSQL_PWD="$MARIADB_PASSWORD" exec mariadb --batch --protocol=tcp -h 127.0.0.1 -u "$MARIADB_USER" "$MARIADB_DATABASE"
fi
exec mariadb --batch "$MARIADB_DATABASE"`;

const RESTORE_SETTINGS_SCRIPT = `set -eu
${restoreSettings()}`;

function restoreSettings(): string {
  const sets = TUNED_SETTINGS.map((name, index) => `SET GLOBAL ${name} = $${index + 1};`).join(" ");
  return `if [ -s ${SAVED_SETTINGS} ]; then
  set -- $(cat ${SAVED_SETTINGS})
  case "$*" in *[!0-9[:space:]]*) ;; *) [ "$#" -eq ${TUNED_SETTINGS.length} ] && mariadb -e "${sets}" ;; esac
  rm -f ${SAVED_SETTINGS}
fi`;
}

/** A name as a LIKE pattern that matches it alone. */
function likeEscape(name: string): string {
  return name.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** A database name as it must stand in GRANT ... ON `name`.*, matching it alone. */
export function grantEscape(name: string): string {
  return name.replace(/`/g, "``").replace(/[%_]/g, (character) => `\\${character}`);
}

export function quote(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function textStream(text: string): Readable {
  return Readable.from([text]);
}
