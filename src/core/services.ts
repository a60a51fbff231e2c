import type { Backend, BackendName } from "../backends/backend.js";
import type { DockerEngine } from "../backends/docker/docker-engine.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import type { CommandRunner } from "../process/command-runner.js";
import type { Clock } from "../waits/clock.js";

// The collaborators the core needs, built once by the composition root (src/cli) and
// passed down. Heavy adapters (dockerode, conf) are loaded only by commands that use them,
// so `prodlike --version` and `--help` stay fast.
export interface CoreServices {
  runner: CommandRunner;
  clock: Clock;
  engine(): Promise<DockerEngine>;
  backend(name: BackendName): Promise<Backend>;
}

export async function createCoreServices(env: NodeJS.ProcessEnv): Promise<CoreServices> {
  const [{ ExecaCommandRunner }, { systemClock }] = await Promise.all([
    import("../process/execa-command-runner.js"),
    import("../waits/clock.js"),
  ]);
  const runner = new ExecaCommandRunner();
  let engine: Promise<DockerEngine> | undefined;
  const getEngine = () => {
    engine ??= import("../backends/docker/docker-engine.js").then(
      ({ DockerodeEngine }) => new DockerodeEngine(env),
    );
    return engine;
  };
  const backends = new Map<BackendName, Promise<Backend>>();
  return {
    runner,
    clock: systemClock,
    engine: getEngine,
    backend(name) {
      let backend = backends.get(name);
      if (!backend) {
        backend = createBackend(name, { runner, clock: systemClock, engine: getEngine, env });
        backends.set(name, backend);
      }
      return backend;
    },
  };
}

async function createBackend(
  name: BackendName,
  deps: {
    runner: CommandRunner;
    clock: Clock;
    engine: () => Promise<DockerEngine>;
    env: NodeJS.ProcessEnv;
  },
): Promise<Backend> {
  if (name !== "compose") {
    throw new ProdlikeError("USAGE", `The ${name} backend is not available yet`, {
      hint: "Use --backend compose (the default).",
    });
  }
  const [{ ComposeBackend }, { ComposeDetectionCache, composeCacheKey }, { stateDir }] =
    await Promise.all([
      import("../backends/compose/compose-backend.js"),
      import("../backends/compose/compose-detection-cache.js"),
      import("../config/user-settings.js"),
    ]);
  const backend = new ComposeBackend({
    runner: deps.runner,
    clock: deps.clock,
    engine: await deps.engine(),
    composeOverride: deps.env.PRODLIKE_COMPOSE,
    detectionCache: {
      key: () => composeCacheKey(deps.env),
      cache: new ComposeDetectionCache(stateDir(deps.env)),
    },
  });
  await backend.preflight();
  return backend;
}
