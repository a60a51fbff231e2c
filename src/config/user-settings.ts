import { createHmac, randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";

// Per-user settings kept by `conf` (~/.config/prodlike/config.json, or
// PRODLIKE_HOME/config.json). Today they hold the key local database passwords are
// derived from: a different password per environment, stable across `up` runs (so a
// rendered file never changes for nothing), and never stored beside the code.

export interface UserSettings {
  /** A secret derived for `purpose` in environment `envId`. */
  deriveSecret(envId: string, purpose: string): string;
  /** Where prodlike keeps per-user state (locks, base image build folders). */
  stateDir: string;
}

export async function openUserSettings(env: NodeJS.ProcessEnv): Promise<UserSettings> {
  const { default: Conf } = await import("conf");
  const home = env.PRODLIKE_HOME;
  const store = new Conf<{ secretKey?: string }>({
    projectName: "prodlike",
    projectSuffix: "",
    ...(home ? { cwd: home } : {}),
    configFileMode: 0o600,
  });
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

// Where prodlike keeps per-user state; computable without loading `conf`.
export function stateDir(env: NodeJS.ProcessEnv): string {
  return (
    env.PRODLIKE_HOME ??
    path.join(env.XDG_STATE_HOME ?? path.join(os.homedir(), ".local", "state"), "prodlike")
  );
}
