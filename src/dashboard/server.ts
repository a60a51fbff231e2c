import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Backend, BackendName } from "../backends/backend.js";
import type { EnvironmentOverview } from "../core/overview.js";
import type { CoreServices } from "../core/services.js";
import { ProdlikeError } from "../errors/prodlike-error.js";
import { packageFile } from "../package-files.js";
import { actionWork, createWork, isAction } from "./actions.js";
import { LiveEnvironments } from "./live-environments.js";
import { coreTeamSource, LiveTeam, type TeamSource, type TeamState } from "./live-team.js";
import { LogHub } from "./log-hub.js";
import { errorView, OperationRunner } from "./operation-runner.js";
import { guard, localPolicy, SECURITY_HEADERS } from "./request-guard.js";
import { EventStream } from "./sse.js";
import { topologyOf } from "./topology-graph.js";
import { UsageSampler } from "./usage-sampler.js";
import type { EnvironmentView, LiveEvent, TeamView } from "./wire.js";

// `prodlike dashboard`'s web server: plain node:http on 127.0.0.1, every request through
// the guard (Host, token, Origin), JSON for reads, server-sent events for everything
// live, POST for every change. It holds no state of its own beyond what it watches: the
// environments come from core's listing, changes go through core's operations.

// Core's overview must stay what the page reads: a field core drops or renames breaks
// this line at compile time.
const fitsWire = (overview: EnvironmentOverview): EnvironmentView => overview;
// The same for core's team listing.
const teamWire = (team: TeamState): TeamView => team;

export interface DashboardOptions {
  /** 0: a free port. */
  port: number;
  token: string;
  /** The built page (index.html, app.js, app.css): dist/web by default. */
  assetsDir?: string;
  /** Where the team clusters' rows come from: core's listing by default. */
  team?: TeamSource;
}

/** How the local router reaches the dashboard: its network's gateway address, and the
 *  Host and Origin a browser sends through it. */
export interface RoutedAccess {
  gateway: string;
  host: string;
  origin: string;
}

export interface RunningDashboard {
  port: number;
  /** The URL to open, with the token. */
  url: string;
  /** This server's id, sent on every answer in INSTANCE_HEADER. */
  instance: string;
  live: LiveEnvironments;
  team: LiveTeam;
  /** Listens on the router network's gateway too (same port, same guard), and accepts
   *  the router's Host and Origin; resolves the address the router dials. */
  serveRouted(access: RoutedAccess): Promise<string>;
  close(): Promise<void>;
}

const ASSETS: Record<string, string> = {
  "/app.js": "text/javascript; charset=utf-8",
  "/app.css": "text/css; charset=utf-8",
};
const MAX_BODY_BYTES = 64 * 1024;
export const INSTANCE_HEADER = "X-Prodlike-Dashboard";

export function defaultAssetsDir(): string {
  // The page built by `npm run build` (scripts/build-web.js).
  return packageFile("dist/web/");
}

