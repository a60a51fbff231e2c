import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import type { V1Container, V1Pod, V1Probe, V1Volume } from "@kubernetes/client-node";
import Docker from "dockerode";
import { environment, writeProjectedFiles } from "./pod-inputs.js";
import { runProbe } from "./probe.js";
import type {
  ContainerProcess,
  ContainerState,
  ExecExit,
  LogOptions,
  PodContext,
  PodRuntime,
} from "./runtime.js";

// Pods as Docker containers on the real engine, the way a kubelet runs them: a pause
// container holds the pod's network (on one Docker network per double, where it answers
// to SERVICE.NAMESPACE[.svc[.cluster.local]], and on one per namespace, where it answers
// to the bare names of the Services that select it: as a cluster's DNS search path, `db`
// is the pod's own namespace's, never another's; through Docker's DNS, which the pod's
// /etc/resolv.conf names), each container joins it; hostPath volumes are bind mounts
// (kind's node paths mapped to this machine), claims are Docker volumes that outlive the
// pod, ConfigMaps and Secrets are files, emptyDirs are shared folders; init containers run
// to completion first; readiness probes (exec, HTTP, TCP) run on their period; exec and
// logs go through the engine. Everything carries the label `kube-wire=<id>`.

export const RUNTIME_LABEL = "kube-wire";
/** How often a probe runs at most: faster than a kubelet's default 10 s, for tests. */
const PROBE_PERIOD_CAP_MS = 1000;
const INSPECT_CACHE_MS = 300;

interface DockerPod {
  pause: string;
  containers: Map<string, string>;
  /** Init containers that ran: removed with the pod, as a kubelet does. */
  inits: string[];
  /** Set while init containers run or the containers are being created. */
  starting: Promise<void> | undefined;
  failure: { reason: string; message: string } | undefined;
  probes: Map<string, ProbeState>;
  folder: string;
  context: PodContext;
}

interface ProbeState {
  ready: boolean;
  failures: number;
  nextAt: number;
  running: boolean;
}

export class DockerRuntime implements PodRuntime {
  readonly id = `kw${randomBytes(4).toString("hex")}`;
  private readonly docker = new Docker();
  private readonly pods = new Map<string, DockerPod>();
  private readonly inspected = new Map<
    string,
    { at: number; value: Docker.ContainerInspectInfo | undefined }
  >();
  private root: string | undefined;
  private network: string | undefined;
  /** References pulled from a registry: untagged again when the cluster goes. */
  private readonly pulled = new Set<string>();
  /** Made once, by the first pod: pods start side by side. */
  private setup: Promise<void> | undefined;
  /** A network per namespace, for the bare Service names (made when a pod first needs it). */
  private readonly namespaceNetworks = new Map<string, Promise<string>>();

  get label(): Record<string, string> {
    return { [RUNTIME_LABEL]: this.id };
  }

  async startPod(pod: V1Pod, context: PodContext): Promise<void> {
    const entry: DockerPod = {
      pause: "",
      inits: [],
      containers: new Map(),
      starting: undefined,
      failure: undefined,
      probes: new Map(),
      folder: "",
      context,
    };
    this.pods.set(podKey(pod), entry);
    entry.starting = this.create(pod, context, entry)
      .catch((error: unknown) => {
        entry.failure ??= { reason: "CreateContainerError", message: String(error) };
      })
      .finally(() => {
        entry.starting = undefined;
      });
  }

