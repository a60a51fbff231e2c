import { ProdlikeError } from "../../errors/prodlike-error.js";
import { packageFile } from "../../package-files.js";
import type { CommandRunner, RunResult } from "../../process/command-runner.js";
import { formatCommand } from "../../process/command-runner.js";
import { sha256Hex } from "../../process/crypto-on-demand.js";
import {
  type BasicAuth,
  caddyConfig,
  ROUTER_CONFIG_FILE,
  ROUTER_CONTAINER_PORTS,
  ROUTER_DATA_DIR,
  ROUTER_ROOT_CERT,
  type RouterPorts,
  type RouterSite,
} from "../../router/caddy-config.js";
import {
  DASHBOARD_HOST,
  type ExternalRoutes,
  type RecordedEnvironment,
  type RouterDoor,
  type RouterPlan,
  routerPlan,
} from "../../router/router-plan.js";
import { Label } from "../../topology/labels.js";
import type { Clock } from "../../waits/clock.js";
import { tcpAnswers } from "../../waits/tcp-answers.js";
import type { ContainerInfo, DockerEngine } from "../docker/docker-engine.js";
import { EnvironmentOwners } from "../docker/environment-owners.js";
import { SleepRecords } from "../docker/sleep-records.js";

// The one router all environments on this machine share: a container, its network and
// its CA volume, all labelled and named `prodlike-router*`. Started by the first `up` that
// has something to route, given the routes every running environment's containers carry,
// and removed (its volume kept: the CA a browser trusts) when nothing is left to route.
// The docker CLI does the writes: `network connect` and `exec -i` are one line each there.

export const ROUTER_NAME = "prodlike-router";
/** What a router must be to be kept: 2 signs with the CA name-constrained to .localhost.
 *  Raised when a router of before must not keep running (its CA, its certificates). */
const ROUTER_GENERATION = "2";
const ROUTER_GENERATION_LABEL = "dev.prodlike.router.generation";
export const ROUTER_VOLUME = "prodlike-router-data";
// Two records kept with the engine, as labels of empty volumes (one request to read,
// no process started, no file of the router's to open), rewritten under the router's
// machine-wide lock: the hash of the configuration the router's container last accepted
// (a sync that changes nothing, by any user of the engine, makes no call into Caddy), and
// cluster environments' routes (no container of theirs carries a label; see
// ExternalRoutes). Both are the router's: `router stop --purge` removes them. A third
// holds locked environments' credentials (user and bcrypt hash, never the password), by
// id: every user's sync serves them, and they outlive a router restart.
const LOADED_RECORD = "prodlike-router-loaded";
const CLUSTERS_RECORD = "prodlike-router-clusters";
const LOCKS_RECORD = "prodlike-router-locks";
const RecordLabel = {
  container: "dev.prodlike.router.container",
  hash: "dev.prodlike.router.config-hash",
  clusters: "dev.prodlike.router.clusters",
  locks: "dev.prodlike.router.locks",
} as const;
/** What the router's network and volume are labelled with (`router stop` finds them). */
const ROUTER_LABEL_ARGS = ["--label", `${Label.managed}=true`, "--label", `${Label.router}=true`];
const ROUTER_CONTEXT = packageFile("router");

/** Host port pairs tried in order: 80/443 when free, then the alternatives. */
export const DEFAULT_ROUTER_PORTS: RouterPorts[] = [
  { http: 80, https: 443 },
  { http: 8880, https: 8443 },
  { http: 18880, https: 18443 },
];

export interface RouterState {
  running: boolean;
  ports?: RouterPorts;
  /** Each environment's routed host names. */
  hostsByEnv: Map<string, string[]>;
  conflicts: RouterPlan["conflicts"];
}

export interface LocalRouterDeps {
  runner: CommandRunner;
  engine: DockerEngine;
  clock: Clock;
  /** PRODLIKE_ROUTER_PORTS ("80:443,8880:8443"), else DEFAULT_ROUTER_PORTS. */
  portChoices: RouterPorts[];
}

interface RouterContainer {
  id: string;
  /** Its generation label: another one (an older router) is replaced. */
  generation: string | undefined;
  running: boolean;
  ports: RouterPorts | undefined;
  networks: string[];
}

