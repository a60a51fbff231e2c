import type { Backend, ServiceUsage } from "../backends/backend.js";
import type { UsagePoint, UsageView } from "./wire.js";

// CPU and memory per service for the sparklines, read only for the environments a page
// is looking at (one reading of each running container every 2 s while someone watches),
// the last POINTS readings kept. CPU is a rate: the change in the container's CPU time
// over the change in the machine's, times the number of CPUs, in percent of one core.

export const SAMPLE_MS = 2_000;
export const POINTS = 60;

type Listener = (usage: UsageView[]) => void;

interface Watched {
  history: Map<string, UsagePoint[]>;
  previous: Map<string, ServiceUsage>;
  listeners: Set<Listener>;
  timer: NodeJS.Timeout;
}

export class UsageSampler {
  private readonly watched = new Map<string, Watched>();

  constructor(private readonly backendOf: (envId: string) => Promise<Backend | undefined>) {}

  /** Calls `listener` with the history, then after every reading; returns the stop. */
  follow(envId: string, listener: Listener): () => void {
    let watched = this.watched.get(envId);
    if (!watched) {
      const created: Watched = {
        history: new Map(),
        previous: new Map(),
        listeners: new Set(),
        timer: setInterval(() => void this.sample(envId, created), SAMPLE_MS),
      };
      created.timer.unref();
      watched = created;
      this.watched.set(envId, created);
      void this.sample(envId, created);
    }
    watched.listeners.add(listener);
    listener(viewOf(watched));
    const followed = watched;
    return () => {
      followed.listeners.delete(listener);
      if (followed.listeners.size === 0) {
        clearInterval(followed.timer);
        this.watched.delete(envId);
      }
    };
  }

  close(): void {
    for (const watched of this.watched.values()) clearInterval(watched.timer);
    this.watched.clear();
  }

  private async sample(envId: string, watched: Watched): Promise<void> {
    const backend = await this.backendOf(envId);
    const readings = await backend?.usage(envId).catch(() => []);
    if (!readings) return;
    const at = Date.now();
    for (const reading of readings) {
      const point = usagePoint(watched.previous.get(reading.service), reading, at);
      watched.previous.set(reading.service, reading);
      const points = watched.history.get(reading.service) ?? [];
      points.push(point);
      if (points.length > POINTS) points.shift();
      watched.history.set(reading.service, points);
    }
    const view = viewOf(watched);
    for (const listener of watched.listeners) listener(view);
  }
}

/** One point of a service's line: CPU from two readings, memory from the latest. */
export function usagePoint(
  previous: ServiceUsage | undefined,
  reading: ServiceUsage,
  at: number,
): UsagePoint {
  const point: UsagePoint = { at };
  if (reading.memoryBytes !== undefined) point.memoryBytes = reading.memoryBytes;
  if (reading.memoryLimitBytes !== undefined) point.memoryLimitBytes = reading.memoryLimitBytes;
  if (reading.requests?.cpuMillis !== undefined)
    point.requestedCpuMillis = reading.requests.cpuMillis;
  if (reading.requests?.memoryBytes !== undefined)
    point.requestedMemoryBytes = reading.requests.memoryBytes;
  const cpu = (reading.cpuNanos ?? 0) - (previous?.cpuNanos ?? 0);
  const system = (reading.systemNanos ?? 0) - (previous?.systemNanos ?? 0);
  if (
    previous?.cpuNanos !== undefined &&
    reading.cpuNanos !== undefined &&
    system > 0 &&
    cpu >= 0
  ) {
    point.cpuPercent = (cpu / system) * (reading.onlineCpus ?? 1) * 100;
  }
  return point;
}

function viewOf(watched: Watched): UsageView[] {
  return [...watched.history.entries()]
    .map(([service, points]) => ({ service, points }))
    .sort((a, b) => a.service.localeCompare(b.service));
}
