import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { pullSchema } from "../../../src/config/schema.js";
import { aliasesOfFile, type DrushAlias } from "../../../src/db/drush-aliases.js";
import { transportFailure } from "../../../src/db/pull.js";
import {
  type PullContext,
  planPull,
  remoteDumpScript,
  transportCommand,
} from "../../../src/db/pull-plan.js";
import { isProdlikeError } from "../../../src/errors/prodlike-error.js";

const SELF_SITE = `
prod:
  host: web1.example.com
  user: deploy
  root: /var/www/site
stage:
  host: stage.example.com
  root: /var/www/site
dev:
  root: /var/www/html
k8s:
  kubectl:
    namespace: site
    resource: deploy/drupal
  root: /app
`;

function aliases(): Map<string, DrushAlias> {
  const list = [
    ...aliasesOfFile("self", "drush/sites/self.site.yml", parse(SELF_SITE)),
    ...aliasesOfFile("shop", "drush/sites/shop.site.yml", parse("docker:\n  service: php\n")),
  ];
  return new Map(list.map((alias) => [alias.name, alias]));
}

const PRESET = {
  strategy: "drush" as const,
  structureTables: ["cache", "cache_*", "sessions"],
  sanitize: [{ table: "users_field_data", sql: "UPDATE users_field_data SET pass = NULL" }],
};

function context(overrides: Partial<PullContext> = {}): PullContext {
  return {
    config: undefined,
    preset: PRESET,
    aliases: aliases(),
    hasDrush: true,
    home: "/home/dev",
    ...overrides,
  };
}

function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isProdlikeError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a refusal");
}

const SOURCES = pullSchema.parse({
  sources: {
    prod: {
      ssh: { host: "db.example.com", user: "deploy", port: 2222 },
      database: { name: "site", defaultsFile: "~/.my.cnf" },
    },
    cluster: {
      kubectl: {
        context: "prod-eu",
        namespace: "shop",
        target: "statefulset/mariadb",
        container: "db",
      },
      database: { name: "shop", user: "root", passwordEnv: "MARIADB_ROOT_PASSWORD" },
    },
  },
  ssh: { identityFile: "~/.ssh/prod_key", knownHosts: "/etc/team/known_hosts" },
});

describe("drush aliases", () => {
  it("reads self.site.yml environments as @ENV and @self.ENV, with their transport", () => {
    const all = aliases();
    expect(all.get("@prod")).toMatchObject({ transport: "ssh", host: "web1.example.com" });
    expect(all.get("@self.prod")?.transport).toBe("ssh");
    expect(all.get("@dev")?.transport).toBe("local");
    expect(all.get("@k8s")?.transport).toBe("kubectl");
    // A file with a single record is one alias named after the file.
    expect(all.get("@shop")?.transport).toBe("docker");
  });
});

describe("db pull safety guard", () => {
  it("refuses this environment as the source, in every spelling", () => {
    for (const from of ["@self", "self", "@local", "@none"]) {
      expect(refusal(() => planPull({ from, sanitize: true }, context())).code).toBe(
        "UNSAFE_TARGET",
      );
    }
  });

  it("refuses any target but this environment: a remote alias, a swapped order", () => {
    const remote = refusal(() =>
      planPull({ from: "@prod", target: "@stage", sanitize: true }, context()),
    );
    expect(remote.code).toBe("UNSAFE_TARGET");
    expect(remote.message).toContain("host stage.example.com");
    // `drush sql:sync @self @prod` order: @self first means the target is production.
    expect(
      refusal(() => planPull({ from: "@self", target: "@prod", sanitize: true }, context())).code,
    ).toBe("UNSAFE_TARGET");
    expect(planPull({ from: "@prod", target: "@self", sanitize: true }, context()).strategy).toBe(
      "drush-sync",
    );
  });

  it("refuses an alias without a transport: drush would run it on this environment", () => {
    const local = refusal(() => planPull({ from: "@dev", sanitize: true }, context()));
    expect(local.code).toBe("UNSAFE_TARGET");
    expect(local.message).toContain("drush/sites/self.site.yml");
  });

  it("names the known aliases and sources when the source is unknown", () => {
    const unknown = refusal(() => planPull({ from: "@live", sanitize: true }, context()));
    expect(unknown.code).toBe("USAGE");
    const sources = refusal(() =>
      planPull({ from: "staging", sanitize: true }, context({ config: SOURCES })),
    );
    expect(sources.code).toBe("USAGE");
  });
});