export class LocalRouter {
  constructor(private readonly deps: LocalRouterDeps) {}

  /** The router as every prodlike command opens it: on the ports PRODLIKE_ROUTER_PORTS
   *  allows, else the defaults. */
  static withPortsOf(
    env: NodeJS.ProcessEnv,
    deps: Omit<LocalRouterDeps, "portChoices">,
  ): LocalRouter {
    return new LocalRouter({ ...deps, portChoices: parsePortChoices(env.PRODLIKE_ROUTER_PORTS) });
  }

  /** What the router serves now, without changing anything (status, ls). Cluster
   *  environments' routes cost a read inside the router: only when asked for. */
  async state(options: { clusters?: boolean } = {}): Promise<RouterState> {
    // Routes and the router itself are on prodlike's containers; a cluster's node (kind's
    // own container, which a cluster environment's routes dial) is not, so only then is
    // every container listed.
    const [containers, recorded, asleep] = await Promise.all([
      options.clusters
        ? this.allContainers()
        : this.deps.engine.listContainers({ [Label.managed]: "true" }),
      this.recorded(),
      this.asleep(),
    ]);
    const container = routerContainerIn(containers);
    const external = options.clusters && container?.running ? await this.readExternal() : undefined;
    const plan = routerPlan(containers, { external, recorded, asleep });
    return {
      running: container?.running ?? false,
      ...(container?.ports ? { ports: container.ports } : {}),
      hostsByEnv: container?.running ? plan.hostsByEnv : new Map(),
      conflicts: plan.conflicts,
    };
  }

  /** Makes the router serve exactly the routes the running containers carry (without
   *  `leaving`'s, an environment about to be removed); removes it when none are left.
   *  The caller holds the machine-wide router lock. */
  async sync(options: {
    /** Environments being removed, by this process or another one of the machine. */
    leaving?: ReadonlySet<string> | undefined;
    /** A cluster environment's routes, replacing what the router kept for it. */
    cluster?: { envId: string; routes: ExternalRoutes | undefined };
    /** An environment locked (its credentials) or unlocked (undefined). */
    lock?: { envId: string; auth: BasicAuth | undefined };
    /** Kept routes to drop as well (a dashboard that no longer answers). */
    forget?: readonly string[];
    onDetail?: (text: string) => void;
  }) {
    const [containers, recorded] = await Promise.all([this.allContainers(), this.recorded()]);
    let container = routerContainerIn(containers);
    const [external, loadedBefore]: [Record<string, ExternalRoutes>, string | undefined] =
      container?.running
        ? await Promise.all([this.readExternal(), this.readLoaded(container.id)])
        : [{}, undefined];

    const externalBefore = JSON.stringify(external);
    if (options.cluster) {
      if (options.cluster.routes) external[options.cluster.envId] = options.cluster.routes;
      else delete external[options.cluster.envId];
    }
    for (const envId of options.leaving ?? []) delete external[envId];
    for (const id of options.forget ?? []) delete external[id];
    const plan = routerPlan(containers, {
      leaving: options.leaving,
      external,
      recorded,
      asleep: await this.asleep(),
    });
    // Locks are kept apart from the router (it may go while a locked environment is down).
    // Only environments still recorded and not leaving keep one: a destroyed one's goes,
    // also when it was the last and the router goes with it.
    const locks = await this.readLocks();
    const locksBefore = JSON.stringify(locks);
    if (options.lock) {
      if (options.lock.auth) locks[options.lock.envId] = options.lock.auth;
      else delete locks[options.lock.envId];
    }
    const held = Object.fromEntries(
      Object.entries(locks).filter(
        ([envId]) => recorded.has(envId) && !options.leaving?.has(envId),
      ),
    );
    if (JSON.stringify(held) !== locksBefore || options.lock) await this.writeLocks(held);
    if (plan.sites.every((site) => site.host === DASHBOARD_HOST)) {
      if (container) await this.remove({ purge: false });
      return { running: false, hostsByEnv: plan.hostsByEnv, conflicts: plan.conflicts };
    }
    // A router of an older generation (Caddy's own, unconstrained CA) is replaced. Only the
    // generation counts, not the image: two prodlike versions on one engine would
    // otherwise replace each other's router on every sync.
    if (!container?.running || !(await this.isCurrent(container))) {
      if (container) await this.docker(["rm", "--force", ROUTER_NAME]);
      options.onDetail?.("starting the local router");
      container = await this.start(await routerImage(), options.onDetail);
    }
    for (const network of plan.networks.filter((name) => !container.networks.includes(name))) {
      const connected = await this.docker(["network", "connect", network, ROUTER_NAME], {
        allowFailure: true,
      });
      // Removed since the listing (an environment destroyed by a prodlike that does not
      // mark it as leaving): its names answer 502 until the next sync drops them; the
      // others are served.
      if (connected.exitCode !== 0 && !/not found/i.test(connected.stderr)) {
        throw routerFailed(
          `docker network connect ${network} ${ROUTER_NAME}: ${lastLine(connected.stderr)}`,
        );
      }
    }
    const ports = container.ports ?? DEFAULT_ROUTER_PORTS[0];
    if (!ports) throw routerFailed("the router's published ports are unknown");
    const kept = withoutGoneNodes(external, containers);
    if (JSON.stringify(kept) !== externalBefore) await this.writeExternal(kept);
    const config = JSON.stringify(caddyConfig(lockedSites(plan, held), ports));
    const hash = await sha256Hex(config);
    if (loadedBefore !== hash) {
      await this.load(config);
      await this.writeLoaded(container.id, hash);
    }
    // Networks of environments that are gone, after the new config no longer dials them;
    // an environment's own network cannot be removed while the router is attached.
    for (const network of container.networks) {
      if (network !== ROUTER_NAME && !plan.networks.includes(network)) {
        await this.docker(["network", "disconnect", "--force", network, ROUTER_NAME], {
          allowFailure: true,
        });
      }
    }
    return { running: true, ports, hostsByEnv: plan.hostsByEnv, conflicts: plan.conflicts };
  }

