import type { DatabaseVersion, PhpVersion } from "../config/vocabulary.js";
import { offeredDatabase, offeredPhp } from "../topology/runtime-versions.js";
import type { RuntimeFacts } from "./runtime-facts.js";
import type { WorkloadView } from "./workload-view.js";

// `parity --write`: the runtime production runs, as prodlike.yaml's choices. The PHP
// version and database are the ones production's containers report (the first that does,
// in manifest order: a layout runs one PHP); extensions are those production loads that
// the running local containers lack (known only against a running environment).

export interface FollowedRuntime {
  php?: PhpVersion;
  database?: DatabaseVersion;
  /** Extensions to add (`phpExtensions`), by the names `php -m` prints, lowercased. */
  addExtensions?: string[];
  /** What production runs that prodlike offers no version of ("PHP 8.1.2"). */
  notOffered: string[];
}

export function runtimeToFollow(
  production: readonly WorkloadView[],
  local: readonly WorkloadView[] | undefined,
): FollowedRuntime {
  const productionFacts = factsOf(production);
  const followed: FollowedRuntime = { notOffered: [] };
  const php = productionFacts.find((facts) => facts.php)?.php;
  if (php) {
    const offered = offeredPhp(php.version);
    if (offered) followed.php = offered;
    else followed.notOffered.push(`PHP ${php.version}`);
  }
  const db = productionFacts.find((facts) => facts.db)?.db;
  if (db) {
    const offered = offeredDatabase(db.engine, db.version);
    if (offered) followed.database = offered;
    else followed.notOffered.push(`${db.engine} ${db.version}`);
  }
  if (local) {
    const wanted = extensionsOf(productionFacts);
    const present = new Set(extensionsOf(factsOf(local)));
    const missing = wanted.filter((name) => !present.has(name));
    if (missing.length > 0) followed.addExtensions = missing;
  }
  return followed;
}

function factsOf(views: readonly WorkloadView[]): RuntimeFacts[] {
  return views.flatMap((view) =>
    view.containers.flatMap((container) => (container.runtime ? [container.runtime] : [])),
  );
}

function extensionsOf(facts: readonly RuntimeFacts[]): string[] {
  return [...new Set(facts.flatMap((fact) => fact.php?.extensions ?? []))].sort();
}
