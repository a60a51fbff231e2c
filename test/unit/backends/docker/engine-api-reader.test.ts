import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  EngineApiReader,
  engineEndpoint,
  parseResponse,
} from "../../../../src/backends/docker/engine-api-reader.js";

describe("engineEndpoint", () => {
  it("uses the default socket, a unix DOCKER_HOST, and leaves tcp hosts to dockerode", () => {
    expect(engineEndpoint({})).toEqual({ socketPath: "/var/run/docker.sock" });
    expect(engineEndpoint({ DOCKER_HOST: "unix:///run/user/1000/docker.sock" })).toEqual({
      socketPath: "/run/user/1000/docker.sock",
    });
    expect(engineEndpoint({ DOCKER_HOST: "tcp://10.0.0.2:2376" })).toBeUndefined();
  });
});

describe("parseResponse", () => {
  it("reads status and body, and decodes chunked bodies", () => {
    expect(parseResponse("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nOK")).toEqual({
      status: 200,
      body: "OK",
    });
    const chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[{}\r\n1\r\n]\r\n0\r\n\r\n";
    expect(parseResponse(chunked)).toEqual({ status: 200, body: "[{}]" });
  });

  it("rejects garbage", () => {
    expect(() => parseResponse("nonsense")).toThrow(/malformed/);
  });
});

describe("EngineApiReader against an HTTP server on a unix socket", () => {
  it("lists containers with label filters", async () => {
    const socketPath = path.join(
      await mkdtemp(path.join(os.tmpdir(), "prodlike-sock-")),
      "engine.sock",
    );
    const seen: string[] = [];
    const server = createServer((request, response) => {
      seen.push(request.url ?? "");
      response.setHeader("Content-Type", "application/json");
      response.end(
        request.url === "/_ping" ? "OK" : JSON.stringify([{ Id: "abc", State: "running" }]),
      );
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const reader = new EngineApiReader({ socketPath });
      await reader.ping();
      const containers = await reader.listContainers(["dev.prodlike.env=shop-local"]);
      expect(containers).toEqual([{ Id: "abc", State: "running" }]);
      const query = decodeURIComponent(seen[1]?.split("filters=")[1] ?? "");
      expect(JSON.parse(query)).toEqual({ label: ["dev.prodlike.env=shop-local"] });
    } finally {
      server.close();
    }
  });
});
