import { createHash } from "node:crypto";
import type { ProdlikeConfig } from "../config/schema.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { filesProxyLocations } from "./files-proxy.js";
import { presetRoutes } from "./hosts.js";
import {
  type CodeFile,
  type EnvironmentIdentity,
  type ImageSpec,
  type MountSpec,
  PlatformToken,
  type ServiceSpec,
  type Topology,
} from "./model.js";
import { isSharedContext, type LoadedPreset, presetPath } from "./preset-loader.js";
import type { PresetDefinition, PresetService } from "./preset-schema.js";
import { type ChosenRuntime, chooseRuntime, extensionPackages } from "./runtime-versions.js";
import { giveSshAccess, hasSshAccess, type SshAccess, sshConfigFile } from "./ssh-access.js";
import { fillRecord, fillTemplate, type TemplateValues } from "./templates.js";

/** Marker that proves a file in the code tree was written by prodlike. */
export const GENERATED_MARKER = "prodlike:generated";

export interface PortRequest {
  service: string;
  name: string;
  preferred: number;
}

// The host ports this environment wants, by name, with the preferred number from
// prodlike.yaml or the preset. The allocator turns them into free ports.
export function portRequests(preset: LoadedPreset, config: ProdlikeConfig): PortRequest[] {
  const requests: PortRequest[] = [];
  for (const [service, spec] of Object.entries(enabledServices(preset.definition, config))) {
    for (const port of portsOf(service, spec, config)) {
      const preferred =
        config.ports?.[port.name] ?? preset.definition.defaults.ports[port.name] ?? port.container;
      requests.push({ service, name: port.name, preferred });
    }
  }
  return requests;
}

export interface TopologyInputs {
  identity: EnvironmentIdentity;
  codeRoot: string;
  /** Host port by port name, already allocated. */
  hostPorts: Readonly<Record<string, number>>;
  /** The environment's database password: only in the 0600 compose file under .prodlike/. */
  dbPassword: string;
  /** The application's own secret (OpenMage's crypt key), never the database password;
   *  derived from it when not given (tests). */
  appSecret?: string;
  /** Locates config errors that only make sense against the preset (unknown service). */
  configLocation?: (path: string[]) => string;
  /** The developer's ssh access, given to cli containers (drush sql:sync) where the
   *  backend honours host mounts (compose). */
  ssh?: SshAccess;
  /** The host user's ids: services with `runAs: developer` run as them. */
  developer?: { uid: number; gid: number } | undefined;
  /** The CPU architecture images are built for (Node.js's names: x64, arm64). */
  hostArch?: string | undefined;
  /** Whether the environment's database holds an installed site (the preset's
   *  `install.check`); an empty database is not one. */
  installed?: boolean | undefined;
  /** The CA bundle this machine trusts (Debian's /etc/ssl/certs/ca-certificates.crt, with
   *  a company proxy's CA in it): the code containers trust the same, so composer, drush
   *  and the app reach what the developer's own tools reach. Compose only. */
  hostCaBundle?: string | undefined;
}

/** Where Debian (every image prodlike builds) keeps the bundle OpenSSL and curl read. */
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
/** The services that run the application's code and reach out from it. */
const CODE_ROLES = new Set(["php", "cli", "worker", "cron", "app"]);

/** The install date templates get for an installed site ({{install.date}}, OpenMage's
 *  local.xml); empty for an empty database, which the framework then treats as
 *  installable, never as installed. */
export const INSTALL_DATE = "Sat, 01 Jan 2000 00:00:00 +0000";

// The files folder as the web server sees it (relative to the docroot), with the proxy's
// locations; empty when files.proxy is off or the preset has no files folder.
function filesProxyValue(
  definition: PresetDefinition,
  config: ProdlikeConfig,
  docroot: string,
): string {
  const proxy = config.files?.proxy;
  const folder = config.files?.local ?? definition.files?.path.replace("{{docroot}}", docroot);
  if (!proxy || !folder) return "";
  const underDocroot =
    docroot === ""
      ? folder
      : folder.startsWith(`${docroot}/`)
        ? folder.slice(docroot.length + 1)
        : folder;
  return filesProxyLocations(underDocroot, proxy);
}

function appSecretOf(inputs: TopologyInputs): string {
  return (
    inputs.appSecret ??
    createHash("sha256").update(`prodlike:app:${inputs.dbPassword}`).digest("hex").slice(0, 32)
  );
}

