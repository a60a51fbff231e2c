import { z } from "zod";
import { DATABASE_VERSIONS, DEBIAN_SUITES, PHP_VERSIONS } from "../config/vocabulary.js";
import type { ServiceRole } from "./model.js";
import { subsetRulesSchema } from "./subset-rules.js";

// The shape of presets/<name>/preset.yaml. Presets are data; this schema keeps a broken
// preset from reaching a renderer.

const serviceName = z.string().regex(/^[a-z][a-z0-9-]*$/);

/** What a service is to the environment; steps and commands find services by it. */
const SERVICE_ROLES = [
  "web",
  "php",
  "cli",
  "db",
  "postgres",
  "cache",
  "proxy",
  "cron",
  "app",
  "worker",
  "mail",
] as const satisfies readonly ServiceRole[];

const mountSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("code"),
    /** Where it is mounted; the preset's codeMountPath by default. A second mount of the
     *  code elsewhere reaches what a volume hides under the first. */
    target: z.string().startsWith("/").optional(),
  }),
  z.strictObject({ type: z.literal("volume"), volume: z.string(), target: z.string() }),
  z.strictObject({
    type: z.literal("config"),
    file: z.string(),
    target: z.string(),
    /** The framework's own installer writes it (OpenMage's install.php, local.xml). */
    writable: z.boolean().optional(),
  }),
]);

/** How `prodlike init` recognizes a project of the preset's framework: any rule that
 *  matches. The preset with the highest priority among those that match is chosen. */
const detectSchema = z.strictObject({
  priority: z.number().int().default(0),
  rules: z
    .array(
      z.union([
        /** composer.json requires (or require-dev) this package. */
        z.strictObject({ composer: z.string().min(1) }),
        /** This file exists (relative to the code root). */
        z.strictObject({ file: z.string().min(1) }),
        /** package.json exists and composer.json does not (a Node project). */
        z.strictObject({ packageJson: z.literal(true) }),
      ]),
    )
    .min(1),
  /** The docroot: the first of these folders holding index.php (else defaults.docroot). */
  docroot: z.array(z.string()).default([]),
  /** Optional services to turn on when package.json depends on one of the clients. */
  services: z.record(z.string(), z.array(z.string())).default({}),
});

/** A step the preset runs after the data under the application changed (an import, a
 *  pull, a restore): in every running service with `role`, a shell command (`run`) or SQL
 *  on the database (`sql`, role db), when the code has `ifFile`. Templates: {{service}},
 *  {{codePath}}, {{urls.web}} and {{urls.secure}} (the router's https name when it has
 *  one), SQL-quoted in `sql`. `done` says what it did; `warn` is said when it fails. */
const stepSchema = z
  .strictObject({
    role: z.enum(SERVICE_ROLES),
    run: z.string().min(1).optional(),
    sql: z.string().min(1).optional(),
    ifFile: z.string().min(1).optional(),
    done: z.string().min(1),
    warn: z.string().min(1).optional(),
  })
  .refine((step) => (step.run === undefined) !== (step.sql === undefined), {
    message: "give exactly one of run or sql",
  });

/** A command the preset offers (`prodlike run NAME`); prodlike.yaml's own of the same
 *  name replaces it. */
const presetCommandSchema = z.strictObject({
  service: serviceName,
  run: z.string().min(1),
  description: z.string().optional(),
  /** After it succeeded the environment follows what it made (`up`): a command that
   *  creates the application. */
  upAfter: z.boolean().optional(),
});

const healthSchema = z.strictObject({
  test: z.array(z.string()).min(1),
  intervalMs: z.number().int().positive().default(1000),
  timeoutMs: z.number().int().positive().default(5000),
  retries: z.number().int().positive().default(60),
  startPeriodMs: z.number().int().nonnegative().default(0),
});

const presetServiceSchema = z.strictObject({
  role: z.enum(SERVICE_ROLES),
  /** Off unless prodlike.yaml says `services.NAME.enabled: true` (a Redis a project may use). */
  optional: z.boolean().default(false),
  /** Environment given to the `appEnv` services when this service runs (REDIS_URL). */
  provides: z.record(z.string(), z.string()).default({}),
  build: z.string().optional(),
  /** npm packages the build needs, fetched on the host into the build context (templates:
   *  `node-linux-{{host.arch}}`, `{{node.version}}`). */
  buildNpmPackages: z
    .array(z.strictObject({ name: z.string(), major: z.string(), file: z.string() }))
    .default([]),
  /** Docker build arguments (templates: `{{php.version}}`, `{{php.suite}}`, `{{db.major}}`):
   *  one Dockerfile builds every version; the arguments are part of the image tag. */
  buildArgs: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string()).default({}),
  image: z.string().optional(),
  appEnv: z.boolean().default(false),
  init: z.boolean().default(false),
  /** `developer`: the container runs as the host user's uid:gid (it touches the code);
   *  `image`: as its image says (a database, a cache). */
  runAs: z.enum(["image", "developer"]).default("image"),
  workingDir: z.string().optional(),
  command: z.array(z.string()).optional(),
  entrypoint: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).default({}),
  ports: z
    .array(
      z.strictObject({
        name: z.string(),
        container: z.number().int().min(1).max(65535),
        protocol: z.enum(["http", "tcp"]),
        /** http: the path `up` waits on (a health endpoint); `/` by default. */
        healthPath: z.string().startsWith("/").optional(),
        /** http: a listener of the container, never published, that the local router
         *  sends to (one that takes the router's X-Forwarded-* headers). */
        routerPort: z.number().int().min(1).max(65535).optional(),
      }),
    )
    .default([]),
  mounts: z.array(mountSchema).default([]),
  /** Ports other services connect to, never published (php-fpm's 9000). */
  expose: z.array(z.number().int().min(1).max(65535)).default([]),
  /** Started again whenever it ends (a queue worker that `queue:restart` tells to exit). */
  restartAlways: z.boolean().default(false),
  /** Cron services only: when the job runs. */
  schedule: z.string().optional(),
  /** The debugger port the service opens with `services.NAME.inspect: true` in
   *  prodlike.yaml (Node's --inspect), published on 127.0.0.1 as the port `inspect`. */
  inspectPort: z.number().int().min(1).max(65535).optional(),
  health: healthSchema.optional(),
  dependsOn: z.record(serviceName, z.enum(["healthy", "started"])).default({}),
  /** The most memory the container may use, in MiB: what it keeps is bounded (the mail
   *  catcher's). */
  memoryMb: z.number().int().positive().optional(),
});

