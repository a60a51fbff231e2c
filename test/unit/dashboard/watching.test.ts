import { describe, expect, it } from "vitest";
import type { Backend, EnvironmentStatus, ServiceLogLine } from "../../../src/backends/backend.js";
import { LogHub, MAX_LINES } from "../../../src/dashboard/log-hub.js";
import { levelOf } from "../../../src/dashboard/log-levels.js";
import { graphFromCompose } from "../../../src/dashboard/topology-graph.js";
import { usagePoint } from "../../../src/dashboard/usage-sampler.js";
import type { LogLineView } from "../../../src/dashboard/wire.js";

describe("log levels", () => {
  it("reads the level servers write into their lines", () => {
    expect(levelOf('2026/12/03 05:00:00 [error] 7#7: *1 open() "/x" failed')).toBe("error");
    expect(levelOf("PHP Fatal error:  Uncaught Exception")).toBe("error");
    expect(levelOf("PHP Warning:  Undefined variable $x")).toBe("warn");
    expect(levelOf("2026-12-03  5:00:00 0 [Warning] Aborted connection")).toBe("warn");
    expect(levelOf('{"level":"debug","msg":"x"}')).toBe("debug");
    expect(levelOf('172.18.0.1 - - "GET / HTTP/1.1" 200 512')).toBe("info");
    expect(levelOf(`${"x".repeat(200)} error`)).toBe("info");
  });
});

describe("usage points", () => {
  it("turns two readings into CPU percent of one core, and keeps memory", () => {
    const first = {
      service: "web",
      cpuNanos: 1e9,
      systemNanos: 100e9,
      onlineCpus: 2,
      memoryBytes: 5,
    };
    const second = {
      ...first,
      cpuNanos: 1.5e9,
      systemNanos: 102e9,
      memoryBytes: 7,
      memoryLimitBytes: 9,
    };
    expect(usagePoint(undefined, first, 1)).toEqual({ at: 1, memoryBytes: 5 });
    expect(usagePoint(first, second, 2)).toEqual({
      at: 2,
      cpuPercent: 50,
      memoryBytes: 7,
      memoryLimitBytes: 9,
    });
    // A restarted container's counter starts over: no negative rate.
    expect(usagePoint(second, { ...first, systemNanos: 103e9 }, 3).cpuPercent).toBeUndefined();
  });
});

describe("the topology diagram's graph", () => {
  it("reads what waits for what and the named volumes from the compose file", () => {
    const environment = {
      services: [
        { name: "web", role: "web" },
        { name: "php-fpm", role: "php" },
        { name: "db", role: "db" },
      ],
    } as EnvironmentStatus;
    const graph = graphFromCompose(
      {
        services: {
          web: {
            depends_on: { "php-fpm": { condition: "service_healthy" } },
            volumes: ["/home/dev/shop:/var/www"],
          },
          "php-fpm": {
            depends_on: ["db"],
            volumes: ["./config/php.ini:/etc/php.ini", "files:/var/www/files"],
          },
          db: { volumes: [{ type: "volume", source: "db-data", target: "/var/lib/mysql" }] },
        },
      },
      environment,
    );
    expect(graph).toEqual({
      services: [
        { name: "db", role: "db", dependsOn: [], volumes: ["db-data"] },
        { name: "php-fpm", role: "php", dependsOn: ["db"], volumes: ["files"] },
        { name: "web", role: "web", dependsOn: ["php-fpm"], volumes: [] },
      ],
      volumes: ["db-data", "files"],
    });
    expect(graphFromCompose(null, environment)).toEqual({ services: [], volumes: [] });
  });
});

describe("LogHub", () => {
  function backendWith(lines: ServiceLogLine[]) {
    let following = 0;
    const backend = {
      async followLogLines(
        _envId: string,
        _services: string[],
        options: { tail: number; signal: AbortSignal },
        onLine: (line: ServiceLogLine) => void,
      ) {
        following += 1;
        for (const line of lines) onLine(line);
        await new Promise((resolve) => options.signal.addEventListener("abort", resolve));
      },
    } as unknown as Backend;
    return { backend, following: () => following };
  }

  it("keeps at most MAX_LINES, sends them first, then new lines in batches", async () => {
    const many = Array.from({ length: MAX_LINES + 2500 }, (_, index) => ({
      service: index % 2 ? "web" : "db",
      stream: "stdout" as const,
      text: `line ${index}`,
    }));
    const { backend, following } = backendWith(many);
    const hub = new LogHub(async () => backend);
    const received: { lines: LogLineView[]; reset: boolean }[] = [];
    const stop = await hub.follow("shop-local", (lines, reset) => received.push({ lines, reset }));
    await new Promise((resolve) => setTimeout(resolve, 250));
    const first = received[0];
    expect(first?.reset).toBe(true);
    // Everything it was sent, each line once, at most MAX_LINES of them.
    const all = received.flatMap((message) => message.lines.map((line) => line.seq));
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(MAX_LINES);
    // A second page shares the one follower and gets the buffer, trimmed to the newest.
    const second: LogLineView[][] = [];
    const stopSecond = await hub.follow("shop-local", (lines) => second.push(lines));
    expect(second[0]).toHaveLength(MAX_LINES);
    expect(second[0]?.at(-1)?.text).toBe(`line ${MAX_LINES + 2499}`);
    expect(following()).toBe(1);
    stop();
    stopSecond();
    hub.close();
  });
});
