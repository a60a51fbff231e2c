import { readFile } from "node:fs/promises";
import os from "node:os";
import { parse as parseYaml } from "yaml";
import * as z from "zod/mini";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { lazySchema, parseState } from "../state/json-state.js";
import type { ClusterPlacement } from "../topology/model.js";
import type { Target } from "./plan.js";
import type { CoreServices } from "./services.js";

// Where an environment goes on a team's existing cluster (backend `cluster`): the
// context (prodlike.yaml cluster.context, else the kubeconfig's current one), never one
// `mirror` or `db pull` know as production; its namespace (cluster.namespace, else
// prodlike-PROJECT-ENV); the owner and lifetime its namespace carries; how the code gets
// there (synced live, or baked from a git ref with `up --bake`).

export interface PlacementRequest {
  /** `up --bake`: the code baked into an image, never synced. */
  bake?: boolean | undefined;
  /** `up --ref REF`: bake that git ref (implies --bake). */
  ref?: string | undefined;
  /** `up --ttl`: a lifetime from now; `never` clears it. */
  ttl?: number | "never" | undefined;
}

const kubeconfigSchema = lazySchema(() =>
  z.object({
    "current-context": z.optional(z.string()),
    contexts: z.nullish(
      z.array(
        z.object({ name: z.string(), context: z.partial(z.object({ cluster: z.string() })) }),
      ),
    ),
    clusters: z.nullish(
      z.array(z.object({ name: z.string(), cluster: z.partial(z.object({ server: z.string() })) })),
    ),
  }),
);

type Kubeconfig = z.infer<ReturnType<typeof kubeconfigSchema>>;

export async function clusterPlacement(
  services: CoreServices,
  target: Target,
  request: PlacementRequest,
): Promise<ClusterPlacement> {
  const { config } = target.loaded;
  const settings = config.cluster ?? {};
  const kubeconfig = await readKubeconfig(services.kubeconfigPath);
  const context = settings.context ?? kubeconfig["current-context"];
  if (!context) {
    throw new ProdlikeError("CONFIG_INVALID", "No cluster context to run the environment on", {
      hint: `Name one in prodlike.yaml (\`cluster: { context: CONTEXT }\`); ${services.kubeconfigPath} has no current context.`,
    });
  }
  if (!kubeconfig.contexts?.some((entry) => entry.name === context)) {
    throw new ProdlikeError(
      "CONFIG_INVALID",
      `cluster.context ${context} is not in ${services.kubeconfigPath}`,
      { hint: "`kubectl config get-contexts` lists the contexts; KUBECONFIG picks another file." },
    );
  }
  await refuseProduction(target, kubeconfig, context);
  const bake = request.bake || request.ref !== undefined;
  return {
    kubeconfig: services.kubeconfigPath,
    context,
    namespace: settings.namespace ?? defaultNamespace(target.identity.id),
    owner: ownerLabel(os.userInfo().username, os.hostname()),
    registry: settings.registry,
    storageClass: settings.storageClass,
    ingress: settings.ingress,
    resources: settings.resources,
    quota: settings.quota,
    code: bake
      ? { mode: "bake", ref: request.ref ?? "HEAD" }
      : { mode: "sync", exclude: config.sync?.exclude ?? [] },
    expiresAt: await expiresAt(services, target.identity.id, request.ttl),
    kept: (await (await services.stores.kept()).all()).has(target.identity.id),
  };
}

/** prodlike-PROJECT-ENV, as a namespace name may be (63 characters at most). */
export function defaultNamespace(envId: string): string {
  return `prodlike-${envId}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .slice(0, 63)
    .replace(/-+$/, "");
}

/** user.host as a label value may be: letters, digits, `-_.`, 63 at most. */
export function ownerLabel(user: string, host: string): string {
  const value = `${user}.${host.split(".")[0] ?? host}`
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  return value || "unknown";
}

// Production is only ever a source: the contexts `prodlike mirror` read and `db pull`
// pulls from, and any context of the same API server, are refused as a place to run.
async function refuseProduction(target: Target, kubeconfig: Kubeconfig, context: string) {
  const { config, codeRoot } = target.loaded;
  const { lastOrigin } = await import("./mirror.js");
  const origin = await lastOrigin(codeRoot);
  const production = new Set<string>([
    ...("context" in origin && origin.context ? [origin.context] : []),
    ...Object.values(config.pull?.sources ?? {}).flatMap((source) =>
      source.kubectl?.context ? [source.kubectl.context] : [],
    ),
  ]);
  const server = (name: string) => {
    const cluster = kubeconfig.contexts?.find((entry) => entry.name === name)?.context.cluster;
    return kubeconfig.clusters?.find((entry) => entry.name === cluster)?.cluster.server;
  };
  const own = server(context);
  for (const known of production) {
    if (known === context || (own !== undefined && server(known) === own)) {
      throw new ProdlikeError(
        "UNSAFE_TARGET",
        `Context ${context} is production's${known === context ? "" : ` (the API server of ${known})`}`,
        {
          hint: "prodlike reads production (mirror, db pull) and never runs environments there. Set `cluster.context` to the team's dev/test cluster.",
        },
      );
    }
  }
}

/** The context `cluster.context` names, else the kubeconfig's current one. */
export async function configuredContext(
  kubeconfigPath: string,
  context: string | undefined,
): Promise<string> {
  if (context) return context;
  const current = (await readKubeconfig(kubeconfigPath))["current-context"];
  if (current) return current;
  throw new ProdlikeError("CONFIG_INVALID", "No cluster context to run the environment on", {
    hint: `Name one in prodlike.yaml (\`cluster: { context: CONTEXT }\`); ${kubeconfigPath} has no current context.`,
  });
}

async function readKubeconfig(file: string): Promise<Kubeconfig> {
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new ProdlikeError("CONFIG_INVALID", `No kubeconfig at ${file}`, {
      hint: `${error.code ?? error.message}: the team's cluster needs one (KUBECONFIG names another file).`,
    });
  });
  const parsed = parseState(kubeconfigSchema(), parseYaml(text));
  if (!parsed.success) {
    throw new ProdlikeError("CONFIG_INVALID", `${file} is not a kubeconfig`, {
      hint: parsed.error.issues[0]?.message ?? "It has no contexts.",
    });
  }
  return parsed.data;
}

async function expiresAt(
  services: CoreServices,
  envId: string,
  ttl: PlacementRequest["ttl"],
): Promise<string | undefined> {
  if (ttl === "never") return undefined;
  if (ttl !== undefined) return new Date(services.clock.now() + ttl).toISOString();
  return (await (await services.stores.expiry()).all()).get(envId)?.expiresAt;
}