export const presetSchema = z.strictObject({
  name: z.string(),
  description: z.string(),
  codeMountPath: z.string().startsWith("/"),
  defaults: z.strictObject({
    docroot: z.string().default(""),
    database: z.strictObject({ name: z.string(), user: z.string() }),
    ports: z.record(z.string(), z.number().int()),
    /** The Node.js major version, for presets that build Node (`node:` in prodlike.yaml). */
    node: z.string().optional(),
  }),
  /** The PHP and database versions the preset's app runs on, and its defaults; `suite`:
   *  the Debian release of a preset without PHP. */
  versions: z
    .strictObject({
      php: z
        .strictObject({ default: z.enum(PHP_VERSIONS), supported: z.array(z.enum(PHP_VERSIONS)) })
        .optional(),
      database: z
        .strictObject({
          default: z.enum(DATABASE_VERSIONS),
          supported: z.array(z.enum(DATABASE_VERSIONS)),
        })
        .optional(),
      suite: z.enum(DEBIAN_SUITES).default("trixie"),
    })
    .default({ suite: "trixie" }),
  appEnv: z.record(z.string(), z.string()).default({}),
  services: z.record(serviceName, presetServiceSchema),
  configFiles: z.record(z.string(), z.string()).default({}),
  /** Config files holding secrets (a password): mounted from a Secret on clusters. */
  secretConfigFiles: z.array(z.string()).default([]),
  /** `db pull` defaults: the strategy, tables pulled without rows, sanitizing SQL. */
  pull: z
    .strictObject({
      strategy: z.enum(["drush", "mysqldump"]).default("mysqldump"),
      structureTables: z.array(z.string()).default([]),
      sanitize: z
        .array(z.strictObject({ table: z.string().optional(), sql: z.string() }))
        .default([]),
      /** `db pull --subset`: how a consistent slice is cut (see db/subset.ts). */
      subset: subsetRulesSchema.optional(),
    })
    .default({ strategy: "mysqldump", structureTables: [], sanitize: [] }),
  /** Kubernetes layout: which services share a pod, as production runs them. */
  kubernetes: z
    .strictObject({ pods: z.record(serviceName, z.array(serviceName).min(1)).default({}) })
    .default({ pods: {} }),
  codeFiles: z
    .array(
      z.strictObject({
        path: z.string(),
        source: z.string(),
        createOnly: z.boolean().default(false),
        referencedBy: z.string().optional(),
      }),
    )
    .default([]),
  /** The application's front controller in the checkout ({{docroot}}/index.php): while it
   *  is missing (an empty checkout, before `prodlike run create`), `up` starts the
   *  services and says so instead of waiting for a page that cannot answer. */
  entry: z.string().min(1).optional(),
  /** How `prodlike init` recognizes the framework. */
  detect: detectSchema.optional(),
  /** What runs after a data change (caches, URLs, reloads), in order. */
  refresh: z.array(stepSchema).default([]),
  /** What `prodlike cache purge` runs besides the refresh (a proxy's cache). */
  purge: z.array(stepSchema).default([]),
  /** Commands the preset offers to every project (`prodlike run NAME`). */
  commands: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/), presetCommandSchema).default({}),
  /** An empty database is an installable site, not an installed one: `check` is SQL run
   *  on the environment's database that answers a number above 0 once it holds an
   *  installed site (templates may then use {{install.date}}); `command` names the
   *  preset command that installs one. */
  install: z
    .strictObject({
      check: z.string().min(1),
      command: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/),
    })
    .optional(),
  /** Folders the framework writes into, made on `up` (by the developer, so theirs): with
   *  them in place Drupal's installer never rewrites settings.php. */
  codeFolders: z.array(z.string()).default([]),
  /** Production's user files: the folder in the checkout `files pull` fills, and what it
   *  leaves out (generated derivatives). */
  files: z
    .strictObject({
      path: z.string(),
      exclude: z.array(z.string()).default([]),
      /** The folder lives in an environment volume, reached through this service's
       *  container (`path` is then the container's path): OpenMage's media/. */
      volume: z.strictObject({ service: z.string() }).optional(),
    })
    .optional(),
});

export type PresetDefinition = z.output<typeof presetSchema>;
export type PresetService = PresetDefinition["services"][string];
