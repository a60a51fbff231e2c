import os from "node:os";
import path from "node:path";
import * as z from "zod/mini";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { lazySchema, parseState } from "../state/json-state.js";

// Per-user settings kept by `conf` (~/.config/prodlike/config.json, or
// PRODLIKE_HOME/config.json). Today they hold the key local database passwords are
// derived from: a different password per environment, stable across `up` runs (so a
// rendered file never changes for nothing), and never stored beside the code; and the
// team clusters `ls` and `gc` look at besides the project's (`clusters:`).

export interface UserSettings {
  /** A secret derived for `purpose` in environment `envId`. */
  deriveSecret(envId: string, purpose: string): string;
  /** Where prodlike keeps per-user state (locks, base image build folders). */
  stateDir: string;
}

export async function openUserSettings(env: NodeJS.ProcessEnv): Promise<UserSettings> {
  // node:crypto is loaded where it is used: it costs ~8 ms, a tenth of `status`.
  const [store, { createHmac, randomBytes }] = await Promise.all([
    openStore(env),
    import("node:crypto"),
  ]);
  let key = store.get("secretKey");
  if (!key) {
    key = randomBytes(32).toString("hex");
    store.set("secretKey", key);
  }
  const secretKey = key;
  return {
    deriveSecret(envId, purpose) {
      return createHmac("sha256", secretKey)
        .update(`${envId}\0${purpose}`)
        .digest("base64url")
        .slice(0, 24);
    },
    stateDir: stateDir(env),
  };
}

async function openStore(env: NodeJS.ProcessEnv) {
  const { default: Conf } = await import("conf");
  const home = env.PRODLIKE_HOME;
  return new Conf<{ secretKey?: string; clusters?: unknown }>({
    projectName: "prodlike",
    projectSuffix: "",
    ...(home ? { cwd: home } : {}),
    configFileMode: 0o600,
  });
}

// Where prodlike keeps per-user state; computable without loading `conf`.
export function stateDir(env: NodeJS.ProcessEnv): string {
  return (
    env.PRODLIKE_HOME ??
    path.join(env.XDG_STATE_HOME ?? path.join(os.homedir(), ".local", "state"), "prodlike")
  );
}

/** A team cluster `ls` and `gc` look at wherever they run (settings `clusters:`). */
export interface UserCluster {
  context: string;
  /** Default: KUBECONFIG's first file, else ~/.kube/config. */
  kubeconfig?: string | undefined;
}

const userClustersSchema = lazySchema(() =>
  z.array(
    z.strictObject({
      context: z.string().check(z.minLength(1)),
      kubeconfig: z.optional(z.string().check(z.minLength(1))),
    }),
  ),
);

// Written by hand into config.json (`"clusters": [{ "context": "dev-cluster" }]`), so read
// with a schema: a typo is an error naming the file, not a silent no-op.
export async function userClusters(env: NodeJS.ProcessEnv): Promise<UserCluster[]> {
  const store = await openStore(env);
  const parsed = parseState(userClustersSchema(), store.get("clusters") ?? []);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ProdlikeError(
    "CONFIG_INVALID",
    `${store.path}: clusters${issue?.path.length ? `.${issue.path.join(".")}` : ""} ${issue?.message ?? "is invalid"}`,
    { hint: 'It lists team cluster contexts: "clusters": [{ "context": "dev-cluster" }].' },
  );
}
