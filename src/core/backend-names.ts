// The backends the CLI offers (its `--backend` choices and defaults), from the registry.
export {
  BACKEND_NAMES,
  type BackendName,
  DEFAULT_BACKEND,
} from "../config/backend-registry.js";
