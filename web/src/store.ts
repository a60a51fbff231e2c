import { useEffect, useState } from "preact/hooks";
import type {
  EnvironmentView,
  LiveEvent,
  OperationView,
  TeamView,
} from "../../src/dashboard/wire.js";
import { follow } from "./api.js";

// Everything the server streams on /api/events, held once for the whole page: the
// environments by id, the team clusters' listing and the operations by id. Components subscribe and re-render when
// it changes (at most once per animation frame, however many events arrive).

export interface LiveState {
  connected: boolean;
  loaded: boolean;
  environments: Map<string, EnvironmentView>;
  operations: Map<string, OperationView>;
  team: TeamView;
}

type Listener = (state: LiveState) => void;

class LiveStore {
  state: LiveState = {
    connected: false,
    loaded: false,
    environments: new Map(),
    operations: new Map(),
    team: { environments: [], warnings: [] },
  };
  private readonly listeners = new Set<Listener>();
  private frame = 0;

  start(): void {
    follow<LiveEvent>(
      "/api/events",
      (event) => this.apply(event),
      (connected) => {
        this.state = { ...this.state, connected };
        this.notify();
      },
    );
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(event: LiveEvent): void {
    const environments = new Map(this.state.environments);
    const operations = new Map(this.state.operations);
    let team = this.state.team;
    if (event.type === "environments") {
      environments.clear();
      for (const environment of event.environments) environments.set(environment.id, environment);
    } else if (event.type === "environment") {
      environments.set(event.environment.id, event.environment);
    } else if (event.type === "removed") {
      environments.delete(event.id);
    } else if (event.type === "team") {
      team = event.team;
    } else {
      operations.set(event.operation.id, event.operation);
    }
    this.state = { connected: true, loaded: true, environments, operations, team };
    this.notify();
  }

  private notify(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const listener of this.listeners) listener(this.state);
    });
  }
}

export const live = new LiveStore();

export function useLive(): LiveState {
  const [state, setState] = useState(live.state);
  useEffect(() => live.subscribe(setState), []);
  return state;
}

/** Re-renders every `ms` (ages and lifetimes count down without new data). */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
