import { z } from "zod";
import { BACKEND_NAMES, describeBackends } from "./backend-registry.js";
import { DATABASE_VERSIONS, DB_DECLARATION, PHP_VERSIONS, TRANSFORM_IDS } from "./vocabulary.js";

// prodlike.yaml: everything optional. No file at all means the Drupal preset with the
// current folder as the code root. Unknown keys are errors, so a typo never silently
// does nothing.

const identifier = z
  .string()
  .regex(/^[A-Za-z0-9_]{1,64}$/, "use letters, digits and _ only (at most 64)");

const projectName = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/,
    "use lowercase letters, digits and - (at most 40), not ending with -",
  );

const port = z.number().int().min(1).max(65535);

const envKey = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "not a valid environment variable name");

const envMap = z.record(envKey, z.union([z.string(), z.number(), z.boolean()]).transform(String));

export const serviceOverrideSchema = z.strictObject({
  env: envMap.optional().describe("Extra environment variables for this service."),
  enabled: z
    .boolean()
    .optional()
    .describe("Turns on a service the preset marks optional (node: redis, postgres)."),
  inspect: z
    .boolean()
    .optional()
    .describe(
      "Node preset: run the app with --inspect, its debugger published on 127.0.0.1 (port `inspect`, 9229 when free).",
    ),
  image: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9._/:@-]*$/,
      "an image reference, e.g. registry.example.com/shop/php:2024.11",
    )
    .optional()
    .describe(
      "Run production's own image for this service instead of the preset's build; mounts, config files, env and health checks stay.",
    ),
});

const sourceName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,39}$/, "use lowercase letters, digits, ., _ and -");

const tablePattern = z
  .string()
  .regex(/^[A-Za-z0-9_*]{1,64}$/, "a table name; * matches any characters");

// Where `db pull` reads production from when it does not go through drush: a shell
// reached over ssh, a pod through kubectl exec, or a container through docker exec.
export const pullSourceSchema = z
  .strictObject({
    ssh: z
      .strictObject({
        host: z.string().min(1).describe("Host name or ~/.ssh/config alias."),
        user: z.string().min(1).optional(),
        port: port.optional(),
      })
      .optional(),
    kubectl: z
      .strictObject({
        context: z.string().min(1).optional(),
        namespace: z.string().min(1).optional(),
        target: z
          .string()
          .regex(/^[a-z]+\/[a-z0-9.-]+$/, "KIND/NAME, e.g. statefulset/mariadb or pod/db-0"),
        container: z.string().min(1).optional(),
      })
      .optional(),
    docker: z
      .strictObject({
        container: z.string().min(1),
        host: z.string().min(1).optional().describe("DOCKER_HOST of the production engine."),
      })
      .optional(),
    database: z.strictObject({
      name: identifier,
      user: z.string().min(1).optional(),
      defaultsFile: z
        .string()
        .min(1)
        .optional()
        .describe("An option file on the source holding the credentials (e.g. ~/.my.cnf)."),
      passwordEnv: envKey
        .optional()
        .describe("An environment variable on the source holding the password."),
    }),
  })
  .superRefine((source, context) => {
    const transports = ["ssh", "kubectl", "docker"].filter(
      (key) => source[key as "ssh" | "kubectl" | "docker"] !== undefined,
    );
    if (transports.length !== 1) {
      context.addIssue({
        code: "custom",
        message: "give exactly one of ssh, kubectl or docker",
        path: transports.length > 1 ? [transports[1] ?? "ssh"] : [],
      });
    }
  });

export const pullSchema = z.strictObject({
  from: z
    .string()
    .min(1)
    .optional()
    .describe("Default source of `db pull`: a drush alias (@prod) or a name under sources."),
  strategy: z
    .enum(["drush", "mysqldump"])
    .optional()
    .describe("drush (sql:sync / sql:dump through a drush alias) or mysqldump (a source below)."),
  sources: z.record(sourceName, pullSourceSchema).optional(),
  structureTables: z
    .array(tablePattern)
    .optional()
    .describe("Tables pulled without rows; replaces the preset's list (cache*, sessions, …)."),
  sanitize: z
    .union([
      z.boolean(),
      z.array(z.strictObject({ table: identifier.optional(), sql: z.string().min(1) })),
    ])
    .optional()
    .describe("false to keep data as is; or SQL run on the pulled data before it goes live."),
  ssh: z
    .strictObject({
      identityFile: z.string().min(1).optional(),
      knownHosts: z.string().min(1).optional(),
      strictHostKeyChecking: z.enum(["yes", "accept-new", "no"]).optional(),
    })
    .optional()
    .describe("ssh settings for pulls; the host's ssh config and agent apply too."),
});