describe("db pull strategies", () => {
  it("ssh alias: drush sql:sync @prod @self with --create-db and the structure tables", () => {
    const plan = planPull({ sanitize: true }, context());
    expect(plan).toMatchObject({
      strategy: "drush-sync",
      command: [
        "drush",
        "sql:sync",
        "@prod",
        "@self",
        "--yes",
        "--create-db",
        "--structure-tables-list=cache,cache_*,sessions",
      ],
      drushSanitize: true,
    });
  });

  it("a kubectl alias streams drush sql:dump from its pod, run by prodlike from this machine", () => {
    // sql:sync would skip the copy (drush #5912), and drush in the cli container has no
    // kubectl to reach the pod with.
    const plan = planPull({ from: "@k8s", sanitize: true }, context());
    expect(plan).toMatchObject({
      strategy: "drush-dump-remote",
      transport: {
        file: "kubectl",
        args: ["--namespace", "site", "exec", "-i", "deploy/drupal", "--", "sh", "-s"],
      },
    });
    if (plan.strategy !== "drush-dump-remote") throw new Error("unreachable");
    expect(plan.script).toContain("cd '/app'");
    expect(plan.script).toContain(
      `exec "$drush" sql:dump --gzip '--structure-tables-list=cache,cache_*,sessions'`,
    );
  });

  it("a docker alias is refused up front, with the pull.sources entry that does the same", () => {
    const refused = refusal(() => planPull({ from: "@shop", sanitize: true }, context()));
    expect(refused.code).toBe("USAGE");
    expect(refused.message).toContain("docker-compose");
  });

  it("a drush alias without vendor/bin/drush is a missing tool, with the way around it", () => {
    expect(refusal(() => planPull({ sanitize: true }, context({ hasDrush: false }))).code).toBe(
      "TOOL_MISSING",
    );
  });

  it("--no-sanitize and sanitize: false turn both sanitizers off", () => {
    const plan = planPull({ sanitize: false }, context());
    expect(plan.sanitizeSql).toEqual([]);
    expect(plan.drushSanitize).toBe(false);
    const configured = planPull(
      { from: "prod", sanitize: true },
      context({ config: { ...SOURCES, sanitize: false } }),
    );
    expect(configured.sanitizeSql).toEqual([]);
  });

  it("mysqldump over ssh: batch mode, the team's known_hosts, the key, port and user", () => {
    const plan = planPull({ from: "prod", sanitize: true }, context({ config: SOURCES }));
    if (plan.strategy !== "mysqldump") throw new Error(plan.strategy);
    expect(plan.transport).toEqual({
      file: "ssh",
      args: [
        "-o",
        "BatchMode=yes",
        "-o",
        "UserKnownHostsFile=/etc/team/known_hosts",
        "-i",
        "/home/dev/.ssh/prod_key",
        "-o",
        "IdentitiesOnly=yes",
        "-p",
        "2222",
        "-l",
        "deploy",
        "--",
        "db.example.com",
        "sh",
        "-s",
      ],
    });
    // Host keys are never waved through unless configured.
    expect(plan.transport.args.join(" ")).not.toContain("StrictHostKeyChecking");
    expect(plan.sanitizeSql).toEqual(PRESET.sanitize);
  });

  it("mysqldump over kubectl exec and docker exec", () => {
    expect(transportCommand(SOURCES.sources?.cluster as never, undefined, "/h")).toEqual({
      file: "kubectl",
      args: [
        "--context",
        "prod-eu",
        "--namespace",
        "shop",
        "exec",
        "-i",
        "statefulset/mariadb",
        "-c",
        "db",
        "--",
        "sh",
        "-s",
      ],
    });
    expect(
      transportCommand(
        { docker: { container: "shop_db_1", host: "ssh://ops@docker1" }, database: { name: "x" } },
        undefined,
        "/h",
      ),
    ).toEqual({
      file: "docker",
      args: ["-H", "ssh://ops@docker1", "exec", "-i", "shop_db_1", "sh", "-s"],
    });
  });

  it("a pull source has exactly one transport", () => {
    const both = pullSchema.safeParse({
      sources: {
        x: { ssh: { host: "a" }, docker: { container: "b" }, database: { name: "d" } },
      },
    });
    expect(both.success).toBe(false);
  });
});

