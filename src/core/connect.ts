import { environmentNotFound } from "../backends/backend.js";
import { backendFor, type EnvRequest } from "./environments.js";
import type { CoreServices } from "./services.js";

// What a background session prints once its port-forwards listen: `up` waits for it.
export { SESSION_READY as SESSION_READY_LINE } from "../backends/kube/session/background-sessions.js";

// `prodlike connect`: an environment on an existing cluster, reachable from this machine
// and its code live, until interrupted: its port-forwards and live sync, in the
// foreground (replacing the session `up` left in the background), or as that background
// session itself (`--background`, which `up` starts).

export interface ConnectRequest extends EnvRequest {
  background: boolean;
  signal: AbortSignal;
  onLine(line: string): void;
  onReady(): void;
}

/** Resolves false at once when the backend has nothing to keep (compose, kind). */
export async function connect(services: CoreServices, request: ConnectRequest): Promise<boolean> {
  const { identity, backend } = await backendFor(services, request);
  if (!(await backend.status(identity.id))) throw environmentNotFound(identity.id);
  return backend.serve(identity.id, {
    signal: request.signal,
    onLine: request.onLine,
    onReady: request.onReady,
    replace: !request.background,
  });
}