/** The app secret in the form Laravel's APP_KEY takes: `base64:` and 32 bytes. */
function appKeyOf(inputs: TopologyInputs): string {
  return `base64:${createHash("sha256")
    .update(`prodlike:app-key:${appSecretOf(inputs)}`)
    .digest("base64")}`;
}

// Builds the environment's topology from a preset and prodlike.yaml. Pure: no I/O.
export function topologyFromPreset(
  preset: LoadedPreset,
  config: ProdlikeConfig,
  inputs: TopologyInputs,
): Topology {
  checkServiceOverrides(config, preset.definition.services, inputs.configLocation);
  // Optional services prodlike.yaml did not turn on do not exist for anything below.
  const definition = { ...preset.definition, services: enabledServices(preset.definition, config) };

  const runtime = chooseRuntime(definition, config, inputs.configLocation);
  const values = templateValues(definition, config, inputs, runtime);
  const optionalOn = Object.entries(definition.services).filter(([, spec]) => spec.optional);
  const appEnv = {
    ...fillRecord(definition.appEnv, values, "appEnv"),
    ...Object.fromEntries(
      optionalOn.flatMap(([name, spec]) =>
        Object.entries(
          fillRecord(spec.provides, values, `${definition.name}/services.${name}.provides`),
        ),
      ),
    ),
  };
  const services = Object.entries(definition.services).map(([name, spec]) =>
    buildService(name, spec, {
      preset,
      config,
      values,
      appEnv,
      hostPorts: inputs.hostPorts,
      enabled: definition.services,
      developer: inputs.developer,
    }),
  );
  waitForOptionalServices(services, definition);
  const volumeNames = new Set(
    services.flatMap((service) =>
      service.mounts.flatMap((mount) => (mount.type === "volume" ? [mount.volume] : [])),
    ),
  );

  const configFiles: Topology["configFiles"] = Object.entries(preset.configTemplates).map(
    ([name, text]) => ({
      name,
      content: fillTemplate(text, values, `${definition.name}/${name}`),
      ...(definition.secretConfigFiles.includes(name) ? { secret: true } : {}),
    }),
  );
  if (inputs.hostCaBundle) {
    for (const service of services) {
      if (!CODE_ROLES.has(service.role) || service.image.kind !== "build") continue;
      service.mounts.push({
        type: "host",
        source: inputs.hostCaBundle,
        target: CA_BUNDLE,
        readOnly: true,
      });
    }
  }
  const ssh = inputs.ssh;
  if (ssh && hasSshAccess(ssh)) {
    configFiles.push(sshConfigFile(ssh));
    for (const service of services) {
      if (service.role === "cli") giveSshAccess(service, ssh);
    }
  }
  const codeFiles = codeFilesOf(preset, definition, values);

  return {
    identity: inputs.identity,
    preset: definition.name,
    codeRoot: inputs.codeRoot,
    codeMountPath: definition.codeMountPath,
    services,
    volumes: [...volumeNames].sort().map((name) => ({ name })),
    configFiles,
    codeFiles,
    codeFolders: definition.codeFolders.map((folder) =>
      relativePath(fillTemplate(folder, values, "codeFolders")),
    ),
    secrets: [inputs.dbPassword, appSecretOf(inputs), appKeyOf(inputs)],
    podGroups: checkedPodGroups(definition),
    routes: presetRoutes(inputs.identity, services),
    commands: definition.commands,
    ...(definition.entry
      ? { entry: relativePath(fillTemplate(definition.entry, values, "entry")) }
      : {}),
    ...(definition.install
      ? { install: { ...definition.install, installed: inputs.installed === true } }
      : {}),
  };
}

