import type http from "node:http";
import type { Socket } from "node:net";
import type { V1Pod } from "@kubernetes/client-node";
import { WebSocketServer } from "ws";
import {
  PORT_FORWARD_PROTOCOLS,
  type SessionRecord,
  serveExec,
  servePortForward,
} from "./channels.js";
import { parseRoute, requireType } from "./routes.js";
import type { PodRuntime } from "./runtime.js";
import { ApiError, badRequest, notFound } from "./status.js";
import type { Store } from "./store.js";

// A pod's streams: its containers' logs (follow or not, tailLines, previous), and the
// websocket upgrades of exec, attach and port-forward, with the subprotocol the client
// offers and this server accepts (exec: as configured, v4 and/or v5).

export class PodStreams {
  constructor(
    private readonly store: Store,
    private readonly runtime: PodRuntime,
    private readonly execProtocols: readonly string[],
    /** Each exec and attach session, as the server saw it (tests read them). */
    readonly sessions: SessionRecord[],
  ) {}

  async logs(
    response: http.ServerResponse,
    namespace: string,
    name: string,
    query: URLSearchParams,
  ): Promise<void> {
    const { pod, container } = this.podContainer(namespace, name, query.get("container"));
    const status = pod.status?.containerStatuses?.find((candidate) => candidate.name === container);
    const previous = query.get("previous") === "true";
    // A container waiting after it ran (CrashLoopBackOff) still has its last run's log.
    const ranBefore = (status?.restartCount ?? 0) > 0 || status?.lastState?.terminated;
    if (!previous && status?.state?.waiting && !ranBefore)
      throw badRequest(
        `container "${container}" in pod "${name}" is waiting to start: ${status.state.waiting.reason}`,
      );
    if (!previous && !status)
      throw badRequest(
        `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`,
      );
    const tail = query.get("tailLines");
    const stream = await this.runtime.logs(pod, container, {
      follow: query.get("follow") === "true",
      previous,
      ...(tail ? { tailLines: Number(tail) } : {}),
    });
    response.writeHead(200, { "Content-Type": "text/plain", "Transfer-Encoding": "chunked" });
    stream.pipe(response);
    response.on("close", () => stream.destroy());
  }

  private podContainer(namespace: string, name: string, wanted: string | null) {
    const found = this.store.get(requireType("v1", "Pod"), namespace, name);
    if (!found) throw notFound("", "pods", name);
    const pod = found as unknown as V1Pod;
    const names = (pod.spec?.containers ?? []).map((container) => container.name);
    if (!wanted && names.length !== 1)
      throw badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${names.join(" ")}]`,
      );
    const container = wanted ?? names[0] ?? "";
    if (!names.includes(container))
      throw badRequest(`container ${container} is not valid for pod ${name}`);
    return { pod, container };
  }

  async upgrade(request: http.IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? "/", "https://127.0.0.1");
    const route = parseRoute(url.pathname);
    const sub = route?.subresource;
    if (route?.type.kind !== "Pod" || !sub || !["exec", "attach", "portforward"].includes(sub))
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    const offered = String(request.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((value) => value.trim());
    const supported = sub === "portforward" ? PORT_FORWARD_PROTOCOLS : this.execProtocols;
    const protocol = offered.find((candidate) => supported.includes(candidate));
    if (!protocol)
      throw badRequest(
        `unable to upgrade: requested protocol(s) [${offered.join(", ")}] are not supported`,
      );
    const query = url.searchParams;
    if (sub === "portforward") {
      const found = this.store.get(route.type, route.namespace, route.name ?? "");
      if (!found) throw notFound("", "pods", route.name ?? "");
      const pod = found as unknown as V1Pod;
      const ports = query
        .getAll("ports")
        .flatMap((value) => value.split(","))
        .map(Number);
      const socketServer = new WebSocketServer({ noServer: true, handleProtocols: () => protocol });
      socketServer.handleUpgrade(request, socket, head, (ws) =>
        servePortForward(
          ws,
          ports,
          (port) => this.runtime.connect(pod, port),
          (port, error) =>
            `error forwarding port ${port} to pod ${pod.metadata?.uid}, uid : failed to execute portforward in network namespace: ${error.message}`,
        ),
      );
      return;
    }
    const { pod, container } = this.podContainer(
      route.namespace,
      route.name ?? "",
      query.get("container"),
    );
    const state = pod.status?.containerStatuses?.find(
      (candidate) => candidate.name === container,
    )?.state;
    if (!state?.running)
      throw badRequest(`unable to upgrade connection: container not found ("${container}")`);
    const command = query.getAll("command");
    const tty = query.get("tty") === "true";
    const stdin = query.get("stdin") === "true";
    const process =
      sub === "exec"
        ? await this.runtime.exec(pod, container, command, { stdin, tty })
        : await this.runtime.attach(pod, container, { stdin, tty });
    const record: SessionRecord = {
      protocol,
      command,
      stdinBytes: 0,
      stdinClosed: undefined,
      resizes: [],
    };
    this.sessions.push(record);
    const socketServer = new WebSocketServer({ noServer: true, handleProtocols: () => protocol });
    socketServer.handleUpgrade(request, socket, head, (ws) =>
      serveExec(ws, process, command, record, { sendStatus: sub === "exec" }),
    );
  }
}
