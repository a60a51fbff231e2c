import { ProdlikeError } from "../../errors/prodlike-error.js";
import type { CommandRunner } from "../../process/command-runner.js";
import { type BasicAuth, SHARE_CONTAINER_PORT, shareConfig } from "../../router/caddy-config.js";
import { Label } from "../../topology/labels.js";
import type { DockerEngine } from "../docker/docker-engine.js";

// `prodlike share`: one environment reachable from the local network, behind its lock. A
// small container of the router's image per shared environment, on that environment's
// own network, published on the one address asked for (the host's LAN address): the
// shared router itself stays on 127.0.0.1, and no other environment is reachable there.
// It carries no environment label (it is no service of the environment); its destroy
// and `share --off` remove it by its own.

export const ShareLabel = {
  env: "dev.prodlike.share.env",
  /** ADDRESS:PORT it is published on. */
  address: "dev.prodlike.share.address",
} as const;

export interface SharedEnvironment {
  envId: string;
  address: string;
  port: number;
}

export function shareContainerName(envId: string): string {
  return `prodlike-share-${envId}`;
}

export class ShareListeners {
  constructor(
    private readonly runner: CommandRunner,
    private readonly engine: DockerEngine,
  ) {}

  async list(): Promise<SharedEnvironment[]> {
    const containers = await this.engine.listContainers({ [ShareLabel.env]: true });
    return containers.flatMap((container) => {
      const envId = container.labels[ShareLabel.env];
      const match = /^(.+):(\d+)$/.exec(container.labels[ShareLabel.address] ?? "");
      return envId && match?.[1] ? [{ envId, address: match[1], port: Number(match[2]) }] : [];
    });
  }

  /** Publishes the environment's site (reached at `dial` on `network`) on address:port,
   *  replacing a listener it had. */
  async start(request: {
    envId: string;
    image: string;
    network: string;
    dial: string;
    auth: BasicAuth;
    address: string;
    port: number;
  }): Promise<void> {
    await this.stop(request.envId);
    const config = JSON.stringify(shareConfig(request, request.port));
    const result = await this.runner.run("docker", [
      "run",
      "--detach",
      "--name",
      shareContainerName(request.envId),
      "--label",
      `${Label.managed}=true`,
      "--label",
      `${ShareLabel.env}=${request.envId}`,
      "--label",
      `${ShareLabel.address}=${request.address}:${request.port}`,
      "--network",
      request.network,
      "--restart",
      "unless-stopped",
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges",
      // The router image declares /data a volume: an anonymous one would outlive the
      // listener, unlabelled. An empty tmpfs covers it; Caddy's autosave, nothing to
      // keep, goes to the container's /tmp.
      "--tmpfs",
      "/data",
      "--env",
      "XDG_CONFIG_HOME=/tmp/config",
      "--env",
      "XDG_DATA_HOME=/tmp/data",
      "--publish",
      `${request.address}:${request.port}:${SHARE_CONTAINER_PORT}`,
      "--env",
      `PRODLIKE_SHARE_CONFIG=${config}`,
      "--entrypoint",
      "sh",
      request.image,
      "-c",
      'printf %s "$PRODLIKE_SHARE_CONFIG" > /tmp/share.json && exec caddy run --config /tmp/share.json',
    ]);
    if (result.exitCode !== 0) {
      await this.stop(request.envId);
      throw new ProdlikeError(
        "ROUTER_FAILED",
        `Sharing ${request.envId} on ${request.address}:${request.port} failed`,
        {
          hint: `${result.stderr.trim().split("\n").at(-1) ?? ""}\nPick another address or port (--address, --port).`,
        },
      );
    }
  }

  /** Removes the environment's listener; false when it had none. Returns once the
   *  engine let go of it: a container still being removed holds on to the environment's
   *  network, whose removal (destroy) would fail. */
  async stop(envId: string): Promise<boolean> {
    const found = await this.engine.listContainers({ [ShareLabel.env]: envId });
    for (const container of found) await this.engine.removeContainer(container.id);
    for (let tries = 0; tries < 100; tries++) {
      if ((await this.engine.listContainers({ [ShareLabel.env]: envId })).length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return found.length > 0;
  }
}