  async stopPod(pod: V1Pod): Promise<void> {
    const entry = this.pods.get(podKey(pod));
    if (!entry) return;
    this.pods.delete(podKey(pod));
    await entry.starting;
    for (const id of [...entry.inits, ...entry.containers.values(), entry.pause].filter(Boolean))
      await this.docker
        .getContainer(id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    if (entry.folder)
      await rm(entry.folder, { recursive: true, force: true }).catch(() => undefined);
  }

  async containerState(pod: V1Pod, spec: V1Container): Promise<ContainerState> {
    const entry = this.pods.get(podKey(pod));
    if (entry?.failure) return { state: "waiting", ...entry.failure };
    if (!entry || entry.starting)
      return {
        state: "waiting",
        reason:
          (pod.spec?.initContainers ?? []).length > 0 ? "PodInitializing" : "ContainerCreating",
      };
    const id = entry.containers.get(spec.name);
    const info = id ? await this.inspect(id) : undefined;
    if (!info) return { state: "waiting", reason: "ContainerCreating" };
    if (info.State.Running) return { state: "running", startedAt: info.State.StartedAt };
    if (info.State.Status === "created") return { state: "waiting", reason: "ContainerCreating" };
    return {
      state: "terminated",
      exitCode: info.State.ExitCode,
      reason: info.State.OOMKilled
        ? "OOMKilled"
        : info.State.ExitCode === 0
          ? "Completed"
          : "Error",
      startedAt: info.State.StartedAt,
      finishedAt: info.State.FinishedAt,
    };
  }

  async restartContainer(pod: V1Pod, spec: V1Container): Promise<void> {
    const id = this.pods.get(podKey(pod))?.containers.get(spec.name);
    if (!id) return;
    this.inspected.delete(id);
    await this.docker
      .getContainer(id)
      .start()
      .catch(() => undefined);
  }

  async ready(pod: V1Pod, spec: V1Container): Promise<boolean> {
    const entry = this.pods.get(podKey(pod));
    if (!entry) return false;
    const probe = spec.readinessProbe;
    if (!probe) return true;
    let state = entry.probes.get(spec.name);
    if (!state) {
      state = {
        ready: false,
        failures: 0,
        nextAt: Date.now() + (probe.initialDelaySeconds ?? 0) * 1000,
        running: false,
      };
      entry.probes.set(spec.name, state);
    }
    if (!state.running && Date.now() >= state.nextAt) {
      state.running = true;
      const current = state;
      void this.probe(pod, spec.name, probe)
        .then((failure) => {
          if (failure === undefined) {
            current.ready = true;
            current.failures = 0;
          } else {
            current.failures += 1;
            if (current.failures >= (probe.failureThreshold ?? 3)) current.ready = false;
            entry.context.event("Warning", "Unhealthy", `Readiness probe failed: ${failure}`);
          }
        })
        .finally(() => {
          current.running = false;
          current.nextAt =
            Date.now() + Math.min((probe.periodSeconds ?? 10) * 1000, PROBE_PERIOD_CAP_MS);
        });
    }
    return state.ready;
  }

  async exec(
    pod: V1Pod,
    name: string,
    command: readonly string[],
    options: { stdin: boolean; tty: boolean },
  ): Promise<ContainerProcess> {
    const container = this.docker.getContainer(this.require(pod, name));
    const exec = await container.exec({
      Cmd: [...command],
      AttachStdin: options.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: options.tty,
    });
    const stream = (await exec.start({
      hijack: true,
      stdin: options.stdin,
      Tty: options.tty,
    })) as NodeJS.ReadWriteStream & Readable;
    const stdout = new PassThrough();
    const stderr = options.tty ? undefined : new PassThrough();
    if (options.tty) stream.pipe(stdout);
    else {
      this.docker.modem.demuxStream(stream, stdout, stderr as PassThrough);
      stream.on("end", () => {
        stdout.end();
        stderr?.end();
      });
    }
    const exited = new Promise<ExecExit>((resolve) => {
      stream.on("end", async () => {
        for (let attempt = 0; attempt < 100; attempt += 1) {
          const info = await exec.inspect().catch(() => undefined);
          if (info && !info.Running) {
            resolve({ exitCode: info.ExitCode ?? 1 });
            return;
          }
          await new Promise((wait) => setTimeout(wait, 20));
        }
        resolve({ error: "the exec did not report its exit code" });
      });
    });
    return {
      stdin: options.stdin ? (stream as unknown as NodeJS.WritableStream as never) : undefined,
      stdout,
      stderr,
      exited,
      resize: (size) => void exec.resize({ h: size.Height, w: size.Width }).catch(() => undefined),
    };
  }

  async attach(
    pod: V1Pod,
    name: string,
    options: { stdin: boolean; tty: boolean },
  ): Promise<ContainerProcess> {
    const container = this.docker.getContainer(this.require(pod, name));
    const stream = (await container.attach({
      stream: true,
      stdin: options.stdin,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as NodeJS.ReadWriteStream & Readable;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.docker.modem.demuxStream(stream, stdout, stderr);
    return {
      stdin: options.stdin ? (stream as never) : undefined,
      stdout,
      stderr,
      exited: new Promise(() => undefined),
      resize: () => undefined,
    };
  }

  // The current run's lines (since it started), or the run before (until then): the
  // engine keeps one log across restarts of a container, a kubelet one per run.
  async logs(pod: V1Pod, name: string, options: LogOptions): Promise<Readable> {
    const id = this.require(pod, name);
    const info = await this.inspect(id, true);
    const started = info ? Math.floor(Date.parse(info.State.StartedAt) / 1000) : 0;
    const window = options.previous ? { until: started } : { since: started };
    const container = this.docker.getContainer(id);
    const out = new PassThrough();
    const tail = options.tailLines === undefined ? {} : { tail: options.tailLines };
    if (options.follow && !options.previous) {
      const stream = (await container.logs({
        follow: true,
        stdout: true,
        stderr: true,
        ...tail,
        ...window,
      })) as unknown as Readable;
      this.docker.modem.demuxStream(stream, out, out);
      stream.on("end", () => out.end());
      out.on("close", () => stream.destroy());
    } else {
      const buffer = (await container.logs({
        follow: false,
        stdout: true,
        stderr: true,
        ...tail,
        ...window,
      })) as unknown as Buffer;
      out.end(demux(buffer));
    }
    return out;
  }

  async connect(pod: V1Pod, port: number): Promise<net.Socket> {
    const ip = await this.podIP(pod);
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, ip, () => resolve(socket));
      socket.once("error", reject);
    });
  }

  async podIP(pod: V1Pod): Promise<string> {
    const entry = this.pods.get(podKey(pod));
    if (!entry?.pause || !this.network) return "";
    const info = await this.inspect(entry.pause);
    return info?.NetworkSettings.Networks[this.network]?.IPAddress ?? "";
  }

  async close(): Promise<void> {
    for (const entry of this.pods.values()) await entry.starting;
    const filters = { label: [`${RUNTIME_LABEL}=${this.id}`] };
    for (const container of await this.docker.listContainers({ all: true, filters }))
      await this.docker
        .getContainer(container.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
    for (const volume of (await this.docker.listVolumes({ filters })).Volumes ?? [])
      await this.docker
        .getVolume(volume.Name)
        .remove()
        .catch(() => undefined);
    for (const network of [...this.namespaceNetworks.values(), Promise.resolve(this.network)])
      await this.docker
        .getNetwork((await network.catch(() => undefined)) ?? "")
        .remove()
        .catch(() => undefined);
    this.namespaceNetworks.clear();
    if (this.root) await rm(this.root, { recursive: true, force: true }).catch(() => undefined);
    this.pods.clear();
  }

  private async create(pod: V1Pod, context: PodContext, entry: DockerPod): Promise<void> {
    this.setup ??= (async () => {
      this.root = await mkdtemp(path.join(os.tmpdir(), "kube-wire-pods-"));
      await this.docker.createNetwork({ Name: this.id, Driver: "bridge", Labels: this.label });
      this.network = this.id;
    })();
    await this.setup;
    if (!this.root || !this.network) throw new Error("the runtime's network is missing");
    const namespace = pod.metadata?.namespace ?? "default";
    const podName = pod.metadata?.name ?? "";
    const prefix = `${this.id}-${namespace}-${podName}`.slice(0, 100);
    entry.folder = path.join(this.root, namespace, podName);
    const network = this.network;
    const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    for (const spec of specs) {
      if (!(await this.imageExists(spec.image ?? "")))
        await this.pull(spec.image ?? "", pullLogin(pod, context, spec.image ?? ""));
      if (!(await this.imageExists(spec.image ?? ""))) {
        entry.failure = {
          reason: "ErrImagePull",
          message: `rpc error: code = NotFound desc = failed to pull and unpack image "${spec.image}": not found`,
        };
        return;
      }
    }
    const first = pod.spec?.containers?.[0]?.image ?? "";
    const pause = await this.docker.createContainer({
      name: `${prefix}-pause`,
      Image: first,
      Entrypoint: ["sleep"],
      Cmd: ["infinity"],
      Hostname: podName.slice(0, 63),
      User: "0",
      Labels: this.label,
      HostConfig: { NetworkMode: network },
      NetworkingConfig: {
        EndpointsConfig: {
          [network]: {
            Aliases: context.aliases.flatMap((alias) =>
              ["", ".svc", ".svc.cluster.local"].map((suffix) => `${alias}.${namespace}${suffix}`),
            ),
          },
        },
      },
    });
    entry.pause = pause.id;
    await this.docker.getNetwork(await this.namespaceNetwork(namespace)).connect({
      Container: pause.id,
      EndpointConfig: { Aliases: context.aliases },
    });
    await pause.start();
    const binds = await this.volumes(pod, context, entry.folder, namespace);
    for (const spec of pod.spec?.initContainers ?? []) {
      const init = await this.createContainer(
        pod,
        spec,
        context,
        binds,
        `${prefix}-init-${spec.name}`,
        entry.pause,
      );
      entry.inits.push(init.id);
      await init.start();
      const result = (await init.wait()) as { StatusCode: number };
      if (result.StatusCode !== 0) {
        const logs = demux(
          (await init.logs({ stdout: true, stderr: true, tail: 5 })) as unknown as Buffer,
        );
        entry.failure = {
          reason: "Init:Error",
          message: `init container ${spec.name} exited ${result.StatusCode}: ${logs.toString("utf8").trim()}`,
        };
        return;
      }
    }
    for (const spec of pod.spec?.containers ?? []) {
      const created = await this.createContainer(
        pod,
        spec,
        context,
        binds,
        `${prefix}-${spec.name}`,
        entry.pause,
      );
      entry.containers.set(spec.name, created.id);
      await created.start();
    }
  }

  private async createContainer(
    pod: V1Pod,
    spec: V1Container,
    context: PodContext,
    binds: Map<string, string>,
    name: string,
    pause: string,
  ): Promise<Docker.Container> {
    const security = { ...pod.spec?.securityContext, ...spec.securityContext };
    const user =
      security.runAsUser === undefined
        ? undefined
        : `${security.runAsUser}${security.runAsGroup === undefined ? "" : `:${security.runAsGroup}`}`;
    const mounts = (spec.volumeMounts ?? []).flatMap((mount) => {
      const source = binds.get(mount.name);
      if (!source) return [];
      const from = mount.subPath ? path.join(source, mount.subPath) : source;
      return [`${from}:${mount.mountPath}${mount.readOnly ? ":ro" : ""}`];
    });
    return this.docker.createContainer({
      name,
      Image: spec.image ?? "",
      ...(spec.command
        ? { Entrypoint: spec.command, Cmd: spec.args ?? [] }
        : spec.args
          ? { Cmd: spec.args }
          : {}),
      Env: environment(pod, spec, context),
      ...(user ? { User: user } : {}),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      Labels: this.label,
      HostConfig: {
        NetworkMode: `container:${pause}`,
        Binds: mounts,
        ...(pod.spec?.shareProcessNamespace ? { PidMode: `container:${pause}` } : {}),
        ...(spec.resources?.limits?.memory
          ? { Memory: memoryBytes(String(spec.resources.limits.memory)) }
          : {}),
      },
    });
  }

  // Each pod volume as a source a bind can name: a folder, a file tree, a Docker volume.
  private async volumes(
    pod: V1Pod,
    context: PodContext,
    folder: string,
    namespace: string,
  ): Promise<Map<string, string>> {
    const sources = new Map<string, string>();
    for (const volume of pod.spec?.volumes ?? []) {
      const source = await this.volumeSource(
        volume,
        context,
        path.join(folder, volume.name),
        namespace,
      );
      if (source) sources.set(volume.name, source);
    }
    return sources;
  }

  private async volumeSource(
    volume: V1Volume,
    context: PodContext,
    folder: string,
    namespace: string,
  ): Promise<string | undefined> {
    if (volume.hostPath) return context.hostPath(volume.hostPath.path);
    if (volume.persistentVolumeClaim) {
      const name = `${this.id}-${namespace}-${volume.persistentVolumeClaim.claimName}`;
      const exists = await this.docker
        .getVolume(name)
        .inspect()
        .then(
          () => true,
          () => false,
        );
      if (!exists) await this.docker.createVolume({ Name: name, Labels: this.label });
      return name;
    }
    if (volume.emptyDir) {
      // A pod's containers share it, whatever user each runs as: world-writable, as
      // the kubelet makes it.
      await mkdir(folder, { recursive: true });
      await chmod(folder, 0o777);
      return folder;
    }
    const files = volume.configMap
      ? context.configMap(volume.configMap.name ?? "")
      : volume.secret
        ? context.secret(volume.secret.secretName ?? "")
        : undefined;
    if (!files) return undefined;
    await writeProjectedFiles(folder, files, {
      items: volume.configMap?.items ?? volume.secret?.items,
      mode: volume.configMap?.defaultMode ?? volume.secret?.defaultMode ?? 0o644,
    });
    return folder;
  }

  private probe(pod: V1Pod, container: string, probe: V1Probe): Promise<string | undefined> {
    return runProbe(probe, {
      exec: (command) => this.exec(pod, container, command, { stdin: false, tty: false }),
      ip: () => this.podIP(pod),
    });
  }

  // A node pulls what it does not have from the registry the reference names (a local
  // registry on this machine: the engine pulls localhost:PORT without TLS).
  private async pull(
    image: string,
    login: { username: string; password: string; serveraddress: string } | undefined,
  ): Promise<void> {
    const host = image.split("/")[0] ?? "";
    if (!image.includes("/") || !(/[.:]/.test(host) || host === "localhost")) return;
    try {
      const stream = await this.docker.pull(image, login ? { authconfig: login } : {});
      this.pulled.add(image);
      await new Promise<void>((resolve, reject) =>
        this.docker.modem.followProgress(stream, (error: Error | null) =>
          error ? reject(error) : resolve(),
        ),
      );
    } catch {
      // Not there: the pod waits in ErrImagePull, as a node that cannot pull does.
    }
  }

  private namespaceNetwork(namespace: string): Promise<string> {
    let made = this.namespaceNetworks.get(namespace);
    if (!made) {
      const name = `${this.id}-ns-${namespace}`;
      made = this.docker
        .createNetwork({ Name: name, Driver: "bridge", Labels: this.label })
        .then(() => name);
      this.namespaceNetworks.set(namespace, made);
    }
    return made;
  }

  private async imageExists(image: string): Promise<boolean> {
    return this.docker
      .getImage(image)
      .inspect()
      .then(
        () => true,
        () => false,
      );
  }

  private async inspect(
    id: string,
    fresh = false,
  ): Promise<Docker.ContainerInspectInfo | undefined> {
    const cached = this.inspected.get(id);
    if (!fresh && cached && Date.now() - cached.at < INSPECT_CACHE_MS) return cached.value;
    const value = await this.docker
      .getContainer(id)
      .inspect()
      .catch(() => undefined);
    this.inspected.set(id, { at: Date.now(), value });
    return value;
  }

  private require(pod: V1Pod, name: string): string {
    const id = this.pods.get(podKey(pod))?.containers.get(name);
    if (!id) throw new Error(`no container ${name} in pod ${pod.metadata?.name}`);
    return id;
  }
}

// The engine's multiplexed log format: 8-byte headers (stream, 0, 0, 0, size) per frame.
function demux(buffer: Buffer): Buffer {
  if (!Buffer.isBuffer(buffer)) return Buffer.from(String(buffer ?? ""));
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts);
}

function memoryBytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(quantity);
  const units: Record<string, number> = {
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
  };
  return Number(match?.[1] ?? 0) * (units[match?.[2] ?? ""] ?? 1);
}

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

// The kubelet pulls with the pod's imagePullSecrets: the login a dockerconfigjson Secret
// holds for the image's registry host.
function pullLogin(
  pod: V1Pod,
  context: PodContext,
  image: string,
): { username: string; password: string; serveraddress: string } | undefined {
  const host = image.split("/")[0] ?? "";
  for (const reference of pod.spec?.imagePullSecrets ?? []) {
    const config = context.secret(reference.name ?? "")?.[".dockerconfigjson"];
    if (!config) continue;
    const auths = (JSON.parse(config) as { auths?: Record<string, { auth?: string }> }).auths;
    const auth = auths?.[host]?.auth;
    if (!auth) continue;
    const decoded = Buffer.from(auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return {
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      serveraddress: host,
    };
  }
  return undefined;
}