describe("the remote dump script", () => {
  const script = remoteDumpScript(
    { name: "site", defaultsFile: "~/.my.cnf", passwordEnv: "DB_PASS" },
    ["cache", "cache_*", "search_*"],
  );

  it("is valid POSIX sh", () => {
    execFileSync("sh", ["-n"], { input: script });
  });

  it("resolves table patterns on the source with LIKE, _ escaped", () => {
    expect(script).toContain(
      "(table_name LIKE 'cache' OR table_name LIKE 'cache\\_%' OR table_name LIKE 'search\\_%')",
    );
  });

  it("passes credentials by option file or the source's environment, never on argv here", () => {
    expect(script).toContain(`set -- --defaults-extra-file="$HOME"/'.my.cnf'`);
    expect(script).toContain('MYSQL_PWD="$DB_PASS"');
    expect(script).toContain('"$dump" "$@" $common --quick --no-create-info');
  });

  it("runs a fake dump tool and client the way the real ones are called", () => {
    // A PATH with stand-in tools that print their argv: the script's control flow,
    // the ignore list and the structure-only pass are checked end to end in sh.
    const bin = execFileSync("mktemp", ["-d"]).toString().trim();
    execFileSync("sh", [
      "-c",
      `printf '#!/bin/sh\\necho "cache_render sessions_x"\\n' > ${bin}/mariadb && printf '#!/bin/sh\\necho "DUMP $*"\\n' > ${bin}/mariadb-dump && chmod +x ${bin}/*`,
    ]);
    const out = execFileSync("sh", ["-s"], {
      input: remoteDumpScript({ name: "site" }, ["cache_*"]),
      env: { PATH: `${bin}:/usr/bin:/bin` },
    }).toString();
    const lines = out.trim().split("\n");
    const common = "--single-transaction --no-tablespaces --default-character-set=utf8mb4";
    expect(lines).toEqual([
      `DUMP ${common} --no-data site`,
      "-- prodlike: rows follow",
      `DUMP ${common} --quick --no-create-info --skip-triggers --ignore-table=site.cache_render --ignore-table=site.sessions_x site`,
    ]);
  });
});

describe("transport failures", () => {
  const plan = planPull({ from: "prod", sanitize: true }, context({ config: SOURCES }));
  it("explain known ssh and database errors and promise the data is unchanged", () => {
    const hostKey = transportFailure(plan, 255, "Host key verification failed.\n");
    expect(hostKey.code).toBe("PULL_FAILED");
    expect(hostKey.hint).toContain("known_hosts");
    expect(hostKey.hint).toContain("The live database was not changed.");
    expect(transportFailure(plan, 255, "deploy@db: Permission denied (publickey).").hint).toContain(
      "ssh-add",
    );
    expect(
      transportFailure(plan, 2, "mysqldump: Got error: 1045: Access denied for user 'site'").hint,
    ).toContain("defaultsFile");
  });
});

describe("db pull --subset", () => {
  const SUBSET = {
    rows: 100,
    steps: [{ table: "node_field_data", newest: "nid" }],
    checks: [],
  };

  it("carries the preset's rules and the rows asked for (the preset's by default)", () => {
    const withRules = context({ config: SOURCES, preset: { ...PRESET, subset: SUBSET } });
    expect(planPull({ from: "prod", sanitize: true, subset: 25 }, withRules).subset).toEqual({
      rules: SUBSET,
      rows: 25,
    });
    expect(planPull({ from: "prod", sanitize: true, subset: true }, withRules).subset?.rows).toBe(
      100,
    );
    expect(planPull({ from: "prod", sanitize: true }, withRules).subset).toBeUndefined();
  });

  it("is refused without a preset's rules, and with sql:sync (it has no staging copy)", () => {
    expect(
      refusal(() =>
        planPull({ from: "prod", sanitize: true, subset: true }, context({ config: SOURCES })),
      ).code,
    ).toBe("USAGE");
    const sync = refusal(() =>
      planPull(
        { from: "@prod", sanitize: true, subset: true },
        context({ preset: { ...PRESET, subset: SUBSET } }),
      ),
    );
    expect(sync.code).toBe("USAGE");
    expect(sync.message).toContain("--subset");
  });
});