  // Its generation label says so; a router without one (started by a prodlike of before
  // the label) is kept when its CA is the name-constrained one already, which its root
  // certificate tells.
  private async isCurrent(container: RouterContainer): Promise<boolean> {
    if (container.generation !== undefined) return container.generation === ROUTER_GENERATION;
    const constraints = await this.docker(
      [
        "exec",
        ROUTER_NAME,
        "openssl",
        "x509",
        "-in",
        ROUTER_ROOT_CERT,
        "-noout",
        "-ext",
        "nameConstraints",
      ],
      { allowFailure: true },
    );
    return constraints.exitCode === 0 && constraints.stdout.includes("DNS:.localhost");
  }

  /** Removes the router's container and network; with purge, its CA volume and image too. */
  async remove(options: { purge: boolean }): Promise<string[]> {
    const removed: string[] = [];
    if (await this.container()) {
      await this.docker(["rm", "--force", ROUTER_NAME]);
      removed.push(`container ${ROUTER_NAME}`);
    }
    // What that container had loaded goes with it (the next one loads anew), and the
    // routes it kept: it is removed only when nothing is left to route.
    await this.deps.engine.removeVolume(LOADED_RECORD);
    await this.deps.engine.removeVolume(CLUSTERS_RECORD);
    const networks = await this.deps.engine.listNetworks({ [Label.router]: "true" });
    for (const network of networks) {
      await this.deps.engine.removeNetwork(network.id);
      removed.push(`network ${network.name}`);
    }
    if (options.purge) {
      for (const volume of await this.deps.engine.listVolumes({ [Label.router]: "true" })) {
        await this.deps.engine.removeVolume(volume);
        removed.push(`volume ${volume}`);
      }
      // Kept otherwise, as preset images are: the next start needs no build.
      for (const image of await this.deps.engine.listImages({ [Label.preset]: "router" })) {
        for (const tag of image.tags.length > 0 ? image.tags : [image.id]) {
          if (await this.deps.engine.removeImage(tag)) removed.push(`image ${tag}`);
        }
      }
    }
    return removed;
  }

