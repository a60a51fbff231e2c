import type { CoreServices } from "../core/services.js";
import {
  byPlace,
  contextKey,
  listTeamContext,
  type TeamContext,
  type TeamEnvironment,
  type TeamWarning,
  teamContexts,
  teamProblem,
} from "../core/team-clusters.js";
import { byCodePoint } from "../ui/text-order.js";

// Everyone's environments on the team clusters, as the page sees them. A cluster sends
// this machine no engine events, so each context is listed (one namespace list call,
// never one per environment) at start and then every 15 s, each on its own: a context
// that hangs until its timeout delays no other, and is asked again only once its last
// call has ended. The page hears of the listing only when it changed. A context that
// does not answer is a warning beside the rows; it never touches the local list.

export const TEAM_POLL_MS = 15_000;

export interface TeamState {
  environments: TeamEnvironment[];
  warnings: TeamWarning[];
}

/** Where the listing comes from: core's team clusters, or a fake in tests. */
export interface TeamSource {
  /** The contexts to list now (they change as environments are made), and this user's
   *  recorded places; warnings for settings that could not be read. */
  contexts(): Promise<{
    contexts: TeamContext[];
    recorded: ReadonlySet<string>;
    warnings: TeamWarning[];
  }>;
  /** One context's environments; rejects when it does not answer. */
  list(context: TeamContext, recorded: ReadonlySet<string>): Promise<TeamEnvironment[]>;
  /** The warning text for a rejection. */
  problem(error: unknown): string;
}

export function coreTeamSource(services: CoreServices): TeamSource {
  return {
    // No project folder: the dashboard is the machine's, so its contexts are the
    // recorded environments' and the user settings' `clusters`.
    contexts: () => teamContexts(services, undefined),
    list: async (context, recorded) =>
      (await listTeamContext(services, context, recorded)).environments,
    problem: teamProblem,
  };
}

type ContextResult = { environments: TeamEnvironment[] } | { warning: TeamWarning };

export class LiveTeam {
  private contexts: TeamContext[] = [];
  private readonly results = new Map<string, ContextResult>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private settingsWarnings: TeamWarning[] = [];
  private state: TeamState = { environments: [], warnings: [] };
  private sent = JSON.stringify(this.state);
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly source: TeamSource,
    private readonly onChange: (state: TeamState) => void,
    private readonly pollMs = TEAM_POLL_MS,
  ) {}

  /** Starts the first listing (not waited for: a silent context would hold the
   *  dashboard's start for its whole timeout), then one every pollMs. */
  start(): void {
    this.round = this.poll();
    this.timer = setInterval(() => {
      this.round = this.poll();
    }, this.pollMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }

  current(): TeamState {
    return this.state;
  }

  /** Resolves once the latest round's lists have all answered or failed (tests). */
  async settled(): Promise<void> {
    await this.round;
    await Promise.all(this.inFlight.values());
  }

  private async poll(): Promise<void> {
    let found: Awaited<ReturnType<TeamSource["contexts"]>>;
    try {
      found = await this.source.contexts();
    } catch (error) {
      // Unreadable records or settings: said once on the page, the last rows kept.
      this.settingsWarnings = [{ context: "team clusters", problem: this.source.problem(error) }];
      this.publish();
      return;
    }
    if (this.closed) return;
    this.contexts = found.contexts;
    this.settingsWarnings = found.warnings;
    const wanted = new Set(found.contexts.map(contextKey));
    // A context no longer configured leaves the page with its rows.
    for (const key of this.results.keys()) if (!wanted.has(key)) this.results.delete(key);
    for (const context of found.contexts) {
      const key = contextKey(context);
      if (this.inFlight.has(key)) continue;
      const listing = this.listOne(context, found.recorded).finally(() =>
        this.inFlight.delete(key),
      );
      this.inFlight.set(key, listing);
    }
    this.publish();
  }

  private async listOne(context: TeamContext, recorded: ReadonlySet<string>): Promise<void> {
    let result: ContextResult;
    try {
      result = { environments: await this.source.list(context, recorded) };
    } catch (error) {
      result = { warning: { context: context.context, problem: this.source.problem(error) } };
    }
    // Dropped from the settings while it was being listed: not brought back.
    if (this.closed || !this.contexts.some((known) => contextKey(known) === contextKey(context)))
      return;
    this.results.set(contextKey(context), result);
    this.publish();
  }

  // The page hears of the listing only when it differs from the last one sent.
  private publish(): void {
    const results = [...this.results.values()];
    const next: TeamState = {
      environments: results
        .flatMap((result) => ("environments" in result ? result.environments : []))
        .sort(byPlace),
      warnings: [
        ...this.settingsWarnings,
        ...results.flatMap((result) => ("warning" in result ? [result.warning] : [])),
      ].sort((a, b) => byCodePoint(a.context, b.context) || byCodePoint(a.problem, b.problem)),
    };
    const text = JSON.stringify(next);
    if (text === this.sent) return;
    this.sent = text;
    this.state = next;
    this.onChange(next);
  }
}
