import { lookup } from "node:dns/promises";
import { readFile } from "node:fs/promises";
import type { BackendName } from "../backends/backend.js";
import { INSTALL_HINTS } from "../backends/kube/cluster-provider.js";
import { BACKEND_NAMES, backendInfo } from "../config/backend-registry.js";
import { DEFAULT_PRESET } from "../config/schema.js";
import type { CommandRunner } from "../process/command-runner.js";
import type { AccessReport } from "./doctor-access.js";
import type { Check } from "./doctor-check.js";
import type { CoreServices } from "./services.js";

// `prodlike doctor`: what this machine has for each backend, with an install hint for
// each missing piece. Every check runs the tool itself (a version command), so a binary
// on PATH that cannot run counts as missing.

export type { Check };

export interface DoctorReport {
  backend: BackendName;
  usable: boolean;
  checks: Check[];
  /** An existing cluster's backend: what its context's user may do there. */
  access?: AccessReport;
}

export interface DoctorProbes {
  runner: CommandRunner;
  nodeVersion: string;
  isPortFree(port: number): Promise<boolean>;
  readProcFile(file: string): Promise<string | undefined>;
  /** Preset ports checked for being free. */
  ports: readonly { name: string; port: number }[];
  /** The system resolver's address for a name, undefined when it knows none. */
  resolve?(host: string): Promise<string | undefined>;
}

const ALL: BackendName[] = [...BACKEND_NAMES];

// Below these, several kind clusters (or a big code tree) run out of inotify watches or
// instances and file watchers stop seeing edits. The values kind's docs recommend.
export const INOTIFY_MINIMUM = { max_user_watches: 524288, max_user_instances: 512 };

export async function runDoctor(probes: DoctorProbes, backend: BackendName): Promise<DoctorReport> {
  const { runner } = probes;
  const tool = async (
    name: string,
    file: string,
    args: string[],
    parse: (stdout: string) => string | undefined,
    extra: { hint: string; neededBy: BackendName[] },
  ): Promise<Check> => {
    const result = await runner.run(file, args, { timeoutMs: 15_000 });
    const version = result.exitCode === 0 ? parse(result.stdout.trim()) : undefined;
    if (version) return { name, ok: true, detail: version, neededBy: extra.neededBy };
    const why = result.notFound
      ? "not installed"
      : `\`${[file, ...args].join(" ")}\` failed: ${(result.stderr || result.stdout).trim().split("\n")[0] ?? ""}`;
    return { name, ok: false, detail: why, hint: extra.hint, neededBy: extra.neededBy };
  };
  const firstVersion = (text: string) => /v?\d+\.\d+(\.\d+)?[\w.+-]*/.exec(text)?.[0];

  const [node, engine, composeV2, composeV1, kind, minikube, kubectl, debootstrap, mkcert] =
    await Promise.all([
      Promise.resolve<Check>(nodeCheck(probes.nodeVersion)),
      tool(
        "docker engine",
        "docker",
        ["version", "--format", "{{.Server.Version}}"],
        firstVersion,
        {
          hint: "Install Docker Engine (Debian: apt-get install docker.io) and start it; your user needs access to /var/run/docker.sock.",
          neededBy: ALL,
        },
      ),
      tool("docker compose (v2)", "docker", ["compose", "version", "--short"], firstVersion, {
        hint: "Install the compose plugin (docker-compose-plugin), or docker-compose 1.29.",
        neededBy: [],
      }),
      tool("docker-compose (v1)", "docker-compose", ["version", "--short"], firstVersion, {
        hint: "Only needed when the compose v2 plugin is missing (Debian 12: apt-get install docker-compose).",
        neededBy: [],
      }),
      tool("kind", "kind", ["version"], firstVersion, {
        hint: INSTALL_HINTS.kind ?? "",
        neededBy: ["kind"],
      }),
      tool("minikube", "minikube", ["version", "--short"], firstVersion, {
        hint: INSTALL_HINTS.minikube ?? "",
        neededBy: ["minikube"],
      }),
      tool("kubectl", "kubectl", ["version", "--client", "--output=json"], kubectlVersion, {
        hint: INSTALL_HINTS.kubectl ?? "",
        neededBy: [],
      }),
      tool("debootstrap", "debootstrap", ["--version"], firstVersion, {
        hint: "Only for `prodlike images base --offline`: apt-get install debootstrap.",
        neededBy: [],
      }),
      tool("mkcert", "mkcert", ["-version"], firstVersion, {
        hint: "Only for `prodlike trust` (browsers accept the router's https names): apt-get install mkcert libnss3-tools.",
        neededBy: [],
      }),
    ]);

  // Compose is needed in one of its two shapes.
  const compose: Check =
    composeV2.ok || composeV1.ok
      ? {
          name: "compose",
          ok: true,
          detail: composeV2.ok ? `v2 ${composeV2.detail}` : `v1 ${composeV1.detail}`,
          neededBy: ["compose"],
        }
      : {
          name: "compose",
          ok: false,
          detail: "neither v2 nor v1 works",
          hint: composeV2.hint ?? "",
          neededBy: ["compose"],
        };

  const checks: Check[] = [
    node,
    engine,
    compose,
    composeV2,
    composeV1,
    kind,
    minikube,
    kubectl,
    debootstrap,
    mkcert,
    ...(await localhostCheck(probes)),
    ...(await portChecks(probes)),
    ...(await inotifyChecks(probes)),
  ];
  const usable = checks.every((check) => check.ok || !check.neededBy.includes(backend));
  return { backend, usable, checks };
}