// The values a preset's templates may use ({{db.password}}, {{urls.web}}…).
function templateValues(
  definition: PresetDefinition,
  config: ProdlikeConfig,
  inputs: TopologyInputs,
  runtime: ChosenRuntime,
): TemplateValues {
  const docroot = trimSlashes(config.docroot ?? definition.defaults.docroot);
  const webPort = inputs.hostPorts.web;
  const values: TemplateValues = {
    "env.id": inputs.identity.id,
    "env.name": inputs.identity.name,
    "env.project": inputs.identity.project,
    codePath: definition.codeMountPath,
    docroot,
    // `/web`, or empty when the code root is the web root (OpenMage): for paths.
    docrootPath: docroot === "" ? "" : `/${docroot}`,
    "db.name": config.database?.name ?? definition.defaults.database.name,
    "db.user": config.database?.user ?? definition.defaults.database.user,
    "db.password": inputs.dbPassword,
    "app.secret": appSecretOf(inputs),
    // A 32-byte key in the form Laravel's APP_KEY takes (base64:…), derived from it.
    "app.key": appKeyOf(inputs),
    "urls.web": webPort === undefined ? "" : `http://127.0.0.1:${webPort}`,
    // The published web port, for SERVER_PORT: the app builds its URLs from it.
    "ports.web": webPort === undefined ? "80" : String(webPort),
    "files.proxyLocations": filesProxyValue(definition, config, docroot),
    // `uid:gid` a root service (cron) drops to for the work it does on the code.
    developer: inputs.developer ? `${inputs.developer.uid}:${inputs.developer.gid}` : "",
    // The same ids apart, for a php-fpm pool started as root; www-data where unknown.
    "developer.uid": inputs.developer ? String(inputs.developer.uid) : "www-data",
    "developer.gid": inputs.developer ? String(inputs.developer.gid) : "www-data",
    // How nginx reaches php-fpm and which DNS it asks: each renderer fills these in.
    phpUpstream: `${PlatformToken.address(phpServiceName(definition.services))}:9000`,
    dnsResolver: PlatformToken.dnsResolver,
    // Where PHP's sendmail (msmtp) hands mail: the environment's catcher.
    mailHost: PlatformToken.address("mail"),
    "install.date": inputs.installed ? INSTALL_DATE : "",
    ...buildValues(definition, config, runtime, inputs.hostArch),
  };
  return values;
}

// The values an image build may use: the versions this environment runs (prodlike.yaml,
// else the preset's defaults) and the Debian release each is built from.
function buildValues(
  definition: PresetDefinition,
  config: ProdlikeConfig,
  runtime: ChosenRuntime,
  hostArch: string | undefined,
): TemplateValues {
  return {
    "node.version": config.node ?? definition.defaults.node ?? "",
    "php.version": runtime.php?.version ?? "",
    "php.extraPackages": extensionPackages(config.phpExtensions ?? []).join(" "),
    "debian.suite": runtime.suite,
    "db.major": runtime.database?.major ?? "",
    "db.suite": runtime.database?.suite ?? runtime.suite,
    // The machine the images are built for: x64 or arm64, as Node.js names them.
    "host.arch": hostArch ?? "x64",
  };
}

/** The image the preset builds for one of its services, at the versions prodlike.yaml
 *  chooses: what a mirrored layout runs where `mirror.images` says `preset:SERVICE`. */
export function presetServiceImage(
  preset: LoadedPreset,
  config: ProdlikeConfig,
  service: string,
  options: { hostArch?: string | undefined; configLocation?: (path: string[]) => string },
): ImageSpec | undefined {
  const spec = preset.definition.services[service];
  if (!spec) return undefined;
  const runtime = chooseRuntime(preset.definition, config, options.configLocation);
  const values = buildValues(preset.definition, config, runtime, options.hostArch);
  return imageFor(service, spec, preset, values);
}

// The code that uses an optional service (Redis, Solr) starts once it is ready.
function waitForOptionalServices(services: ServiceSpec[], definition: PresetDefinition): void {
  const optionalOn = Object.entries(definition.services).filter(([, spec]) => spec.optional);
  for (const service of services) {
    if (!definition.services[service.name]?.appEnv) continue;
    for (const [name, spec] of optionalOn) {
      if (!service.dependsOn.some((dependency) => dependency.service === name)) {
        service.dependsOn.push({ service: name, condition: spec.health ? "healthy" : "started" });
      }
    }
  }
}

// Files written into the code tree (Drupal's settings include), each with its marker.
function codeFilesOf(
  preset: LoadedPreset,
  definition: PresetDefinition,
  values: TemplateValues,
): CodeFile[] {
  return definition.codeFiles.map((codeFile) => {
    const file: CodeFile = {
      path: relativePath(fillTemplate(codeFile.path, values, "codeFiles.path")),
      content: preset.codeFileTemplates[codeFile.source] ?? "",
      marker: GENERATED_MARKER,
      createOnly: codeFile.createOnly,
    };
    if (codeFile.referencedBy) {
      file.referencedBy = relativePath(
        fillTemplate(codeFile.referencedBy, values, "codeFiles.referencedBy"),
      );
    }
    return file;
  });
}