  /** Where a waker must listen for the router to reach it: the router network's gateway
   *  (this machine's side of that bridge); undefined when the network does not exist. */
  async wakerAddress(): Promise<string | undefined> {
    const result = await this.docker(
      ["network", "inspect", ROUTER_NAME, "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}"],
      { allowFailure: true },
    );
    if (result.exitCode !== 0) return undefined;
    return result.stdout.split(/\s+/).find((address) => /^\d+\.\d+\.\d+\.\d+$/.test(address));
  }

  // Sleeping environments with a waker: their names are sent there while they sleep.
  private async asleep(): Promise<
    Record<string, { hosts: string[]; dial: string; network: string }>
  > {
    const records = await new SleepRecords(this.deps.engine).all();
    return Object.fromEntries(
      [...records.values()].flatMap((record) =>
        record.waker && record.hosts?.length
          ? [[record.envId, { hosts: record.hosts, dial: record.waker, network: ROUTER_NAME }]]
          : [],
      ),
    );
  }

  /** The bcrypt hash of a password, made by the router image's Caddy (the password goes
   *  in on stdin, never on a command line). */
  async hashPassword(password: string): Promise<string> {
    const result = await this.docker(
      [
        "run",
        "--rm",
        "--interactive",
        "--network",
        "none",
        "--entrypoint",
        "caddy",
        await routerImage(),
        "hash-password",
      ],
      { input: `${password}\n` },
    );
    const hash = result.stdout.trim();
    if (!/^\$2[aby]\$\d\d\$/.test(hash))
      throw routerFailed("caddy hash-password gave no bcrypt hash");
    return hash;
  }

  /** The locked environments' ids (router status, ls). */
  async lockedEnvironments(): Promise<string[]> {
    const container = await this.container();
    return container?.running ? Object.keys(await this.readLocks()).sort() : [];
  }

  /** Where an environment's main name is dialled, and on which network (`share`). */
  async siteOf(
    envId: string,
  ): Promise<{ host: string; dial: string; network: string } | undefined> {
    const [containers, recorded] = await Promise.all([this.allContainers(), this.recorded()]);
    const plan = routerPlan(containers, { recorded });
    const host = [...(plan.hostsByEnv.get(envId) ?? [])].sort((a, b) => a.length - b.length)[0];
    const site = plan.sites.find((candidate) => candidate.host === host);
    const name = site?.dial.split(":")[0];
    const network = containers.find((candidate) => candidate.name === name)?.networks[0];
    return host && site && network ? { host, dial: site.dial, network } : undefined;
  }

  /** The router CA's root certificate (PEM), for `trust` and for clients that verify. */
  async rootCertificate(): Promise<string> {
    const result = await this.docker(["exec", ROUTER_NAME, "cat", ROUTER_ROOT_CERT], {
      allowFailure: true,
    });
    if (result.exitCode !== 0 || !result.stdout.includes("BEGIN CERTIFICATE")) {
      throw new ProdlikeError("ROUTER_FAILED", "The local router's CA certificate is not there", {
        hint: "The router makes its CA when it first serves HTTPS: run `prodlike up`, then try again.",
      });
    }
    return result.stdout;
  }

  // Every container, not only prodlike's: a cluster's node container is kind's own. One
  // listing serves the plan, the router's own container and the cluster nodes' check.
  /** This machine's address on the router's network (its gateway): where a server here
   *  that the router should reach listens (the dashboard). Undefined without the network. */
  async gateway(): Promise<string | undefined> {
    const result = await this.docker(
      ["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}", ROUTER_NAME],
      { allowFailure: true },
    );
    return result.stdout
      .trim()
      .split(/\s+/)
      .find((address) => /^\d{1,3}(\.\d{1,3}){3}$/.test(address));
  }

  /** The router network's gateway; with `make`, the network made first when the router
   *  has not run yet: a session of this machine (an existing cluster's port-forwards)
   *  listens there before the router's first start, which its routes then bring about. */
  async door(options: { make: boolean }): Promise<RouterDoor | undefined> {
    if (options.make) await this.ensureNetwork();
    const gateway = await this.gateway();
    return gateway ? { gateway, network: ROUTER_NAME, container: ROUTER_NAME } : undefined;
  }