export async function startDashboard(
  services: CoreServices,
  options: DashboardOptions,
): Promise<RunningDashboard> {
  const assetsDir = options.assetsDir ?? defaultAssetsDir();
  // The page names its script and style with the token (every request carries it); the
  // token is hex, so it is safe to put in the markup as it is.
  if (!/^[0-9a-f]{32,}$/.test(options.token)) {
    throw new ProdlikeError("TOKEN_UNSAFE", "The dashboard's token is not a hex token");
  }
  const template = await readFile(path.join(assetsDir, "index.html"), "utf8").catch(() => {
    throw new ProdlikeError("INTERNAL", `The dashboard's page is not built (${assetsDir})`, {
      hint: "Run `npm run build` in prodlike's folder.",
    });
  });
  const page = template.replaceAll("__TOKEN__", options.token);
  const subscribers = new Set<EventStream>();
  const broadcast = (event: LiveEvent) => {
    for (const stream of subscribers) stream.send(event);
  };
  const live = new LiveEnvironments(services, (change) =>
    broadcast(
      change.type === "removed"
        ? change
        : { type: "environment", environment: fitsWire(change.environment) },
    ),
  );
  const team = new LiveTeam(options.team ?? coreTeamSource(services), (state) =>
    broadcast({ type: "team", team: teamWire(state) }),
  );
  const operations = new OperationRunner(
    (operation) => broadcast({ type: "operation", operation }),
    (operation) => live.refreshSoon([operation.envId]),
  );
  const backendOf = async (envId: string): Promise<Backend | undefined> => {
    const environment = live.get(envId);
    return environment ? services.backend(environment.backend as BackendName) : undefined;
  };
  const logs = new LogHub(backendOf);
  const usage = new UsageSampler(backendOf);
  await live.start();
  // After the local list: a team cluster never holds up or breaks the machine's own.
  team.start();

  const server = createServer();
  const routedServer = createServer();
  const instance = randomBytes(8).toString("hex");
  let policy = localPolicy(options.token, options.port);
  const context: RouteContext = {
    services,
    live,
    team,
    operations,
    logs,
    usage,
    subscribers,
    page,
    assetsDir,
  };
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    // Which dashboard answered (not a secret): the router link checks the router still
    // sends the name here, and not to another user's.
    response.setHeader(INSTANCE_HEADER, instance);
    handle(request, response, policy, context).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: errorView(error) });
      else response.end();
    });
  };
  server.on("request", onRequest);
  routedServer.on("request", onRequest);
  const port = await listen(server, "127.0.0.1", options.port);
  policy = localPolicy(options.token, port);
  return {
    port,
    url: `http://127.0.0.1:${port}/?token=${options.token}`,
    instance,
    live,
    team,
    async serveRouted(access) {
      // The router's network may come back with another gateway: listened to there.
      const listening = routedServer.address() as AddressInfo | null;
      if (listening?.address !== access.gateway) {
        if (listening) await closeServer(routedServer);
        await listen(routedServer, access.gateway, port);
      }
      policy = localPolicy(options.token, port, access);
      return `${access.gateway}:${port}`;
    },
    async close() {
      live.close();
      team.close();
      logs.close();
      usage.close();
      for (const stream of subscribers) stream.close();
      for (const listening of [server, routedServer]) {
        if (listening.listening) await closeServer(listening);
      }
    },
  };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function listen(server: Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new ProdlikeError("PORT_UNAVAILABLE", `Port ${port} on ${address} is taken`, {
              hint: "Pick another with --port, or leave it out for a free one.",
            })
          : error,
      );
    });
    // 127.0.0.1, and the router's network when asked: never the machine's other addresses.
    server.listen(port, address, () => resolve((server.address() as AddressInfo).port));
  });
}

interface RouteContext {
  services: CoreServices;
  live: LiveEnvironments;
  team: LiveTeam;
  operations: OperationRunner;
  logs: LogHub;
  usage: UsageSampler;
  subscribers: Set<EventStream>;
  page: string;
  assetsDir: string;
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  policy: ReturnType<typeof localPolicy>,
  context: RouteContext,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://dashboard.invalid");
  const verdict = guard(
    {
      method: request.method ?? "GET",
      host: request.headers.host,
      origin: request.headers.origin,
      queryToken: url.searchParams.get("token"),
      headerToken: single(request.headers["x-prodlike-token"]),
    },
    policy,
  );
  if (!verdict.allowed) {
    sendJson(response, verdict.status, {
      error: {
        code: verdict.status === 401 ? "UNAUTHORIZED" : "FORBIDDEN",
        message: verdict.reason,
      },
    });
    return;
  }
  const route = url.pathname;
  if (request.method === "POST") {
    await handleChange(request, response, route, context);
    return;
  }
  if (route === "/") {
    sendText(response, 200, "text/html; charset=utf-8", context.page);
    return;
  }
  const asset = ASSETS[route];
  if (asset) {
    sendText(response, 200, asset, await readFile(path.join(context.assetsDir, route.slice(1))));
    return;
  }
  await handleRead(response, url, context);
}

const ENVIRONMENT_ROUTE = /^\/api\/environments\/([^/]+)\/(logs|usage|topology)$/;
const OPERATION_ROUTE = /^\/api\/operations\/([^/]+)$/;