// `prodlike mirror`: how production's manifests become the local environment.
export const mirrorSchema = z.strictObject({
  from: z
    .string()
    .min(1)
    .optional()
    .describe("Where production's manifests are: a folder, a file, or a kustomize folder."),
  transforms: z
    .partialRecord(z.enum(TRANSFORM_IDS), z.boolean())
    .optional()
    .describe("Turn a local transform off: `replicas: false` keeps production's replicas."),
  resourceScale: z
    .number()
    .positive()
    .max(1)
    .optional()
    .describe("Requests and limits are multiplied by this (default 0.25)."),
  images: z
    .record(z.string().min(1), z.string().min(1))
    .optional()
    .describe(
      "Production image repository -> the local image to run instead; `preset:SERVICE` is the preset's build for that service at the versions this file chooses.",
    ),
  secrets: z
    .record(z.string(), envMap)
    .optional()
    .describe("Local values by Secret name and key; other keys get generated local values."),
  storageClass: z
    .string()
    .min(1)
    .optional()
    .describe("Storage class for claims (default: the local cluster's default)."),
  codeMount: z
    .strictObject({
      path: z.string().startsWith("/"),
      containers: z.array(z.string().min(1)).min(1),
    })
    .optional()
    .describe("Where the code is in the containers that serve it, and which containers."),
  runtime: z
    .record(
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]*(\/[a-z0-9][a-z0-9.-]*)?$/, "CONTAINER or WORKLOAD/CONTAINER"),
      z.strictObject({
        php: z
          .string()
          .regex(/^\d+(\.\d+){0,2}$/, 'a PHP version, e.g. "8.2"')
          .optional()
          .describe("The PHP version production's image runs."),
        extensions: z
          .array(z.string().regex(/^[A-Za-z0-9_ ]+$/, "an extension name as php -m prints it"))
          .optional()
          .describe("The PHP extensions production loads (`php -m` there)."),
        db: z
          .string()
          .regex(DB_DECLARATION, 'ENGINE VERSION: "mariadb 10.11", "mysql 8.0", "postgresql 15"')
          .optional()
          .describe("The database engine and version production's image runs."),
      }),
    )
    .optional()
    .describe(
      "What production's containers run where their images cannot tell (custom images): parity compares it with the running environment.",
    ),
});

/** A CPU amount as Kubernetes writes it: 2, 0.5, 500m. */
const cpuQuantity = z
  .union([
    z.number().positive(),
    z.string().regex(/^\d+(\.\d+)?m?$/, "a CPU amount: 2, 0.5 or 500m"),
  ])
  .transform(String);
/** A size as Kubernetes writes it: 512Mi, 4Gi. */
const sizeQuantity = z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, "a size: 512Mi, 4Gi");

// `backend: cluster`: the team's own cluster, one namespace per environment in it.
export const clusterSchema = z.strictObject({
  context: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The kubeconfig context of the team's cluster (default: the kubeconfig's current one).",
    ),
  namespace: z
    .string()
    .regex(
      /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
      "a namespace name: lowercase letters, digits and -",
    )
    .optional()
    .describe(
      "The environment's namespace (default prodlike-PROJECT-ENV); prodlike creates and labels it.",
    ),
  registry: z
    .string()
    .regex(
      /^[A-Za-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/,
      "HOST[:PORT][/PATH], e.g. registry.example.com/team",
    )
    .optional()
    .describe("Where images are pushed and the cluster pulls them from (HOST[:PORT][/PATH])."),
  storageClass: z
    .string()
    .min(1)
    .optional()
    .describe("Storage class of the environment's volume claims."),
  ingress: z
    .strictObject({
      domain: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "a DNS domain, e.g. dev.example.com")
        .describe("Each environment is served at ENV.PROJECT.DOMAIN."),
      className: z
        .string()
        .min(1)
        .optional()
        .describe("The Ingress class (default: the cluster's)."),
    })
    .optional()
    .describe("An Ingress per environment, so the page opens without prodlike."),
  resources: z
    .strictObject({ cpu: cpuQuantity.optional(), memory: sizeQuantity.optional() })
    .optional()
    .describe("Each container's default limits (a LimitRange; requests are a quarter)."),
  quota: z
    .strictObject({
      cpu: cpuQuantity.optional().describe("CPU limits of all pods together."),
      memory: sizeQuantity.optional().describe("Memory limits of all pods together."),
      pods: z.number().int().positive().optional(),
      storage: sizeQuantity.optional().describe("Storage all claims may request together."),
    })
    .optional()
    .describe("A ResourceQuota on the namespace."),
});

