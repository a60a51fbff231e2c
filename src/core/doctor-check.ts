import type { BackendName } from "../config/backend-registry.js";

/** One line of `prodlike doctor`: a tool, a setting or a right, and whether it is there. */
export interface Check {
  name: string;
  ok: boolean;
  /** Version or reading when ok; why not otherwise. */
  detail: string;
  hint?: string;
  /** Backends that cannot work without it. */
  neededBy: BackendName[];
}
