import { connect, type Socket } from "node:net";

// A minimal client for the Docker Engine API over its unix socket. `status` and `ls` only
// list containers, and the machine-wide claims every `up` makes (a few labelled volumes)
// are small requests on its critical path; loading dockerode (and its ssh/grpc graph) for
// them would make them several times slower. Other writes go through dockerode.

export interface EngineEndpoint {
  socketPath: string;
}

// The unix socket DOCKER_HOST names, or the default one. TCP and TLS hosts return
// undefined: those are read through dockerode.
export function engineEndpoint(env: NodeJS.ProcessEnv): EngineEndpoint | undefined {
  const host = env.DOCKER_HOST;
  if (!host) return { socketPath: "/var/run/docker.sock" };
  if (host.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  return undefined;
}

export interface RawContainer {
  Id: string;
  Names?: string[];
  Image: string;
  ImageID: string;
  State: string;
  Status: string;
  Created: number;
  Labels?: Record<string, string>;
  Ports?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, unknown> };
}

export class EngineApiReader {
  constructor(private readonly endpoint: EngineEndpoint) {}

  async ping(): Promise<void> {
    const response = await this.get("/_ping");
    if (response.status !== 200) throw new Error(`engine answered ${response.status} to /_ping`);
  }

  async listContainers(labelFilters: string[]): Promise<RawContainer[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: labelFilters }));
    const response = await this.get(`/containers/json?all=1&filters=${filters}`);
    if (response.status !== 200)
      throw new Error(`engine answered ${response.status}: ${response.body}`);
    return JSON.parse(response.body) as RawContainer[];
  }

  async imageExists(ref: string): Promise<boolean> {
    const response = await this.get(`/images/${encodeURIComponent(ref)}/json`);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw new Error(`engine answered ${response.status}: ${response.body}`);
  }

  /** One request; the body (JSON) sent when given. Any status resolves: callers judge it. */
  async request(
    method: "GET" | "POST" | "DELETE",
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: string }> {
    const raw = await this.exchange(method, path, body);
    return parseResponse(raw.toString("utf8"));
  }

  private get(path: string): Promise<{ status: number; body: string }> {
    return this.request("GET", path);
  }

  // HTTP/1.0 so the engine answers with a plain body and closes the connection: no
  // chunked decoding, no keep-alive to manage.
  private exchange(method: string, path: string, body?: unknown): Promise<Buffer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), "utf8");
    const head = [
      `${method} ${path} HTTP/1.0`,
      "Host: docker",
      ...(payload ? ["Content-Type: application/json", `Content-Length: ${payload.length}`] : []),
      "",
      "",
    ].join("\r\n");
    return new Promise((resolve, reject) => {
      const socket: Socket = connect(this.endpoint.socketPath);
      const chunks: Buffer[] = [];
      socket.setTimeout(10_000, () =>
        socket.destroy(new Error("engine did not answer within 10 s")),
      );
      socket.on("connect", () => {
        socket.write(head);
        if (payload) socket.write(payload);
      });
      socket.on("data", (chunk) => chunks.push(chunk));
      socket.on("error", reject);
      socket.on("end", () => resolve(Buffer.concat(chunks)));
    });
  }
}

export function parseResponse(raw: string): { status: number; body: string } {
  const headerEnd = raw.indexOf("\r\n\r\n");
  if (headerEnd < 0) throw new Error("malformed response from the Docker engine");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1]);
  if (!Number.isInteger(status)) throw new Error("malformed status line from the Docker engine");
  const headers = raw.slice(0, headerEnd).toLowerCase();
  let body = raw.slice(headerEnd + 4);
  if (/\r\ntransfer-encoding:\s*chunked/.test(headers)) body = dechunk(body);
  return { status, body };
}

function dechunk(body: string): string {
  const parts: string[] = [];
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    if (lineEnd < 0) break;
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(rest.slice(lineEnd + 2, lineEnd + 2 + size));
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
  return parts.join("");
}