  private async ensureNetwork(): Promise<void> {
    if ((await this.deps.engine.listNetworks({ [Label.router]: "true" })).length > 0) return;
    const created = await this.docker(["network", "create", ...ROUTER_LABEL_ARGS, ROUTER_NAME], {
      allowFailure: true,
    });
    // Another prodlike made it meanwhile: that one is as good.
    if (created.exitCode !== 0 && !/already exists/i.test(created.stderr)) {
      throw routerFailed(`docker network create ${ROUTER_NAME}: ${lastLine(created.stderr)}`);
    }
  }

  private allContainers(): Promise<ContainerInfo[]> {
    return this.deps.engine.listContainers({});
  }

  // The environments prodlike recorded: the only ones whose routes are served.
  private async recorded(): Promise<Map<string, RecordedEnvironment>> {
    const records = await new EnvironmentOwners(this.deps.engine).list();
    return new Map(records.map((record) => [record.envId, record]));
  }

  private async readLoaded(containerId: string): Promise<string | undefined> {
    const labels = await this.deps.engine.volumeLabels(LOADED_RECORD);
    return labels?.[RecordLabel.container] === containerId ? labels[RecordLabel.hash] : undefined;
  }

  private async writeLoaded(containerId: string, hash: string): Promise<void> {
    await this.rewriteRecord(LOADED_RECORD, {
      [RecordLabel.container]: containerId,
      [RecordLabel.hash]: hash,
    });
  }

  /** The routes it keeps that no container carries (clusters', dashboards'), when it runs. */
  async keptRoutes(): Promise<Record<string, ExternalRoutes>> {
    const container = await this.container();
    return container?.running ? this.readExternal() : {};
  }

  private async readExternal(): Promise<Record<string, ExternalRoutes>> {
    const labels = await this.deps.engine.volumeLabels(CLUSTERS_RECORD);
    try {
      const parsed = JSON.parse(labels?.[RecordLabel.clusters] || "{}") as unknown;
      return parsed && typeof parsed === "object" ? (parsed as Record<string, ExternalRoutes>) : {};
    } catch {
      // A record edited by hand: the next up of each cluster environment writes its routes
      // again.
      return {};
    }
  }

  private async readLocks(): Promise<Record<string, BasicAuth>> {
    const labels = await this.deps.engine.volumeLabels(LOCKS_RECORD);
    try {
      const parsed = JSON.parse(labels?.[RecordLabel.locks] || "{}") as Record<string, unknown>;
      return Object.fromEntries(
        Object.entries(parsed).flatMap(([envId, auth]) =>
          isBasicAuth(auth) ? [[envId, auth]] : [],
        ),
      );
    } catch {
      // A record edited by hand: the locks are set again by the next `up --lock` or `lock`.
      return {};
    }
  }

  private async writeLocks(locks: Record<string, BasicAuth>): Promise<void> {
    // No lock is no record (the router's CA volume is all that stays of it).
    if (Object.keys(locks).length === 0) {
      await this.deps.engine.removeVolume(LOCKS_RECORD);
      return;
    }
    await this.rewriteRecord(LOCKS_RECORD, { [RecordLabel.locks]: JSON.stringify(locks) });
  }

  private async writeExternal(external: Record<string, ExternalRoutes>): Promise<void> {
    // No routes kept is no record: the router and its network then go with the last
    // environment, leaving only the CA volume.
    if (Object.keys(external).length === 0) {
      await this.deps.engine.removeVolume(CLUSTERS_RECORD);
      return;
    }
    await this.rewriteRecord(CLUSTERS_RECORD, { [RecordLabel.clusters]: JSON.stringify(external) });
  }

  // A volume's labels cannot change: the record is made again. A sync cut off between the
  // two leaves none, which reads as "nothing loaded" (the next sync loads again).
  private async rewriteRecord(name: string, labels: Record<string, string>): Promise<void> {
    await this.deps.engine.removeVolume(name);
    await this.deps.engine.createVolume(name, {
      [Label.managed]: "true",
      [Label.router]: "true",
      ...labels,
    });
  }

  private async container(): Promise<RouterContainer | undefined> {
    return routerContainerIn(await this.deps.engine.listContainers({ [Label.router]: "true" }));
  }