/** When a project's own steps run. */
export const HOOK_EVENTS = [
  "post-up",
  "post-db-pull",
  "post-import",
  "post-restore",
  "pre-destroy",
] as const;

const hookTimeout = z
  .string()
  .regex(/^(?:\d+[smh])+$/, "a duration like 30s, 10m or 1h")
  .describe("How long the step may run before it is stopped (HOOK_TIMEOUT); default 10m.");

const hookStepSchema = z.union([
  z.strictObject({
    exec: z
      .string()
      .regex(/^[a-z][a-z0-9-]*\s+\S/, "SERVICE COMMAND, e.g. `cli drush cr`")
      .describe("SERVICE COMMAND: a shell command run in one of the environment's services."),
    continueOnError: z.boolean().optional(),
    timeout: hookTimeout.optional(),
  }),
  z.strictObject({
    host: z.string().min(1).describe("A shell command run on this machine, in the code root."),
    continueOnError: z.boolean().optional(),
    timeout: hookTimeout.optional(),
  }),
]);

export const hooksSchema = z.partialRecord(z.enum(HOOK_EVENTS), z.array(hookStepSchema));

export const commandsSchema = z.record(
  z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "lowercase letters, digits and -"),
  z.strictObject({
    service: z.string().min(1).default("cli").describe("Where it runs (default: cli)."),
    run: z.string().min(1).describe("A shell command; `prodlike run NAME ARGS…` appends ARGS."),
    description: z.string().optional(),
  }),
);

/** A `health:` duration: whole seconds, up to ten minutes. */
const healthSeconds = z.number().int().min(1).max(600).optional();

