import { Label } from "../../topology/labels.js";
import type { DockerEngine } from "./docker-engine.js";

// Whether anything reached an environment through its URLs: the bytes received by the
// containers its router names lead to (those with a routes label: web). Requests are the
// only traffic into them; the application's own work (php-fpm to the database, a queue)
// goes between other containers. The mail catcher is left out: prodlike itself asks it
// for the mail caught (every `ls --json`, the dashboard), which is nobody using the site.

/** Bytes the environment's routed containers received so far; undefined when none runs. */
export async function routedBytes(
  engine: DockerEngine,
  envId: string,
): Promise<number | undefined> {
  const containers = (await engine.listContainers({ [Label.env]: envId })).filter(
    (container) =>
      container.state === "running" &&
      container.labels[Label.routes] &&
      container.labels[Label.role] !== "mail",
  );
  if (containers.length === 0) return undefined;
  let total = 0;
  for (const container of containers) total += await engine.receivedBytes(container.id);
  return total;
}
