import { ComposeBackend } from "../../src/backends/compose/compose-backend.js";
import type { DockerEngine } from "../../src/backends/docker/docker-engine.js";
import type { CoreServices } from "../../src/core/services.js";
import { stateStores } from "../../src/core/state-stores.js";
import { systemClock } from "../../src/waits/clock.js";
import { FakeRunner } from "./fake-runner.js";

// The core's collaborators over a given engine (a fake one, or the listing engine of
// many-environments.js), with a state folder of the test's own and no router.
export function servicesOver(engine: DockerEngine, home: string): CoreServices {
  const env = { PRODLIKE_HOME: home, PRODLIKE_ROUTER: "off" };
  const backend = new ComposeBackend({
    runner: new FakeRunner(),
    engine,
    clock: systemClock,
    composeOverride: "v1",
  });
  return {
    runner: new FakeRunner(),
    clock: systemClock,
    env,
    stores: stateStores(env),
    developer: { uid: 1000, gid: 1000 },
    kubeconfigPath: "/nonexistent/kubeconfig",
    productionCluster: async () => {
      throw new Error("no production cluster here");
    },
    kube: async () => {
      throw new Error("no cluster here");
    },
    engine: async () => engine,
    backend: async (name) => {
      if (name !== "compose") throw new Error(`no ${name} backend here`);
      return backend;
    },
    recordedBackend: async () => undefined,
    recordedBackends: async () => [],
  };
}
