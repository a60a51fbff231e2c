import path from "node:path";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { EnvironmentIdentity } from "./model.js";

export const DEFAULT_ENV_NAME = "local";

// Ends with a letter or digit: `ht-x-` and `ht-x` would otherwise share one https name
// (a DNS label drops a trailing hyphen).
const ENV_NAME = /^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$/;

// Names the environment. The id is used as the compose project name and the label value,
// so it is kept to what both compose versions and Kubernetes accept.
export function environmentIdentity(
  codeRoot: string,
  configuredProject: string | undefined,
  envName: string | undefined,
): EnvironmentIdentity {
  const name = envName ?? DEFAULT_ENV_NAME;
  if (!ENV_NAME.test(name)) {
    throw new ProdlikeError("USAGE", `Invalid environment name \`${name}\``, {
      hint: "Use lowercase letters, digits and - (at most 30), starting and ending with a letter or digit.",
    });
  }
  const project = configuredProject ?? projectNameFromFolder(codeRoot);
  return { project, name, id: `${project}-${name}` };
}

export function projectNameFromFolder(codeRoot: string): string {
  const cleaned = path
    .basename(codeRoot)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return cleaned === "" ? "project" : cleaned;
}