interface BuildContext {
  preset: LoadedPreset;
  config: ProdlikeConfig;
  values: TemplateValues;
  appEnv: Record<string, string>;
  hostPorts: Readonly<Record<string, number>>;
  enabled: Record<string, PresetService>;
  developer?: { uid: number; gid: number } | undefined;
}

function buildService(name: string, spec: PresetService, context: BuildContext): ServiceSpec {
  const { preset, config, values } = context;
  const where = `${preset.definition.name}/services.${name}`;
  const env = {
    ...(spec.appEnv ? context.appEnv : {}),
    ...fillRecord(spec.env, values, `${where}.env`),
    ...(spec.appEnv ? (config.env ?? {}) : {}),
    ...(config.services?.[name]?.env ?? {}),
    // The app's own process opens the debugger (the watcher that restarts it does not).
    ...(config.services?.[name]?.inspect && spec.inspectPort !== undefined
      ? { PRODLIKE_INSPECT: `0.0.0.0:${spec.inspectPort}` }
      : {}),
  };
  // Targets may sit inside the code (OpenMage's media/ volume, its local.xml).
  const mounts: MountSpec[] = spec.mounts.map((mount) =>
    mount.type === "code"
      ? { type: "code", target: mount.target ?? preset.definition.codeMountPath }
      : { ...mount, target: fillTemplate(mount.target, values, `${where}.mounts`) },
  );
  const service: ServiceSpec = {
    name,
    role: spec.role,
    // The team's own (production's) image replaces the preset's build; everything else
    // the preset gives the service stays.
    image: context.config.services?.[name]?.image
      ? { kind: "pull", ref: context.config.services[name].image }
      : imageFor(name, spec, preset, values),
    env,
    ports: portsOf(name, spec, config).map((port) => {
      const hostPort = context.hostPorts[port.name];
      if (hostPort === undefined) {
        throw new ProdlikeError(
          "INTERNAL",
          `No host port allocated for ${where} port ${port.name}`,
        );
      }
      return {
        name: port.name,
        containerPort: port.container,
        hostPort,
        protocol: port.protocol,
        ...(port.healthPath ? { healthPath: port.healthPath } : {}),
        ...(port.routerPort ? { routerPort: port.routerPort } : {}),
      };
    }),
    mounts,
    // A dependency on an optional service that is off is no dependency.
    dependsOn: Object.entries(spec.dependsOn)
      .filter(([dependency]) => dependency in context.enabled)
      .map(([dependency, condition]) => ({ service: dependency, condition })),
  };
  if (spec.health) service.health = spec.health;
  if (spec.expose.length > 0) service.expose = spec.expose;
  if (spec.schedule) service.schedule = spec.schedule;
  if (spec.role === "cron" && !spec.schedule) {
    throw new ProdlikeError("INTERNAL", `${where}: a cron service needs a schedule`);
  }
  if (spec.command) service.command = spec.command.map((arg) => fillTemplate(arg, values, where));
  if (spec.entrypoint) service.entrypoint = spec.entrypoint;
  if (spec.workingDir) service.workingDir = fillTemplate(spec.workingDir, values, where);
  if (spec.init) service.init = true;
  if (spec.restartAlways) service.restartAlways = true;
  if (spec.memoryMb) service.memoryMb = spec.memoryMb;
  if (spec.runAs === "developer" && context.developer) service.user = context.developer;
  return service;
}

function imageFor(
  name: string,
  spec: PresetService,
  preset: LoadedPreset,
  values: TemplateValues,
): ImageSpec {
  if (spec.build) {
    const hash = preset.contextHashes[spec.build];
    const context = presetPath(preset.dir, spec.build);
    const folder = spec.build.split("/").pop() ?? name;
    // An image from presets/_shared is the same for every preset: one name, one image.
    const repository = isSharedContext(spec.build)
      ? `prodlike/${folder}`
      : `prodlike/${preset.definition.name}-${folder}`;
    const packages = spec.buildNpmPackages.map((entry) => ({
      name: fillTemplate(entry.name, values, `${name}.buildNpmPackages`),
      major: fillTemplate(entry.major, values, `${name}.buildNpmPackages`),
      file: entry.file,
    }));
    const buildArgs = fillRecord(spec.buildArgs, values, `${name}.buildArgs`);
    const variant = { ...(packages.length > 0 ? { npmPackages: packages } : {}), buildArgs };
    if (packages.length === 0 && Object.keys(buildArgs).length === 0) {
      return { kind: "build", context, tag: `${repository}:${hash ?? "dev"}` };
    }
    // Another PHP, database or Node.js version is another image: what the build is given
    // is part of the tag.
    const variantHash = createHash("sha256")
      .update(JSON.stringify(variant))
      .digest("hex")
      .slice(0, 6);
    return {
      kind: "build",
      context,
      tag: `${repository}:${hash ?? "dev"}-${variantHash}`,
      ...variant,
    };
  }
  if (spec.image) return { kind: "pull", ref: spec.image };
  throw new ProdlikeError("INTERNAL", `Preset service ${name} has neither build nor image`);
}

