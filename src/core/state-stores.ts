import path from "node:path";
import { stateDir } from "../config/user-settings.js";
import type { DataOriginStore } from "../db/data-origin.js";
import type { SnapshotStore } from "../db/snapshots.js";
import type { CredentialStore } from "../env/credentials.js";
import type { ExpiryStore } from "../env/expiry.js";
import type { IdleStore } from "../env/idle.js";
import type { InstallStates } from "../env/install-states.js";
import type { KeptStore } from "../env/kept.js";
import type { XdebugStateStore } from "../env/xdebug-state.js";

// What prodlike keeps on disk for its environments, handed to the operations as one
// collaborator (CoreServices.stores): core asks for a store and never opens a path in the
// state folder itself, so a test gives it a folder of its own and the layout lives in one
// place. Each store's module loads on first use (`status` starts without most of them).

export interface StateStores {
  /** The state folder itself (PRODLIKE_HOME, else XDG's). */
  readonly dir: string;
  /** Environments' lifetimes (`up --ttl`). */
  expiry(): Promise<ExpiryStore>;
  /** Environments kept from gc whatever their lifetime (`prodlike keep`). */
  kept(): Promise<KeptStore>;
  /** Environments put to sleep after an idle time (prodlike.yaml `idle:`, `up --idle`). */
  idle(): Promise<IdleStore>;
  /** Locked environments' credentials (`up --lock`), kept 0600. */
  credentials(): Promise<CredentialStore>;
  /** Where an environment's data came from (a pull, sanitized or not). */
  dataOrigin(envId: string): Promise<DataOriginStore>;
  /** An environment's database snapshots. */
  snapshots(envId: string): Promise<SnapshotStore>;
  /** Whether environments' databases held an installed site when last asked. */
  installStates(): Promise<InstallStates>;
  /** Xdebug as prodlike last switched or checked it, per environment. */
  xdebug(): Promise<XdebugStateStore>;
  /** A folder of the state folder: the environments' locks, the router's CA, files
   *  pull's copies of volumes. */
  folder(kind: "locks" | "router" | "files"): string;
}

export function stateStores(env: NodeJS.ProcessEnv): StateStores {
  const dir = stateDir(env);
  return {
    dir,
    expiry: async () => (await import("../env/expiry.js")).openExpiryStore(env),
    kept: async () => (await import("../env/kept.js")).openKeptStore(env),
    idle: async () => (await import("../env/idle.js")).openIdleStore(env),
    credentials: async () => (await import("../env/credentials.js")).openCredentialStore(env),
    dataOrigin: async (envId) => (await import("../db/data-origin.js")).openDataOrigin(env, envId),
    snapshots: async (envId) => (await import("../db/snapshots.js")).openSnapshotStore(env, envId),
    installStates: async () => (await import("../env/install-states.js")).openInstallStates(env),
    xdebug: async () => (await import("../env/xdebug-state.js")).openXdebugState(env),
    folder: (kind) => path.join(dir, kind),
  };
}
