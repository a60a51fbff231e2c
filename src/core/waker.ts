import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import path from "node:path";
import { z } from "zod";
import { EnvironmentOwners } from "../backends/docker/environment-owners.js";
import { routedBytes } from "../backends/docker/traffic.js";
import type { IdleRecord } from "../env/idle.js";
import { isProdlikeError } from "../errors/prodlike-error.js";
import { readStateOrNothing } from "../state/json-state.js";
import { SilentProgress } from "../ui/plain-progress.js";
import { tcpAnswers } from "../waits/tcp-answers.js";
import { sleepRecords } from "./environments.js";
import { sleep, wake } from "./lifecycle.js";
import type { CoreServices } from "./services.js";

// A request to a sleeping environment's name wakes it. While it sleeps the local router
// sends its names to its owner's waker: a small HTTP server of that user's prodlike, on
// this machine's side of the router's bridge (the router container reaches it; it is
// on no other network). A request starts `wake` (once, however many arrive), is held
// while the environment comes up, and is then sent back to the same URL (the router
// serves the environment again by then); one that waits longer gets a "waking up" page
// that reloads itself. It also puts the user's environments with an idle time
// (prodlike.yaml `idle:`, `up --idle`) to sleep once nothing reached them for that long.
// The waker ends once none of its user's environments sleeps or has an idle time.

const WAKER_FILE = "waker.json";
/** How long a request is held before the "waking up" page answers instead. */
const HOLD_MS = 25_000;
/** How often the waker looks whether anything of its user still sleeps. */
const IDLE_CHECK_MS = 30_000;

const wakerSchema = z.object({
  pid: z.number().int(),
  address: z.string(),
  port: z.number().int(),
});

export type WakerRecord = z.output<typeof wakerSchema>;

/** The user's waker, when its record names a process that answers; else undefined. */
export async function runningWaker(services: CoreServices): Promise<WakerRecord | undefined> {
  const record = await readStateOrNothing(path.join(services.stores.dir, WAKER_FILE), wakerSchema);
  if (!record || !processAlive(record.pid)) return undefined;
  return (await answers(record.address, record.port)) ? record : undefined;
}

/** Where the user's waker must listen for the router to reach it (the router network's
 *  gateway), or undefined when there is no router network (PRODLIKE_ROUTER=off, or no
 *  environment routed yet). */
export async function wakerAddress(services: CoreServices): Promise<string | undefined> {
  const { openRouter, routerEnabled } = await import("./router.js");
  if (!routerEnabled(services.env)) return undefined;
  return (await openRouter(services)).wakerAddress();
}

/** `prodlike waker`: serves until none of the user's environments sleeps. */
export async function serveWaker(
  services: CoreServices,
  options: { address: string; port?: number },
): Promise<void> {
  const waking = new Map<string, Promise<void>>();
  const server = createServer((request, response) => {
    handle(services, waking, request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.address, () => resolve());
  });
  const bound = server.address();
  const port = typeof bound === "object" && bound ? bound.port : 0;
  const file = path.join(services.stores.dir, WAKER_FILE);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const record = JSON.stringify({ pid: process.pid, address: options.address, port });
  await writeFile(`${file}.${process.pid}`, record, { mode: 0o600 });
  await rename(`${file}.${process.pid}`, file);
  const mine = `${options.address}:${port}`;
  const activity = new Map<string, { bytes: number; at: number }>();
  const idleStore = await services.stores.idle();
  for (;;) {
    await services.clock.sleep(checkInterval(await idleStore.all()));
    // Read after the wait: an `up --idle` meanwhile found this waker running and counts
    // on it.
    const idle = await idleStore.all();
    const sleeping = await sleepRecords(services);
    await putIdleToSleep(services, { idle, sleeping, activity, waker: mine });
    if (await busy(services, waking, mine)) continue;
    // Leaving: the record goes first, then one more look. A prodlike that gave an
    // environment an idle time or put it to sleep before the record went is seen here; one
    // after it finds no waker and starts another.
    await rm(file, { force: true });
    if (!(await busy(services, waking, mine))) break;
    await writeFile(`${file}.${process.pid}`, record, { mode: 0o600 });
    await rename(`${file}.${process.pid}`, file);
  }
  server.close();
}

