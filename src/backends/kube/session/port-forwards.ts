import net from "node:net";
import type { V1Service } from "@kubernetes/client-node";
import type { EnvironmentRecord } from "../../../env/environment-records.js";
import { ProdlikeError } from "../../../errors/prodlike-error.js";
import type { KubeApi, PodInfo } from "../kube-api.js";

// The environment's published ports on 127.0.0.1 (and on the local router network's
// gateway, where the router's names dial them), each connection forwarded through the
// API server to a ready pod of the port's Service. The pod is looked up again when a
// forward fails (the pod restarted, was replaced, moved): the listener stays, so the
// URL keeps working across pod restarts without anyone reconnecting by hand.

export interface ForwardEvents {
  onLine(line: string): void;
}

/** How often the session asks where the local router reaches this machine (the router's
 *  network may be made, removed or made again with another gateway meanwhile). */
const ROUTER_CHECK_MS = 10_000;

export class PortForwards {
  private readonly servers: net.Server[] = [];
  /** The same ports on the router network's gateway, for the router's names. */
  private readonly routed: net.Server[] = [];
  private routedOn: string | undefined;
  private following: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** The pod each Service's connections go to, until a forward to it fails. */
  private readonly pods = new Map<string, string>();

  constructor(
    private readonly api: KubeApi,
    private readonly record: EnvironmentRecord,
    private readonly events: ForwardEvents,
    /** Where the local router dials this machine; undefined: no router. */
    private readonly routerAddress: () => Promise<string | undefined> = async () => undefined,
  ) {}

  /** Listens on every published port; fails when one is taken. */
  async open(): Promise<void> {
    for (const port of this.record.ports) {
      const server = this.serverFor(port);
      await listen(server, "127.0.0.1", port.hostPort).catch((error: NodeJS.ErrnoException) => {
        throw new ProdlikeError(
          "PORT_UNAVAILABLE",
          `127.0.0.1:${port.hostPort} (${port.name}) is taken: ${error.code ?? error.message}`,
          { hint: "Another program listens there: stop it, or `prodlike down` and up again." },
        );
      });
      this.servers.push(server);
      this.events.onLine(
        `forwarding 127.0.0.1:${port.hostPort} -> ${port.service}:${port.containerPort}`,
      );
    }
    await this.followRouter();
    this.timer = setInterval(() => void this.followRouter(), ROUTER_CHECK_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.following;
    await Promise.all([...this.servers, ...this.routed].map(closeServer));
  }

  // The router's names dial the same ports on its network's gateway: listened to there
  // too, and again wherever that gateway moves. Never fatal: the 127.0.0.1 URLs work.
  private followRouter(): Promise<void> {
    this.following = this.following.then(async () => {
      const address = await this.routerAddress().catch(() => undefined);
      if (address === this.routedOn) return;
      await Promise.all(this.routed.map(closeServer));
      this.routed.length = 0;
      this.routedOn = address;
      if (!address) return;
      for (const port of this.record.ports) {
        const server = this.serverFor(port);
        try {
          await listen(server, address, port.hostPort);
          this.routed.push(server);
          this.events.onLine(`forwarding ${address}:${port.hostPort} (the local router's way in)`);
        } catch (error) {
          this.events.onLine(
            `${port.name}: not reachable by the local router on ${address}:${port.hostPort}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    });
    return this.following;
  }

  private serverFor(port: EnvironmentRecord["ports"][number]): net.Server {
    return net.createServer((socket) => {
      socket.on("error", () => undefined);
      socket.pause();
      // A pod that went away since the last connection: looked up again, once.
      this.forward(port.service, port.containerPort, socket)
        .catch(() => {
          this.pods.delete(port.service);
          return this.forward(port.service, port.containerPort, socket);
        })
        .catch((error: unknown) => {
          this.pods.delete(port.service);
          this.events.onLine(
            `${port.name}: ${error instanceof Error ? error.message : String(error)}`,
          );
          socket.destroy();
        });
    });
  }

  private async forward(service: string, port: number, socket: net.Socket): Promise<void> {
    const pod = this.pods.get(service) ?? (await this.readyPod(service));
    this.pods.set(service, pod);
    // A forward whose pod went away ends at once: the next connection finds the new pod.
    socket.once("close", (hadError) => {
      if (hadError) this.pods.delete(service);
    });
    try {
      await this.api.portForward(this.record.namespace, pod, port, socket);
    } catch (error) {
      this.pods.delete(service);
      throw error;
    }
    socket.resume();
  }

  private async readyPod(service: string): Promise<string> {
    const object = await this.api.read<V1Service>("v1", "Service", this.record.namespace, service);
    const selector = Object.entries(object?.spec?.selector ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join(",");
    if (!selector) throw new Error(`no Service ${service} with a selector`);
    const pods = await this.api.listPods(this.record.namespace, selector);
    const ready = pods.find(isReady);
    if (!ready) throw new Error(`no ready pod behind ${service}`);
    return ready.name;
  }
}

function isReady(pod: PodInfo): boolean {
  return (
    !pod.terminating &&
    pod.phase === "Running" &&
    pod.containers.length > 0 &&
    pod.containers.every((container) => container.ready)
  );
}

function listen(server: net.Server, address: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