function nodeCheck(version: string): Check {
  const major = Number(version.replace(/^v/, "").split(".")[0]);
  return major >= 22
    ? { name: "node", ok: true, detail: version, neededBy: ALL }
    : {
        name: "node",
        ok: false,
        detail: `${version} (needs 22 or newer)`,
        hint: "Install Node.js 22 LTS or 24 LTS.",
        neededBy: ALL,
      };
}

function kubectlVersion(stdout: string): string | undefined {
  try {
    const parsed = JSON.parse(stdout) as { clientVersion?: { gitVersion?: string } };
    return parsed.clientVersion?.gitVersion;
  } catch {
    return undefined;
  }
}

// Browsers and curl send *.localhost to loopback themselves; other programs on the host
// (a PHP or Node script calling an environment's https name) ask the system resolver.
async function localhostCheck(probes: DoctorProbes): Promise<Check[]> {
  if (!probes.resolve) return [];
  const name = "*.localhost names";
  const address = await probes.resolve("prodlike-doctor.localhost");
  return address === "127.0.0.1" || address === "::1"
    ? [{ name, ok: true, detail: `resolve to ${address}`, neededBy: [] }]
    : [
        {
          name,
          ok: false,
          detail: "the system resolver does not know them (browsers and curl still do)",
          hint: "For other programs: apt-get install libnss-myhostname and put `myhostname` in the hosts: line of /etc/nsswitch.conf (systemd-resolved does it already).",
          neededBy: [],
        },
      ];
}

async function portChecks(probes: DoctorProbes): Promise<Check[]> {
  return Promise.all(
    probes.ports.map(async ({ name, port }) => {
      const free = await probes.isPortFree(port);
      return free
        ? { name: `port ${port} (${name})`, ok: true, detail: "free on 127.0.0.1", neededBy: [] }
        : {
            name: `port ${port} (${name})`,
            ok: false,
            detail: "taken on 127.0.0.1",
            hint: "Not a blocker: `up` moves to the next free port, or set `ports:` in prodlike.yaml.",
            neededBy: [],
          };
    }),
  );
}

async function inotifyChecks(probes: DoctorProbes): Promise<Check[]> {
  const checks: Check[] = [];
  for (const [key, minimum] of Object.entries(INOTIFY_MINIMUM)) {
    const text = await probes.readProcFile(`/proc/sys/fs/inotify/${key}`);
    if (text === undefined) continue; // not Linux
    const value = Number(text.trim());
    checks.push(
      value >= minimum
        ? { name: `inotify ${key}`, ok: true, detail: String(value), neededBy: [] }
        : {
            name: `inotify ${key}`,
            ok: false,
            detail: `${value} (below ${minimum})`,
            hint: `Raise it: sudo sysctl fs.inotify.${key}=${minimum} (persist in /etc/sysctl.d/). Several kind clusters or big code trees need it.`,
            neededBy: [],
          },
    );
  }
  return checks;
}

export async function readProcFile(file: string): Promise<string | undefined> {
  return readFile(file, "utf8").catch(() => undefined);
}

/** `prodlike doctor` on this machine: the real probes, the default preset's ports; for a
 *  backend on someone else's cluster, the rights its context has there (project `dir`'s
 *  prodlike.yaml says which context and namespace). */
export async function doctor(
  services: CoreServices,
  backend: BackendName,
  nodeVersion: string,
  dir: string,
): Promise<DoctorReport> {
  const machine = await machineDoctor(services, backend, nodeVersion);
  // A cluster prodlike makes is the user's own (admin); a team's has RBAC to check.
  if (backendInfo(backend).cluster?.lifecycle !== "existing") return machine;
  const { clusterAccessChecks } = await import("./doctor-access.js");
  const { checks, access } = await clusterAccessChecks(services, backend, dir);
  const all = [...machine.checks, ...checks];
  return {
    backend,
    usable: all.every((check) => check.ok || !check.neededBy.includes(backend)),
    checks: all,
    access,
  };
}

async function machineDoctor(
  services: CoreServices,
  backend: BackendName,
  nodeVersion: string,
): Promise<DoctorReport> {
  const [{ loadPreset }, { probeLoopbackPort }] = await Promise.all([
    import("../topology/preset-loader.js"),
    import("../env/port-allocator.js"),
  ]);
  const preset = await loadPreset(DEFAULT_PRESET);
  return runDoctor(
    {
      runner: services.runner,
      nodeVersion,
      isPortFree: probeLoopbackPort,
      readProcFile,
      resolve: (host) =>
        lookup(host, { family: 0 }).then(
          (found) => found.address,
          () => undefined,
        ),
      ports: Object.entries(preset.definition.defaults.ports).map(([name, port]) => ({
        name,
        port,
      })),
    },
    backend,
  );
}