function phpServiceName(services: Record<string, PresetService>): string {
  return Object.entries(services).find(([, spec]) => spec.role === "php")?.[0] ?? "php-fpm";
}

// A preset is data: a pod naming a service that does not exist, or a service in two pods,
// is a broken preset.
function checkedPodGroups(definition: PresetDefinition): Record<string, string[]> {
  const placed = new Map<string, string>();
  for (const [pod, members] of Object.entries(definition.kubernetes.pods)) {
    for (const member of members) {
      if (!(member in definition.services)) {
        throw new ProdlikeError(
          "INTERNAL",
          `${definition.name}: pod ${pod} names unknown service ${member}`,
        );
      }
      const other = placed.get(member);
      if (other !== undefined) {
        throw new ProdlikeError(
          "INTERNAL",
          `${definition.name}: ${member} is in pods ${other} and ${pod}`,
        );
      }
      placed.set(member, pod);
    }
  }
  return structuredClone(definition.kubernetes.pods);
}

/** A service's ports: the preset's, and its debugger's when prodlike.yaml asks for it. */
function portsOf(
  name: string,
  spec: PresetService,
  config: ProdlikeConfig,
): PresetService["ports"] {
  if (!config.services?.[name]?.inspect || spec.inspectPort === undefined) return spec.ports;
  return [...spec.ports, { name: "inspect", container: spec.inspectPort, protocol: "tcp" }];
}

/** The preset's services minus the optional ones prodlike.yaml did not turn on. */
export function enabledServices(
  definition: PresetDefinition,
  config: ProdlikeConfig,
): Record<string, PresetService> {
  return Object.fromEntries(
    Object.entries(definition.services).filter(
      ([name, spec]) => !spec.optional || config.services?.[name]?.enabled === true,
    ),
  );
}

function checkServiceOverrides(
  config: ProdlikeConfig,
  services: Record<string, PresetService>,
  locate: TopologyInputs["configLocation"],
): void {
  for (const name of Object.keys(config.services ?? {})) {
    if (!(name in services)) {
      const where = locate ? locate(["services", name]) : "prodlike.yaml";
      throw new ProdlikeError("CONFIG_INVALID", `${where}: unknown service \`services.${name}\``, {
        hint: `This preset's services: ${Object.keys(services).join(", ")}.`,
        data: { field: `services.${name}` },
      });
    }
    const spec = services[name];
    if (config.services?.[name]?.inspect && spec && spec.inspectPort === undefined) {
      const where = locate ? locate(["services", name, "inspect"]) : "prodlike.yaml";
      throw new ProdlikeError(
        "CONFIG_INVALID",
        `${where}: \`services.${name}\` has no debugger to open (inspect)`,
        {
          hint: "inspect is for the Node preset's app; PHP debugging is `prodlike xdebug on`.",
          data: { field: `services.${name}.inspect` },
        },
      );
    }
    if (config.services?.[name]?.enabled === false && spec && !spec.optional) {
      const where = locate ? locate(["services", name, "enabled"]) : "prodlike.yaml";
      throw new ProdlikeError(
        "CONFIG_INVALID",
        `${where}: \`services.${name}\` is part of this preset and cannot be turned off`,
        {
          hint: `Optional services: ${
            Object.entries(services)
              .filter(([, candidate]) => candidate.optional)
              .map(([optional]) => optional)
              .join(", ") || "none"
          }.`,
          data: { field: `services.${name}.enabled` },
        },
      );
    }
  }
}

function relativePath(value: string): string {
  return value.replace(/^\/+/, "").replace(/\/{2,}/g, "/");
}

function trimSlashes(value: string): string {
  return value.replace(/^\/+|\/+$/g, "");
}