// Whether anything still needs the waker: an environment asleep with it as its waker, one
// with an idle time, or a wake under way.
async function busy(
  services: CoreServices,
  waking: ReadonlyMap<string, Promise<void>>,
  mine: string,
): Promise<boolean> {
  if (waking.size > 0) return true;
  if ((await (await services.stores.idle()).all()).length > 0) return true;
  return [...(await sleepRecords(services)).values()].some((found) => found.waker === mine);
}

/** How often the waker looks: every 30 s, more often for a short idle time. */
export function checkInterval(idle: readonly IdleRecord[]): number {
  const shortest = Math.min(IDLE_CHECK_MS * 4, ...idle.map((record) => record.idleMs));
  return Math.max(1000, Math.min(IDLE_CHECK_MS, Math.floor(shortest / 4)));
}

// An environment with an idle time that nothing reached for that long is put to sleep
// (its waker: this one). What reached it is the bytes its routed containers received:
// a change since the last look is a request.
async function putIdleToSleep(
  services: CoreServices,
  state: {
    idle: readonly IdleRecord[];
    sleeping: ReadonlyMap<string, unknown>;
    activity: Map<string, { bytes: number; at: number }>;
    waker: string;
  },
): Promise<void> {
  const engine = await services.engine();
  const now = services.clock.now();
  for (const record of state.idle) {
    if (state.sleeping.has(record.envId)) {
      state.activity.delete(record.envId);
      continue;
    }
    const bytes = await routedBytes(engine, record.envId).catch(() => undefined);
    if (bytes === undefined) continue;
    const seen = state.activity.get(record.envId);
    if (!seen || seen.bytes !== bytes) {
      state.activity.set(record.envId, { bytes, at: now });
      continue;
    }
    if (now - seen.at < record.idleMs) continue;
    const owner = await new EnvironmentOwners(engine).get(record.envId);
    if (!owner) continue;
    await sleep(
      services,
      { dir: owner.codeRoot, name: owner.name, reason: "idle", waker: state.waker },
      new SilentProgress(),
    ).catch(() => undefined);
    state.activity.delete(record.envId);
  }
}

async function handle(
  services: CoreServices,
  waking: Map<string, Promise<void>>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const host = (request.headers.host ?? "").replace(/:\d+$/, "");
  const record = [...(await sleepRecords(services)).values()].find((candidate) =>
    candidate.hosts?.includes(host),
  );
  if (!record) {
    // Woken meanwhile: the router serves it again; the browser asks once more.
    const routedAgain = waking.size === 0;
    return page(response, routedAgain ? 307 : 503, request, "This environment is not asleep.");
  }
  let started = waking.get(record.envId);
  if (!started) {
    started = wakeEnvironment(services, record.envId).finally(() => waking.delete(record.envId));
    waking.set(record.envId, started);
    started.catch(() => undefined);
  }
  const outcome = await Promise.race([
    started.then(
      () => "woken" as const,
      (error: unknown) => error,
    ),
    services.clock.sleep(HOLD_MS).then(() => "waiting" as const),
  ]);
  if (outcome === "woken") return page(response, 307, request, `${record.envId} is awake.`);
  if (outcome === "waiting") {
    return page(response, 503, request, `Waking up ${record.envId}… this page reloads by itself.`);
  }
  const reason = isProdlikeError(outcome) ? outcome.message : String(outcome);
  return page(
    response,
    502,
    request,
    `${record.envId} did not wake: ${reason}. Try \`prodlike wake\`.`,
  );
}

async function wakeEnvironment(services: CoreServices, envId: string): Promise<void> {
  const owner = await new EnvironmentOwners(await services.engine()).get(envId);
  if (!owner) throw new Error(`${envId} has no owner record`);
  await wake(
    services,
    { dir: owner.codeRoot, name: owner.name, healthTimeoutMs: 300_000 },
    new SilentProgress(),
  );
}

// 307 sends the browser to the same URL again (served by the environment by then); the
// others show the text, and reload after two seconds.
function page(
  response: ServerResponse,
  status: number,
  request: IncomingMessage,
  text: string,
): void {
  const proto = request.headers["x-forwarded-proto"] === "https" ? "https" : "http";
  const location = `${proto}://${request.headers.host ?? ""}${request.url ?? "/"}`;
  response.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    ...(status === 307 ? { location } : { "retry-after": "2" }),
  });
  response.end(
    `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>prodlike</title><p>${escapeHtml(text)}</p>\n`,
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (character) => `&#${character.charCodeAt(0)};`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function answers(address: string, port: number): Promise<boolean> {
  return tcpAnswers(address, port, 1000);
}