  private async start(image: string, onDetail?: (text: string) => void): Promise<RouterContainer> {
    // Loaded here: the image builder brings yaml and zod, which `status` and `ls` (reading
    // the router's state) should not pay for.
    const { imageSteps } = await import("../docker/image-builder.js");
    for (const step of imageSteps(
      this.deps.engine,
      [{ kind: "build", tag: image, context: ROUTER_CONTEXT }],
      {
        rebuild: false,
        preset: "router",
      },
    )) {
      await step.run?.({
        setTitle: (title) => onDetail?.(title),
        update: (text) => onDetail?.(text),
      });
    }
    await this.ensureNetwork();
    // Idempotent: an existing volume (and the CA in it) is kept.
    await this.docker(["volume", "create", ...ROUTER_LABEL_ARGS, ROUTER_VOLUME]);
    const failures: string[] = [];
    for (const ports of this.deps.portChoices) {
      if ((await portAnswers(ports.http)) || (await portAnswers(ports.https))) {
        failures.push(`${ports.http}/${ports.https} in use`);
        continue;
      }
      const result = await this.docker(runArguments(image, ports), {
        allowFailure: true,
      });
      if (result.exitCode === 0) {
        const started = await this.container();
        if (started) return started;
      }
      // Taken between the probe and the bind (or not bindable here): try the next pair.
      failures.push(`${ports.http}/${ports.https}: ${lastLine(result.stderr)}`);
      await this.docker(["rm", "--force", ROUTER_NAME], { allowFailure: true });
    }
    throw new ProdlikeError("ROUTER_FAILED", "The local router found no free port pair", {
      hint: `Tried ${failures.join("; ")}. Free one of them, or set PRODLIKE_ROUTER_PORTS (e.g. 9080:9443), or PRODLIKE_ROUTER=off to go without named hosts.`,
    });
  }

  // Written beside the live file and loaded through Caddy's admin endpoint; only a config
  // Caddy accepted replaces the file it starts with after a restart (its hash is recorded
  // after it: a failed load leaves the old one, and the next sync loads again).
  private async load(config: string): Promise<void> {
    const next = `${ROUTER_CONFIG_FILE}.next`;
    const script = `cat > ${next} && caddy reload --config ${next} --address localhost:2019 && mv ${next} ${ROUTER_CONFIG_FILE}`;
    const deadline = this.deps.clock.now() + 30_000;
    for (;;) {
      const result = await this.docker(["exec", "--interactive", ROUTER_NAME, "sh", "-c", script], {
        allowFailure: true,
        input: config,
      });
      if (result.exitCode === 0) return;
      // Just started: the admin endpoint is not listening for a moment.
      const starting = /connection refused|connect: /i.test(result.stderr);
      if (!starting || this.deps.clock.now() > deadline) {
        throw routerFailed(`Caddy refused the routes: ${lastLine(result.stderr)}`);
      }
      await this.deps.clock.sleep(200);
    }
  }

  private async docker(
    args: string[],
    options: { allowFailure?: boolean; input?: string } = {},
  ): Promise<RunResult> {
    const result = await this.deps.runner.run("docker", args, {
      ...(options.input !== undefined ? { input: options.input } : {}),
      timeoutMs: 120_000,
    });
    if (result.notFound) {
      throw new ProdlikeError("TOOL_MISSING", "The docker CLI is not installed", {
        hint: "The local router is managed with the docker CLI; install it (Debian: docker.io).",
      });
    }
    if (result.exitCode !== 0 && !options.allowFailure) {
      throw routerFailed(`${formatCommand("docker", args)}: ${lastLine(result.stderr)}`);
    }
    return result;
  }
}

// A locked environment's names need its credentials, on every scheme.
function lockedSites(plan: RouterPlan, locks: Record<string, BasicAuth>): RouterSite[] {
  const authOf = new Map<string, BasicAuth>();
  for (const [envId, hosts] of plan.hostsByEnv) {
    const auth = locks[envId];
    if (auth) for (const host of hosts) authOf.set(host, auth);
  }
  return plan.sites.map((site) => {
    const auth = authOf.get(site.host);
    return auth ? { ...site, auth } : site;
  });
}

function isBasicAuth(value: unknown): value is BasicAuth {
  const auth = value as Partial<BasicAuth> | null;
  return typeof auth?.username === "string" && typeof auth.hash === "string";
}