async function handleRead(
  response: ServerResponse,
  url: URL,
  context: RouteContext,
): Promise<void> {
  const route = url.pathname;
  if (route === "/api/environments") {
    sendJson(response, 200, {
      environments: context.live.all().map(fitsWire),
      team: teamWire(context.team.current()),
    });
    return;
  }
  if (route === "/api/events") {
    const stream = new EventStream(response, SECURITY_HEADERS, () =>
      context.subscribers.delete(stream),
    );
    context.subscribers.add(stream);
    stream.send({ type: "environments", environments: context.live.all().map(fitsWire) });
    stream.send({ type: "team", team: teamWire(context.team.current()) });
    for (const operation of context.operations.all()) stream.send({ type: "operation", operation });
    return;
  }
  const operation = OPERATION_ROUTE.exec(route);
  if (operation) {
    const found = context.operations.get(decoded(operation[1]));
    if (found) sendJson(response, 200, { operation: found });
    else sendJson(response, 404, { error: { code: "NOT_FOUND", message: "No such operation" } });
    return;
  }
  const matched = ENVIRONMENT_ROUTE.exec(route);
  const environment = matched ? context.live.get(decoded(matched[1])) : undefined;
  if (!matched || !environment) {
    sendJson(response, 404, { error: { code: "NOT_FOUND", message: `Nothing at ${route}` } });
    return;
  }
  if (matched[2] === "topology") {
    sendJson(response, 200, { topology: await topologyOf(environment) });
    return;
  }
  // logs or usage: a stream for as long as the page keeps it open.
  let stop: (() => void) | undefined;
  let closed = false;
  const stream = new EventStream(response, SECURITY_HEADERS, () => {
    closed = true;
    stop?.();
  });
  if (matched[2] === "usage") {
    stop = context.usage.follow(environment.id, (usage) => stream.send({ type: "usage", usage }));
    return;
  }
  const unfollow = await context.logs.follow(environment.id, (lines, reset) =>
    stream.send({ type: "lines", lines, reset }),
  );
  if (closed) unfollow();
  else stop = unfollow;
}

async function handleChange(
  request: IncomingMessage,
  response: ServerResponse,
  route: string,
  context: RouteContext,
): Promise<void> {
  try {
    const body = await readJsonBody(request);
    if (route === "/api/environments") {
      const { envName, work } = createWork(context.services, body);
      const operation = context.operations.start(`(new) ${envName}`, "create", work);
      sendJson(response, 202, { operation });
      return;
    }
    const matched = /^\/api\/environments\/([^/]+)\/actions\/([a-z-]+)$/.exec(route);
    const action = matched?.[2];
    if (!matched || !action || !isAction(action)) {
      sendJson(response, 404, { error: { code: "NOT_FOUND", message: `No action at ${route}` } });
      return;
    }
    const environment = context.live.get(decoded(matched[1]));
    if (!environment) {
      sendJson(response, 404, {
        error: { code: "ENV_NOT_FOUND", message: `No environment ${matched[1]}` },
      });
      return;
    }
    const work = actionWork(
      context.services,
      action,
      {
        id: environment.id,
        codeRoot: environment.codeRoot,
        name: environment.name,
        backend: environment.backend,
      },
      body,
    );
    sendJson(response, 202, { operation: context.operations.start(environment.id, action, work) });
  } catch (error) {
    sendJson(response, 400, { error: errorView(error) });
  }
}

async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  // A JSON body only: a form on a foreign page can send text/plain, never this.
  if (!request.headers["content-type"]?.startsWith("application/json")) {
    throw new ProdlikeError("USAGE", "A change is sent as application/json");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ProdlikeError("USAGE", "The request body is too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new ProdlikeError("USAGE", "The request body is not JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ProdlikeError("USAGE", "The request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** A path segment as it was meant; a malformed escape names nothing (a 404, not a 500). */
function decoded(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? "");
  } catch {
    return "";
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  sendText(response, status, "application/json; charset=utf-8", JSON.stringify(body));
}

function sendText(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
): void {
  response.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": contentType });
  response.end(body);
}
