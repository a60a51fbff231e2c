// Many environments without an engine: compose-shaped containers (the labels prodlike
// puts on its own) and an engine that lists them and streams their events, for the
// dashboard's scale test and first-paint benchmark (100 environments, 500 services)
// where starting 500 real containers would only measure the shared machine.

const SERVICES = [
  ["web", "web", 8080],
  ["php-fpm", "php", undefined],
  ["cli", "cli", undefined],
  ["db", "db", 3306],
  ["mail", "mail", 8025],
];

/** `count` environments of five services each; every third one is stopped. */
export function fakeContainers(count, { project = "fake", codeRoot = "/nonexistent" } = {}) {
  const containers = [];
  for (let index = 0; index < count; index++) {
    const name = `qa-${String(index).padStart(3, "0")}`;
    const envId = `${project}-${name}`;
    const stopped = index % 3 === 2;
    for (const [service, role, port] of SERVICES) {
      containers.push({
        id: `${envId}-${service}`,
        name: `${envId}_${service}_1`,
        state: stopped ? "exited" : "running",
        health: role === "db" || role === "php" ? "healthy" : "none",
        image: `prodlike/${service}:fake`,
        imageId: "sha256:fake",
        ports:
          port && !stopped
            ? [
                {
                  containerPort: port,
                  hostPort: 20000 + index * 10 + (port % 10),
                  hostIp: "127.0.0.1",
                },
              ]
            : [],
        createdAt: Date.now() - index * 60_000,
        networks: [`${envId}_default`],
        labels: {
          "dev.prodlike.managed": "true",
          "dev.prodlike.env": envId,
          "dev.prodlike.project": project,
          "dev.prodlike.name": name,
          "dev.prodlike.preset": "drupal",
          "dev.prodlike.backend": "compose",
          "dev.prodlike.code-root": `${codeRoot}/${name}`,
          "dev.prodlike.service": service,
          "dev.prodlike.role": role,
          ...(port
            ? { "dev.prodlike.ports": `${service}:${port}:${role === "db" ? "tcp" : "http"}` }
            : {}),
        },
      });
    }
  }
  return containers;
}

/** An engine that lists `containers` (by label) and streams events sent with `emit`;
 *  `logLines` (by container id): how many lines that container writes once followed. */
export function listingEngine(containers, { logLines = {} } = {}) {
  const watchers = new Set();
  const unsupported = (what) => async () => {
    throw new Error(`the listing engine does not ${what}`);
  };
  return {
    containers,
    async ping() {},
    async listContainers(labels) {
      return containers.filter((container) =>
        Object.entries(labels).every(([key, value]) =>
          value === true ? key in container.labels : container.labels[key] === value,
        ),
      );
    },
    async watchContainers(_labels, signal, onEvent) {
      watchers.add(onEvent);
      signal.addEventListener("abort", () => watchers.delete(onEvent));
    },
    emit(event) {
      for (const watcher of watchers) watcher(event);
    },
    async containerStats() {
      return { cpuNanos: 0, systemNanos: 0, onlineCpus: 1, memoryBytes: 0, memoryLimitBytes: 0 };
    },
    // Lines written while followed (a busy service), 5,000 at a time.
    async followLogs(id, options, onLine) {
      const count = logLines[id] ?? 0;
      const line = (index) => {
        const level = index % 50 === 0 ? "[error]" : index % 10 === 0 ? "[warn]" : "GET";
        onLine({
          stream: index % 2 ? "stderr" : "stdout",
          text: `${level} /page/${index} line ${index}`,
        });
      };
      let index = 0;
      while (index < count && !options.signal.aborted) {
        const end = Math.min(count, index + 5000);
        for (; index < end; index++) line(index);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => options.signal.addEventListener("abort", resolve));
    },
    containerLogs: unsupported("read logs"),
    listVolumes: async () => [],
    listNetworks: async () => [],
    listImages: async () => [],
    removeContainer: unsupported("remove"),
    removeVolume: unsupported("remove"),
    removeNetwork: unsupported("remove"),
    removeImage: unsupported("remove"),
    imageExists: async () => true,
    buildImage: unsupported("build"),
    importImage: unsupported("import"),
    pullImage: unsupported("pull"),
    inspectContainer: unsupported("inspect"),
    restartContainer: unsupported("restart"),
    execInContainer: unsupported("exec"),
  };
}
