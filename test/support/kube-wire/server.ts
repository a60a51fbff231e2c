import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { parse as parseYaml, stringify } from "yaml";
import { checkImmutable, mergePatchUpdate, serverSideApply } from "./apply.js";
import { type ServingCertificate, servingCertificate } from "./certificate.js";
import { EXEC_PROTOCOLS_V5, type SessionRecord } from "./channels.js";
import { ClusterLoops } from "./cluster.js";
import { withDefaults } from "./defaults.js";
import { HostRuntime } from "./host-runtime.js";
import { PodStreams } from "./pod-streams.js";
import { coreVersions, groupList, type ResourceType, resourceList } from "./resources.js";
import { parseBody, parseRoute, readBody, requireType } from "./routes.js";
import type { PodRuntime } from "./runtime.js";
import { ApiError, badRequest, notFound } from "./status.js";
import { type KubeJson, matchesFields, matchesLabels, Store } from "./store.js";
import { serveWatch } from "./watch.js";

// A Kubernetes API server double on 127.0.0.1, speaking the wire formats of the endpoints
// prodlike and @kubernetes/client-node use: discovery, get/list/create/replace/delete,
// server-side apply and merge patch, list + watch from a resourceVersion (a chunked stream
// of JSON events), pod logs (follow or not, tailLines, previous), exec and attach over
// websocket (v4.channel.k8s.io and/or v5.channel.k8s.io, as configured: a v4-only server
// is Kubernetes before 1.29), and port-forward. Requests need the bearer token of the
// kubeconfig it writes. Pods run through a PodRuntime (host processes by default).

export interface KubeWireOptions {
  /** The exec/attach subprotocols it accepts, in preference order (default: v5, v4). */
  execProtocols?: readonly string[];
  /** What /version says (default: 1.30 with v5, 1.28 without). */
  gitVersion?: string;
  runtime?: PodRuntime;
  /** kube-system's DNS Service (default kube-dns at 10.96.0.10); false: none. */
  dns?: { name: string; clusterIP: string } | false;
  /** Maps a hostPath on the "node" to this machine (kind's extraMounts). */
  hostPath?: (nodePath: string) => string;
  /** What the token's user may do (SelfSubjectAccessReview and every request): all by
   *  default; a policy answers false for what RBAC would refuse, or a denial with the
   *  reason an authorizer gives (a webhook's message). */
  access?: (attributes: AccessAttributes) => AccessDecision;
  /** How long a deleted namespace stays Terminating after its content is gone (the
   *  namespace controller's finalizing pass). */
  namespaceFinalizeMs?: number;
}

/** A policy's answer: allowed or not, or denied with the authorizer's reason. */
export type AccessDecision = boolean | { allowed: false; reason: string };

/** A request as RBAC sees it. */
export interface AccessAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
}

export class KubeWireServer {
  readonly store = new Store();
  readonly sessions: SessionRecord[] = [];
  readonly token = randomBytes(16).toString("hex");
  readonly loops: ClusterLoops;
  readonly runtime: PodRuntime;
  private readonly server: https.Server;
  private readonly sockets = new Set<Socket>();
  private readonly execProtocols: readonly string[];
  private readonly gitVersion: string;
  private readonly pods: PodStreams;
  private readonly access: ((attributes: AccessAttributes) => AccessDecision) | undefined;
  /** Namespaces go through Terminating (an existing cluster's tests); off: at once. */
  private readonly finalizingNamespaces: boolean;
  private readonly namespaceFinalizeMs: number;

