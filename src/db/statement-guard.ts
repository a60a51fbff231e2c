// Decides, statement by statement, what of a dump may reach the server. A dump is data,
// not a script: it may create and fill tables of its own database, nothing else. The
// import also runs as a user limited to the staging database, so what slips past these
// patterns is still refused by the server; the guard exists so that the user hears what
// was refused, by line, before anything is switched in.

/** What becomes of one line at the start of a statement. */
export type GuardVerdict =
  | { kind: "keep" }
  /** `CREATE/DROP DATABASE` / `USE` of the dump's own database: the load goes into the
   *  staging database instead, so the line is left out. */
  | { kind: "own-database" }
  /** MySQL's GTID_PURGED / SQL_LOG_BIN lines: replication state a local copy does not need. */
  | { kind: "server-setting" }
  | { kind: "refuse"; reason: string };

/** Databases no dump may name, whatever it says about itself. */
const SYSTEM_DATABASES = new Set(["mysql", "information_schema", "performance_schema", "sys"]);

const NAME = "(`(?:[^`]|``)+`|[\\w$]+)";
// The statement's name for itself is its leading keywords; version comments removed.
const DATABASE_STATEMENT = new RegExp(
  `^(?:(?:CREATE|DROP)\\s+(?:DATABASE|SCHEMA)(?:\\s+IF(?:\\s+NOT)?\\s+EXISTS)?|USE)\\s+${NAME}`,
  "i",
);
const REPLICATION_STATE = /^SET\s+@@(?:GLOBAL\.GTID_PURGED|SESSION\.SQL_LOG_BIN)\b/i;
// Statements that reach beyond one database's tables: accounts, privileges, the server.
const REFUSED: [RegExp, string][] = [
  [/^(?:CREATE|DROP|ALTER|RENAME)\s+(?:USER|ROLE)\b/i, "account statement"],
  [/^(?:GRANT|REVOKE)\b/i, "privilege statement"],
  [/^SET\s+(?:PASSWORD|(?:DEFAULT\s+)?ROLE)\b/i, "account statement"],
  [/^SET\s+(?:GLOBAL\b|@@GLOBAL\.)/i, "server setting"],
  [/^(?:INSTALL|UNINSTALL)\s+(?:PLUGIN|SONAME)\b/i, "plugin statement"],
  [/^(?:CREATE|ALTER|DROP)\s+SERVER\b/i, "federated server statement"],
  [
    /^(?:FLUSH|SHUTDOWN|KILL|RESET|PURGE|CHANGE\s+MASTER|START\s+SLAVE|STOP\s+SLAVE)\b/i,
    "server administration",
  ],
  [/^LOAD\s+(?:DATA|XML)\b/i, "file load"],
  [/^SELECT\b.*\bINTO\s+(?:OUT|DUMP)FILE\b/i, "file write"],
  // The client's own commands: a shell, other files, other connections, a pager.
  [/^\\./, "client command"],
  [/^(?:system|source|connect|pager|tee|edit)(?:\s|$)/i, "client command"],
];
// A table-level statement whose table is qualified with a database: group 1 is the database.
const QUALIFIED_TARGET = new RegExp(
  `^(?:INSERT(?:\\s+IGNORE)?\\s+INTO|REPLACE\\s+INTO|UPDATE(?:\\s+IGNORE)?|DELETE\\s+FROM|TRUNCATE(?:\\s+TABLE)?|LOCK\\s+TABLES|RENAME\\s+TABLE|(?:CREATE|ALTER|DROP)\\s+(?:TEMPORARY\\s+)?TABLE(?:\\s+IF(?:\\s+NOT)?\\s+EXISTS)?|(?:CREATE|ALTER)(?:\\s+OR\\s+REPLACE)?(?:\\s+ALGORITHM\\s*=\\s*\\w+)?(?:\\s+SQL\\s+SECURITY\\s+\\w+)?\\s+VIEW|DROP\\s+VIEW(?:\\s+IF\\s+EXISTS)?)\\s+${NAME}\\s*\\.\\s*[\`\\w$]`,
  "i",
);

export class StatementGuard {
  /** The database the dump is of: the first one it creates or uses (as `--databases` does). */
  private ownDatabase: string | undefined;
  /** A DROP DATABASE seen before the dump said which database is its own (mysqldump's
   *  `--add-drop-database` writes it first); the dump must confirm it, or it is refused. */
  private provisionalDrop: string | undefined;

  /** Judges a line that starts a statement. */
  check(line: string): GuardVerdict {
    const bare = withoutVersionComments(line);
    const database = DATABASE_STATEMENT.exec(bare)?.[1];
    if (database !== undefined) return this.databaseStatement(unquote(database), bare);
    if (REPLICATION_STATE.test(bare)) return { kind: "server-setting" };
    for (const [pattern, reason] of REFUSED) {
      if (pattern.test(bare)) return { kind: "refuse", reason };
    }
    const qualified = QUALIFIED_TARGET.exec(bare)?.[1];
    if (qualified !== undefined) {
      const name = unquote(qualified);
      if (name !== this.ownDatabase)
        return { kind: "refuse", reason: `names database \`${name}\`` };
    }
    return { kind: "keep" };
  }

  /** A database the dump dropped but never created or used: not its own, so refused
   *  (known only at the end of the dump; the statement itself never ran). */
  unconfirmedDrop(): string | undefined {
    return this.provisionalDrop !== undefined && this.provisionalDrop !== this.ownDatabase
      ? this.provisionalDrop
      : undefined;
  }

  private databaseStatement(name: string, bare: string): GuardVerdict {
    if (SYSTEM_DATABASES.has(name.toLowerCase())) {
      return { kind: "refuse", reason: `names system database \`${name}\`` };
    }
    if (this.ownDatabase === undefined && /^DROP\b/i.test(bare)) {
      this.provisionalDrop ??= name;
      if (name === this.provisionalDrop) return { kind: "own-database" };
    }
    this.ownDatabase ??= name;
    if (name === this.ownDatabase) return { kind: "own-database" };
    const verb = /^\w+(?:\s+\w+)?/.exec(bare)?.[0]?.toUpperCase() ?? "statement";
    return { kind: "refuse", reason: `${verb} of a second database \`${name}\`` };
  }
}

// `/*!40000 DROP DATABASE x*/;` reads as `DROP DATABASE x;`: the server runs the inside.
function withoutVersionComments(line: string): string {
  return line
    .replace(/\/\*M?!\d*\s?/g, "")
    .replace(/\*\//g, "")
    .trimStart();
}

function unquote(name: string): string {
  return name.startsWith("`") ? name.slice(1, -1).replace(/``/g, "`") : name;
}
