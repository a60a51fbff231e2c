import { apiFailureText } from "../backends/kube/access-review.js";
import { markLifetime } from "../backends/kube/team-namespaces.js";
import { backendInfo } from "../config/backend-registry.js";
import { stateDir } from "../config/user-settings.js";
import { EnvironmentRecords } from "../env/environment-records.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { CoreServices } from "./services.js";

// `keep` and `ttl` change a lifetime without an `up`. On a team's cluster, other users'
// `gc` reads it from the namespace, not from this machine's state: written there too,
// at once, or their gc could delete an environment kept here.

export async function labelTeamLifetime(services: CoreServices, envId: string): Promise<void> {
  const record = await new EnvironmentRecords(stateDir(services.env)).get(envId);
  if (!record || backendInfo(record.backend).cluster?.lifecycle !== "existing") return;
  const [expiries, kept] = await Promise.all([
    services.stores.expiry().then((store) => store.all()),
    services.stores.kept().then((store) => store.all()),
  ]);
  try {
    const api = await services.kube(record.kubeconfig, record.context);
    await markLifetime(api, record.namespace, {
      expiresAt: expiries.get(envId)?.expiresAt,
      kept: kept.has(envId),
    });
  } catch (error) {
    throw new ProdlikeError(
      "CLUSTER_FAILED",
      `Namespace ${record.namespace} on ${record.context} does not say the new lifetime yet: ${apiFailureText(error)}`,
      {
        hint: "This machine has it; other users' gc reads the namespace. Run the command again (or `prodlike up`) once the cluster answers.",
      },
    );
  }
}