  private constructor(
    options: KubeWireOptions,
    private readonly certificate: ServingCertificate,
  ) {
    this.execProtocols = options.execProtocols ?? EXEC_PROTOCOLS_V5;
    this.gitVersion =
      options.gitVersion ??
      (this.execProtocols.includes("v5.channel.k8s.io") ? "v1.30.4" : "v1.28.13");
    this.runtime = options.runtime ?? new HostRuntime();
    this.access = options.access;
    this.finalizingNamespaces = options.namespaceFinalizeMs !== undefined;
    this.namespaceFinalizeMs = options.namespaceFinalizeMs ?? 0;
    this.loops = new ClusterLoops(this.store, this.runtime, options.hostPath ?? ((path) => path));
    this.pods = new PodStreams(this.store, this.runtime, this.execProtocols, this.sessions);
    this.server = https.createServer(certificate, (request, response) => {
      this.handle(request, response).catch((error: unknown) => reply(response, asApiError(error)));
    });
    this.server.on("secureConnection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server.on("upgrade", (request, socket: Socket, head) => {
      this.upgrade(request, socket, head).catch((error: unknown) =>
        refuse(socket, asApiError(error)),
      );
    });
    this.seed(
      options.dns === undefined ? { name: "kube-dns", clusterIP: "10.96.0.10" } : options.dns,
    );
  }

  static async start(options: KubeWireOptions = {}): Promise<KubeWireServer> {
    const double = new KubeWireServer(options, await servingCertificate());
    await new Promise<void>((resolve) => double.server.listen(0, "127.0.0.1", resolve));
    double.loops.start();
    return double;
  }

  /** The PEM the kubeconfig names as its certificate authority. */
  get certificateAuthority(): string {
    return this.certificate.cert;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A kubeconfig (0600) whose context `context` reaches this server with its token. */
  async writeKubeconfig(file: string, context = "wire"): Promise<void> {
    await writeFile(file, kubeconfigYaml(this.url, this.token, context, this.certificate.cert), {
      mode: 0o600,
    });
  }

  /** Applies objects as the cluster's own (kube-system, test fixtures), no manager. */
  put(object: KubeJson): KubeJson {
    const type = requireType(object.apiVersion ?? "", object.kind ?? "");
    const namespace = object.metadata.namespace ?? "default";
    const live = this.store.get(type, namespace, object.metadata.name);
    if (live)
      return this.store.update(type, {
        ...live,
        ...object,
        metadata: { ...live.metadata, ...object.metadata },
      });
    return this.store.create(
      type,
      withDefaults(type, { ...object, metadata: { ...object.metadata, namespace } }, this.store),
    );
  }

  /** A GET as a client with the kubeconfig's CA (and its token unless another is given). */
  request(
    path: string,
    options: { token?: string } = {},
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = https.get(
        `${this.url}${path}`,
        {
          ca: this.certificate.cert,
          headers: { Authorization: `Bearer ${options.token ?? this.token}` },
        },
        (response) => {
          let body = "";
          response.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on("error", reject);
    });
  }

  /** Drops every open connection at once, mid-response (a server gone, a network cut). */
  cutConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    await this.loops.stop();
    await this.runtime.close();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async upgrade(request: http.IncomingMessage, socket: Socket, head: Buffer) {
    if (!this.authorized(request)) throw new ApiError(401, "Unauthorized", "Unauthorized");
    const route = parseRoute(new URL(request.url ?? "/", this.url).pathname);
    if (
      route &&
      !this.allows({
        verb: "create",
        group: "",
        resource: "pods",
        subresource: route.subresource,
        namespace: route.namespace,
        name: route.name,
      })
    )
      throw forbidden("create", route.type, route.namespace, route.name);
    await this.pods.upgrade(request, socket, head);
  }

  private seed(dns: { name: string; clusterIP: string } | false): void {
    for (const name of ["default", "kube-system", "kube-public"])
      this.put({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    if (dns)
      this.put({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: dns.name, namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
        spec: {
          clusterIP: dns.clusterIP,
          selector: { "k8s-app": "kube-dns" },
          ports: [
            { name: "dns", port: 53, protocol: "UDP" },
            { name: "dns-tcp", port: 53, protocol: "TCP" },
          ],
        },
      });
  }

  private authorized(request: http.IncomingMessage): boolean {
    return request.headers.authorization === `Bearer ${this.token}`;
  }

  private async handle(
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): Promise<void> {
    if (!this.authorized(request)) throw new ApiError(401, "Unauthorized", "Unauthorized");
    const url = new URL(request.url ?? "/", this.url);
    const path = url.pathname.replace(/\/$/, "");
    if (request.method === "GET") {
      const discovery = this.discovery(path);
      if (discovery) return reply(response, 200, discovery);
    }
    const route = parseRoute(path);
    if (!route)
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    const { type, namespace, name, subresource } = route;
    const query = url.searchParams;
    if (type.kind === "SelfSubjectAccessReview") {
      if (request.method !== "POST") throw new ApiError(405, "MethodNotAllowed", "create only");
      return reply(response, 201, this.review(await readBody(request)));
    }
    const verb = verbOf(request.method ?? "GET", name, query);
    const decision = this.decide({
      verb,
      group: type.group,
      resource: type.plural,
      subresource,
      namespace: namespace || undefined,
      name,
    });
    if (decision !== true)
      throw forbidden(
        verb,
        type,
        namespace,
        name,
        decision === false ? undefined : decision.reason,
      );
    if (subresource === "log") return this.pods.logs(response, namespace, name ?? "", query);
    if (subresource && subresource !== "status")
      throw badRequest(`${subresource} needs an upgrade to a websocket`);
    switch (request.method) {
      case "GET":
        if (name) {
          const found = this.store.get(type, namespace, name);
          if (!found) throw notFound(type.group, type.plural, name);
          return reply(response, 200, found);
        }
        if (query.get("watch") === "true" || query.get("watch") === "1")
          return serveWatch(
            this.store,
            request,
            response,
            type,
            namespace,
            query,
            this.selected(type, namespace, query),
          );
        return reply(response, 200, this.listOf(type, namespace, query));
      case "POST": {
        const body = parseBody(await readBody(request), request.headers["content-type"]);
        const target = body.metadata?.namespace ?? namespace;
        this.refuseTerminating(type, target);
        if (this.store.get(type, target, body.metadata?.name ?? ""))
          throw new ApiError(
            409,
            "AlreadyExists",
            `${type.plural} "${body.metadata.name}" already exists`,
          );
        return reply(
          response,
          201,
          this.store.create(
            type,
            withDefaults(
              type,
              { ...body, metadata: { ...body.metadata, namespace: target } },
              this.store,
            ),
          ),
        );
      }
      case "PUT": {
        const body = parseBody(await readBody(request), request.headers["content-type"]);
        const live = this.store.get(type, namespace, name ?? "");
        if (!live) throw notFound(type.group, type.plural, name ?? "");
        if (
          body.metadata.resourceVersion &&
          body.metadata.resourceVersion !== live.metadata.resourceVersion
        )
          throw new ApiError(
            409,
            "Conflict",
            `Operation cannot be fulfilled on ${type.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          );
        const next = {
          ...body,
          metadata: {
            ...live.metadata,
            ...body.metadata,
            ...(live.metadata.uid ? { uid: live.metadata.uid } : {}),
            ...(live.metadata.creationTimestamp
              ? { creationTimestamp: live.metadata.creationTimestamp }
              : {}),
          },
        };
        checkImmutable(live, next);
        return reply(response, 200, this.store.update(type, next));
      }
      case "PATCH":
        return this.patch(request, response, type, namespace, name ?? "", query);
      case "DELETE":
        return reply(response, 200, this.delete(type, namespace, name ?? ""));
    }
    throw new ApiError(405, "MethodNotAllowed", `${request.method} is not allowed`);
  }

  private discovery(path: string): unknown {
    if (path === "/version")
      return {
        major: "1",
        minor: this.gitVersion.split(".")[1] ?? "30",
        gitVersion: this.gitVersion,
        platform: "linux/amd64",
      };
    if (path === "/api") return coreVersions(new URL(this.url).host);
    if (path === "/apis") return groupList();
    if (path === "/api/v1") return resourceList("", "v1");
    const group = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (group) {
      const list = resourceList(group[1] ?? "", group[2] ?? "");
      if (!list)
        throw new ApiError(404, "NotFound", "the server could not find the requested resource");
      return list;
    }
    return undefined;
  }

  private listOf(type: ResourceType, namespace: string, query: URLSearchParams) {
    return {
      kind: `${type.kind}List`,
      apiVersion: type.group ? `${type.group}/${type.version}` : type.version,
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items: this.selected(type, namespace, query).map(
        ({ apiVersion: _a, kind: _k, ...item }) => item,
      ),
    };
  }

  private selected(type: ResourceType, namespace: string, query: URLSearchParams): KubeJson[] {
    const labels = query.get("labelSelector") ?? "";
    const fields = query.get("fieldSelector") ?? "";
    return this.store
      .list(type, namespace || undefined)
      .filter(
        (object) => matchesLabels(object.metadata.labels, labels) && matchesFields(object, fields),
      );
  }

  // A watch: the changes after `resourceVersion` (all objects as ADDED without one), then
  // each change as it happens, one JSON event per line of a chunked response; a version
  // older than the history answers an ERROR event with 410 Gone, as etcd compaction does.
  private async patch(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    type: ResourceType,
    namespace: string,
    name: string,
    query: URLSearchParams,
  ): Promise<void> {
    const contentType = (request.headers["content-type"] ?? "").split(";")[0]?.trim();
    const text = await readBody(request);
    const live = this.store.get(type, namespace, name);
    if (contentType === "application/apply-patch+yaml") {
      const manager = query.get("fieldManager");
      if (!manager)
        throw badRequest(
          'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        );
      const config = parseYaml(text) as KubeJson;
      if (config.metadata?.name !== name)
        throw badRequest(
          "the name of the object (" +
            String(config.metadata?.name) +
            ") does not match the name on the URL (" +
            name +
            ")",
        );
      if (!live) this.refuseTerminating(type, namespace);
      const applied = serverSideApply(
        live,
        { ...config, metadata: { ...config.metadata, namespace } },
        {
          manager,
          force: query.get("force") === "true",
        },
      );
      if (!live)
        return reply(
          response,
          201,
          this.store.create(type, withDefaults(type, applied, this.store)),
        );
      checkImmutable(live, applied);
      return reply(response, 200, this.store.update(type, withDefaults(type, applied, this.store)));
    }
    if (
      contentType === "application/merge-patch+json" ||
      contentType === "application/strategic-merge-patch+json"
    ) {
      if (!live) throw notFound(type.group, type.plural, name);
      const patched = mergePatchUpdate(
        live,
        JSON.parse(text) as Record<string, unknown>,
        query.get("fieldManager") ?? "unknown",
      );
      checkImmutable(live, patched);
      return reply(response, 200, this.store.update(type, patched));
    }
    throw new ApiError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
    );
  }

  // SelfSubjectAccessReview: the policy's answer for the attributes asked about.
  private review(text: string): KubeJson {
    const body = JSON.parse(text) as KubeJson & {
      spec?: { resourceAttributes?: Partial<AccessAttributes> };
    };
    const attributes = body.spec?.resourceAttributes ?? {};
    const decision = this.decide({
      verb: attributes.verb ?? "",
      group: attributes.group ?? "",
      resource: attributes.resource ?? "",
      subresource: attributes.subresource,
      namespace: attributes.namespace,
      name: attributes.name,
    });
    const allowed = decision === true;
    const reason = allowed
      ? 'RBAC: allowed by RoleBinding "wire"'
      : typeof decision === "object"
        ? decision.reason
        : undefined;
    return {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      metadata: { name: "", creationTimestamp: new Date().toISOString() },
      spec: body.spec ?? {},
      status: { allowed, ...(reason ? { reason } : {}) },
    };
  }

  private allows(attributes: AccessAttributes): boolean {
    return this.decide(attributes) === true;
  }

  private decide(attributes: AccessAttributes): AccessDecision {
    return this.access ? this.access(attributes) : true;
  }

  // The namespace controller refuses new content in a namespace being deleted.
  private refuseTerminating(type: ResourceType, namespace: string): void {
    if (!type.namespaced || !namespace) return;
    const owner = this.store.get(requireType("v1", "Namespace"), "", namespace);
    if (owner?.metadata.deletionTimestamp)
      throw new ApiError(
        403,
        "Forbidden",
        `${type.plural} is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      );
  }

  // A deleted namespace is Terminating while the namespace controller deletes what is in
  // it (pods stop gracefully); it goes once nothing is left, after its finalizing pass.
  private terminateNamespace(name: string): KubeJson {
    const type = requireType("v1", "Namespace");
    const live = this.store.get(type, "", name);
    if (!live) throw notFound(type.group, type.plural, name);
    if (live.metadata.deletionTimestamp) return live;
    const marked = this.store.update(type, {
      ...live,
      metadata: { ...live.metadata, deletionTimestamp: new Date().toISOString() },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Terminating" },
    });
    const finalize = async () => {
      for (const inner of NAMESPACED_CONTENT) {
        const innerType = requireType(
          inner.slice(0, inner.lastIndexOf("/")),
          inner.slice(inner.lastIndexOf("/") + 1),
        );
        for (const object of this.store.list(innerType, name)) {
          if (innerType.kind === "Pod" && object.metadata.deletionTimestamp) continue;
          try {
            this.delete(innerType, name, object.metadata.name);
          } catch {
            // Gone meanwhile.
          }
        }
      }
      const pods = requireType("v1", "Pod");
      while (this.store.list(pods, name).length > 0)
        await new Promise((resolve) => setTimeout(resolve, 100));
      await new Promise((resolve) => setTimeout(resolve, this.namespaceFinalizeMs));
      this.store.delete(type, "", name);
    };
    setTimeout(() => void finalize(), 50);
    return marked;
  }

  // Deleting a workload deletes what it owns (background propagation); a namespace takes
  // everything in it; a pod's containers stop.
  private delete(type: ResourceType, namespace: string, name: string): KubeJson {
    if (type.kind === "Namespace" && this.finalizingNamespaces)
      return this.terminateNamespace(name);
    if (type.kind === "Pod") {
      const live = this.store.get(type, namespace, name);
      const marked = live ? this.loops.terminate(live) : undefined;
      if (!marked) throw notFound(type.group, type.plural, name);
      return marked;
    }
    const found = this.store.delete(type, namespace, name);
    if (!found) throw notFound(type.group, type.plural, name);
    if (type.kind === "Namespace") {
      for (const inner of [
        "v1/Pod",
        "apps/v1/Deployment",
        "apps/v1/StatefulSet",
        "apps/v1/ReplicaSet",
        "batch/v1/Job",
        "batch/v1/CronJob",
        "v1/Service",
        "v1/ConfigMap",
        "v1/Secret",
        "v1/PersistentVolumeClaim",
        "v1/Event",
      ]) {
        const [apiVersion, kind] = [
          inner.slice(0, inner.lastIndexOf("/")),
          inner.slice(inner.lastIndexOf("/") + 1),
        ];
        const innerType = requireType(apiVersion, kind);
        for (const object of this.store.list(innerType, name))
          this.delete(innerType, name, object.metadata.name);
      }
    }
    for (const ownedKind of ["apps/v1/ReplicaSet", "v1/Pod"]) {
      const ownedType = requireType(
        ownedKind.slice(0, ownedKind.lastIndexOf("/")),
        ownedKind.slice(ownedKind.lastIndexOf("/") + 1),
      );
      for (const object of this.store.list(ownedType, namespace)) {
        const owner = object.metadata.ownerReferences?.[0];
        if (
          owner?.uid === found.metadata.uid ||
          object.metadata.labels?.["wire.test/deployment"] ===
            (type.kind === "Deployment" ? name : undefined)
        )
          this.delete(ownedType, namespace, object.metadata.name);
      }
    }
    return found;
  }
}

function reply(response: http.ServerResponse, error: ApiError): void;
function reply(response: http.ServerResponse, code: number, body: unknown): void;
function reply(
  response: http.ServerResponse,
  codeOrError: number | ApiError,
  body?: unknown,
): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const [code, payload] =
    codeOrError instanceof ApiError ? [codeOrError.code, codeOrError.status] : [codeOrError, body];
  response.writeHead(code, { "Content-Type": "application/json" });
  response.end(JSON.stringify(payload));
}

// An upgrade the server refuses is an ordinary HTTP answer on the raw socket.
function refuse(socket: Socket, error: ApiError): void {
  const body = JSON.stringify(error.status);
  socket.end(
    `HTTP/1.1 ${error.code} ${http.STATUS_CODES[error.code] ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(500, "InternalError", `Internal error occurred: ${String(error)}`);
}

export function kubeconfigYaml(
  server: string,
  token: string,
  context: string,
  certificateAuthority: string,
): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: context,
        cluster: {
          server,
          "certificate-authority-data": Buffer.from(certificateAuthority).toString("base64"),
        },
      },
    ],
    users: [{ name: context, user: { token } }],
    contexts: [{ name: context, context: { cluster: context, user: context } }],
    "current-context": context,
  });
}

/** What a namespace holds, in the order the namespace controller deletes it. */
const NAMESPACED_CONTENT = [
  "apps/v1/Deployment",
  "apps/v1/StatefulSet",
  "apps/v1/ReplicaSet",
  "batch/v1/CronJob",
  "batch/v1/Job",
  "v1/Pod",
  "v1/Service",
  "v1/ConfigMap",
  "v1/Secret",
  "v1/PersistentVolumeClaim",
  "v1/ResourceQuota",
  "v1/LimitRange",
  "networking.k8s.io/v1/Ingress",
  "v1/Event",
];

function verbOf(method: string, name: string | undefined, query: URLSearchParams): string {
  switch (method) {
    case "GET":
      return name
        ? "get"
        : query.get("watch") === "true" || query.get("watch") === "1"
          ? "watch"
          : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
    default:
      return method.toLowerCase();
  }
}

function forbidden(
  verb: string,
  type: ResourceType,
  namespace: string,
  name: string | undefined,
  reason?: string,
): ApiError {
  const resource = type.group ? `${type.plural}.${type.group}` : type.plural;
  // kube-apiserver appends the authorizer's reason, when it gave one, after a colon.
  return new ApiError(
    403,
    "Forbidden",
    `${resource}${name ? ` "${name}"` : ""} is forbidden: User "wire-user" cannot ${verb} resource "${type.plural}" in API group "${type.group}"${namespace ? ` in the namespace "${namespace}"` : " at the cluster scope"}${reason ? `: ${reason}` : ""}`,
  );
}