/** The router's image tag: a hash of its build context (router/). */
export async function routerImageTag(): Promise<string> {
  return routerImage();
}

/** The router's image tag: a hash of its build context (router/). */
async function routerImage(): Promise<string> {
  const { hashDirectory } = await import("../../topology/preset-loader.js");
  return `prodlike/router:${await hashDirectory(ROUTER_CONTEXT)}`;
}

function routerContainerIn(containers: readonly ContainerInfo[]): RouterContainer | undefined {
  const found = containers.find((container) => container.labels[Label.router] === "true");
  if (!found) return undefined;
  return {
    id: found.id,
    generation: found.labels[ROUTER_GENERATION_LABEL],
    running: found.state === "running",
    ports: parsePortsLabel(found.labels[Label.routerPorts]),
    networks: found.networks,
  };
}

// A cluster that was deleted by hand (kind delete) takes its routes with it.
function withoutGoneNodes(
  external: Record<string, ExternalRoutes>,
  containers: readonly ContainerInfo[],
): Record<string, ExternalRoutes> {
  const names = new Set(containers.map((container) => container.name));
  return Object.fromEntries(
    Object.entries(external).filter(
      ([, routes]) => routes.onThisMachine === true || names.has(routes.container),
    ),
  );
}

function runArguments(image: string, ports: RouterPorts): string[] {
  return [
    "run",
    "--detach",
    "--name",
    ROUTER_NAME,
    ...ROUTER_LABEL_ARGS,
    "--label",
    `${Label.routerPorts}=http:${ports.http},https:${ports.https}`,
    "--label",
    `${ROUTER_GENERATION_LABEL}=${ROUTER_GENERATION}`,
    "--network",
    ROUTER_NAME,
    "--restart",
    "unless-stopped",
    // Least privilege: no capabilities at all; low ports are opened to every user of the
    // container's own network namespace instead (never the host's).
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    "--sysctl",
    "net.ipv4.ip_unprivileged_port_start=0",
    "--publish",
    `127.0.0.1:${ports.http}:${ROUTER_CONTAINER_PORTS.http}`,
    "--publish",
    `127.0.0.1:${ports.https}:${ROUTER_CONTAINER_PORTS.https}`,
    "--volume",
    `${ROUTER_VOLUME}:${ROUTER_DATA_DIR}`,
    image,
  ];
}

/** "http:80,https:443" -> ports; undefined when the label is missing or malformed. */
export function parsePortsLabel(value: string | undefined): RouterPorts | undefined {
  const http = Number(/(?:^|,)http:(\d+)/.exec(value ?? "")?.[1]);
  const https = Number(/(?:^|,)https:(\d+)/.exec(value ?? "")?.[1]);
  return http > 0 && https > 0 ? { http, https } : undefined;
}

/** PRODLIKE_ROUTER_PORTS: "HTTP:HTTPS[,HTTP:HTTPS…]". */
export function parsePortChoices(value: string | undefined): RouterPorts[] {
  if (value === undefined || value.trim() === "") return DEFAULT_ROUTER_PORTS;
  return value.split(",").map((pair) => {
    const match = /^\s*(\d{1,5}):(\d{1,5})\s*$/.exec(pair);
    const http = Number(match?.[1]);
    const https = Number(match?.[2]);
    if (!match || !(http > 0 && http < 65536 && https > 0 && https < 65536) || http === https) {
      throw new ProdlikeError("USAGE", `PRODLIKE_ROUTER_PORTS has a bad pair: "${pair.trim()}"`, {
        hint: "Give HTTP:HTTPS host port pairs, tried in order, e.g. PRODLIKE_ROUTER_PORTS=80:443,8880:8443.",
      });
    }
    return { http, https };
  });
}

// Something already accepts connections there (another proxy, a dev server): a bind by
// the engine would fail, or worse, shadow it on one address family only.
function portAnswers(port: number): Promise<boolean> {
  return tcpAnswers("127.0.0.1", port, 500);
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}

function routerFailed(message: string): ProdlikeError {
  return new ProdlikeError("ROUTER_FAILED", `The local router: ${message}`, {
    hint: "`prodlike router status` shows it; `prodlike router stop` removes it (the next `up` starts it again).",
  });
}
