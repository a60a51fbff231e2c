import { describe, expect, it } from "vitest";
import { changedServices, isUpToDate } from "../../../../src/backends/compose/container-waits.js";
import {
  overallState,
  statusFromContainers,
} from "../../../../src/backends/compose/status-from-containers.js";
import {
  type ContainerInfo,
  demuxToText,
  healthFromStatus,
} from "../../../../src/backends/docker/docker-engine.js";
import { loadComposeBase } from "../../../../src/topology/compose-base.js";
import { Label } from "../../../../src/topology/labels.js";
import { renderCompose } from "../../../../src/topology/render-compose.js";
import { drupalTopology } from "../../../support/drupal-topology.js";

const base = await loadComposeBase();

function container(
  service: string,
  overrides: Partial<ContainerInfo> = {},
  labels: Record<string, string> = {},
): ContainerInfo {
  return {
    id: `id-${service}`,
    name: `shop-local_${service}_1`,
    state: "running",
    health: "healthy",
    image: "img",
    imageId: "sha256:1",
    ports: [],
    createdAt: Date.UTC(2026, 10, 22),
    networks: [],
    labels: {
      [Label.env]: "shop-local",
      [Label.project]: "shop",
      [Label.name]: "local",
      [Label.preset]: "drupal",
      [Label.codeRoot]: "/home/dev/shop",
      [Label.service]: service,
      [Label.role]: service,
      ...labels,
    },
    ...overrides,
  };
}

describe("statusFromContainers", () => {
  it("names ports and builds URLs from labels alone", () => {
    const status = statusFromContainers([
      container(
        "web",
        { ports: [{ containerPort: 80, hostPort: 8081, hostIp: "127.0.0.1" }] },
        { [Label.ports]: "web:80:http" },
      ),
      container(
        "db",
        { ports: [{ containerPort: 3306, hostPort: 13306, hostIp: "127.0.0.1" }] },
        { [Label.ports]: "db:3306:tcp" },
      ),
    ]);
    expect(status).toMatchObject({
      id: "shop-local",
      project: "shop",
      name: "local",
      state: "running",
      urls: { web: "http://127.0.0.1:8081" },
      codeRoot: "/home/dev/shop",
    });
    expect(status?.services.map((service) => service.name)).toEqual(["db", "web"]);
    expect(status?.services[0]?.ports[0]).toEqual({
      name: "db",
      containerPort: 3306,
      hostPort: 13306,
      hostIp: "127.0.0.1",
    });
  });

  it("returns undefined for no containers", () => {
    expect(statusFromContainers([])).toBeUndefined();
  });
});

describe("overallState", () => {
  const svc = (state: string, health = "none") => ({
    name: "x",
    role: "x",
    state,
    health,
    ports: [],
  });
  it.each([
    [[svc("running", "healthy"), svc("running")], "running"],
    [[svc("running", "starting"), svc("running")], "starting"],
    [[svc("running", "unhealthy"), svc("running")], "unhealthy"],
    [[svc("exited"), svc("exited")], "stopped"],
    [[svc("running"), svc("exited")], "partial"],
  ] as const)("%j -> %s", (services, expected) => {
    expect(overallState(services)).toBe(expected);
  });
});

describe("isUpToDate", () => {
  it("is true only when every service runs healthy from the same config hash", async () => {
    const topology = await drupalTopology();
    const { serviceHashes } = renderCompose(topology, { configDir: "/x", base });
    const healthy = topology.services.map((service) =>
      container(
        service.name,
        { health: service.health ? "healthy" : "none" },
        { [Label.configHash]: serviceHashes[service.name] ?? "" },
      ),
    );
    expect(isUpToDate(healthy, topology, serviceHashes)).toBe(true);
    expect(isUpToDate(healthy, topology, { ...serviceHashes, web: "other-hash" })).toBe(false);
    expect(changedServices(healthy, topology, { ...serviceHashes, web: "other-hash" })).toEqual([
      "web",
    ]);
    expect(isUpToDate(healthy.slice(1), topology, serviceHashes)).toBe(false);
    const starting = healthy.map((c, index) =>
      index === 0 ? { ...c, health: "starting" as const } : c,
    );
    expect(isUpToDate(starting, topology, serviceHashes)).toBe(false);
    const stopped = healthy.map((c, index) => (index === 0 ? { ...c, state: "exited" } : c));
    expect(isUpToDate(stopped, topology, serviceHashes)).toBe(false);
  });
});

describe("engine helpers", () => {
  it("reads health from docker's status text", () => {
    expect(healthFromStatus("Up 3 seconds (healthy)")).toBe("healthy");
    expect(healthFromStatus("Up 3 seconds (unhealthy)")).toBe("unhealthy");
    expect(healthFromStatus("Up 1 second (health: starting)")).toBe("starting");
    expect(healthFromStatus("Up 2 hours")).toBe("none");
  });

  it("demultiplexes docker's framed log stream", () => {
    const frame = (type: number, text: string) => {
      const body = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = type;
      header.writeUInt32BE(body.length, 4);
      return Buffer.concat([header, body]);
    };
    expect(demuxToText(Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]))).toBe("out\nerr\n");
    expect(demuxToText(Buffer.from("plain tty text"))).toBe("plain tty text");
  });
});