/** The preset an environment uses when prodlike.yaml names none. */
export const DEFAULT_PRESET = "drupal";

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: projectName.optional().describe("Project name; defaults to the code root's folder name."),
    preset: z
      .string()
      .default(DEFAULT_PRESET)
      .describe(
        "Preset: a built-in one (drupal, openmage, laravel, node), or the folder of the project's own (./presets/NAME, holding preset.yaml).",
      ),
    backend: z
      .enum(BACKEND_NAMES)
      .optional()
      .describe(`Where \`up\` runs the environment: ${describeBackends()}; compose by default.`),
    node: z
      .enum(["22", "24"])
      .optional()
      .describe("The Node preset's Node.js major version: 22 (LTS, the default) or 24."),
    docroot: z
      .string()
      .regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]*$/, "a relative path inside the code root")
      .optional()
      .describe("Web document root relative to the code root (Drupal: web)."),
    ports: z
      .record(z.string(), port)
      .optional()
      .describe("Preferred host ports by port name (web, db). A taken port moves to a free one."),
    php: z
      .enum(PHP_VERSIONS)
      .optional()
      .describe(
        "The PHP version (Drupal, OpenMage): 8.2 (Debian bookworm) or 8.4 (Debian trixie), built offline; 8.3 exists only as an official image.",
      ),
    phpExtensions: z
      .array(z.string().regex(/^[a-z][a-z0-9_]*$/, "an extension name, e.g. redis, imagick"))
      .optional()
      .describe(
        "PHP extensions besides the preset's, installed from Debian's phpX.Y-NAME packages (parity --write fills it from production).",
      ),
    database: z
      .union([
        z.enum(DATABASE_VERSIONS),
        z.strictObject({
          version: z.enum(DATABASE_VERSIONS).optional(),
          name: identifier.optional(),
          user: identifier.optional(),
        }),
      ])
      .transform((value) => (typeof value === "string" ? { version: value } : value))
      .optional()
      .describe(
        'The database server ("mariadb:11.8", "postgres:17", …), or { version, name, user }.',
      ),
    env: envMap.optional().describe("Extra environment variables for every code container."),
    services: z.record(z.string(), serviceOverrideSchema).optional(),
    pull: pullSchema.optional().describe("Where `db pull` seeds the database from."),
    mirror: mirrorSchema
      .optional()
      .describe("How `prodlike mirror` localizes production's manifests."),
    files: z
      .strictObject({
        from: sourceName
          .optional()
          .describe("The pull source (ssh) to copy from; default pull.from."),
        remote: z.string().startsWith("/").optional().describe("The files folder on production."),
        local: z
          .string()
          .regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]+$/, "a relative path inside the code root")
          .optional()
          .describe(
            "The folder in the checkout (default: the preset's, Drupal web/sites/default/files).",
          ),
        exclude: z
          .array(z.string().min(1))
          .optional()
          .describe(
            "rsync patterns not copied; replaces the preset's (Drupal: styles/, css/, js/, php/).",
          ),
        proxy: z
          .string()
          .regex(
            /^https?:\/\/[^\s/;{}'"]+\/?$/,
            "production's public base URL, e.g. https://www.example.com",
          )
          .optional()
          .describe(
            "A file missing locally is fetched once from this URL, stored and served (off by default).",
          ),
      })
      .optional()
      .describe("Where `files pull` copies production's user files from."),
    lock: z
      .boolean()
      .optional()
      .describe(
        "Basic authentication on the environment's router names (as `up --lock`): a generated password, shown once and kept 0600 in the state folder.",
      ),
    idle: z
      .string()
      .regex(/^(?:\d+[smhd])+$/, "a duration like 2h, 90m or 1h30m")
      .optional()
      .describe(
        "Put the environment to sleep after this long with nothing reaching its URLs (as `up --idle`); a request to its router names wakes it.",
      ),
    snapshots: z
      .strictObject({
        ready: z
          .number()
          .int()
          .min(0)
          .max(20)
          .optional()
          .describe(
            "How many of the newest snapshots are kept prepared on the data volume for a restore in no time (default 2; pinned ones always are); 0 keeps none.",
          ),
        beforeRelease: z
          .boolean()
          .optional()
          .describe(
            "Snapshot the data when `up` replaces a running release (default true), so `prodlike rollback --data` can bring back code and data together; false skips it (a quicker `up` on a large database).",
          ),
      })
      .optional()
      .describe("The environment's database snapshots."),
    releases: z
      .strictObject({
        keep: z
          .number()
          .int()
          .min(1)
          .max(20)
          .optional()
          .describe(
            "How many earlier releases (rendered configuration; their images stay on the engine until destroy) are kept to go back to with `prodlike rollback [--to ID]` (default 2).",
          ),
      })
      .optional()
      .describe("The releases `up` keeps when it replaces a running one."),
    health: z
      .strictObject({
        requestTimeout: healthSeconds.describe(
          "Seconds one request of `up`'s page check may take (default 30): a framework's cold first page can take seconds, and the check never sends a second request beside a running one.",
        ),
        failAfter: healthSeconds.describe(
          "Seconds of nothing but error answers (a 5xx, a PHP fatal error, 403/404 where the page should be) before `up` gives up (default 10); a new release is rolled back then.",
        ),
      })
      .optional()
      .describe("How `up` checks that the environment's page works."),
    cluster: clusterSchema
      .optional()
      .describe("`backend: cluster`: the existing Kubernetes cluster environments run on."),
    sync: z
      .strictObject({
        exclude: z
          .array(z.string().min(1))
          .optional()
          .describe("gitignore patterns never sent besides .gitignore's (node_modules/, *.log)."),
      })
      .optional()
      .describe("Live sync of the code into a remote cluster's pods."),
    hooks: hooksSchema
      .optional()
      .describe(
        "The project's own steps after up, db pull, db import, snapshot restore and before destroy: `exec: SERVICE CMD` or `host: CMD`, in order.",
      ),
    commands: commandsSchema
      .optional()
      .describe("The team's routine commands: `prodlike run NAME [ARGS…]`."),
  })
  .describe("prodlike.yaml: a local environment shaped like production.");

export type ProdlikeConfig = z.output<typeof configSchema>;
