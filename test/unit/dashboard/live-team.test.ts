import { describe, expect, it } from "vitest";
import type { TeamContext, TeamEnvironment } from "../../../src/core/team-clusters.js";
import { LiveTeam, type TeamSource, type TeamState } from "../../../src/dashboard/live-team.js";

// The dashboard's team rows over a fake listing: one list call per context per round,
// pushed only when something changed, a silent context a warning that delays no other.

const row = (context: string, namespace: string, owner = "bob.laptop"): TeamEnvironment => ({
  context,
  namespace,
  env: namespace.replace(/^prodlike-/, ""),
  project: "web",
  preset: "drupal",
  owner,
  kept: false,
  terminating: false,
  recorded: false,
});

class FakeListing implements TeamSource {
  contextsNow: TeamContext[] = [
    { kubeconfig: "/k", context: "team-a" },
    { kubeconfig: "/k", context: "team-b" },
  ];
  rows = new Map<string, TeamEnvironment[]>();
  /** Contexts whose list call never ends (a server that swallows packets). */
  silent = new Set<string>();
  refused = new Map<string, string>();
  calls: string[] = [];

  async contexts() {
    return { contexts: this.contextsNow, recorded: new Set<string>(), warnings: [] };
  }

  list(context: TeamContext): Promise<TeamEnvironment[]> {
    this.calls.push(context.context);
    if (this.silent.has(context.context)) return new Promise(() => undefined);
    const refusal = this.refused.get(context.context);
    if (refusal) return Promise.reject(new Error(refusal));
    return Promise.resolve(this.rows.get(context.context) ?? []);
  }

  problem(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function started(source: FakeListing, pollMs = 40) {
  const sent: TeamState[] = [];
  const team = new LiveTeam(source, (state) => sent.push(state), pollMs);
  team.start();
  return { team, sent };
}

const shown = (state: TeamState | undefined) => [
  ...(state?.environments ?? []).map((found) => `${found.context} ${found.namespace}`),
  ...(state?.warnings ?? []).map((warning) => `! ${warning.context}: ${warning.problem}`),
];

describe("LiveTeam", () => {
  it("lists each context once per round and pushes the rows only when they change", async () => {
    const source = new FakeListing();
    source.rows.set("team-b", [row("team-b", "prodlike-web-carol")]);
    source.rows.set("team-a", [row("team-a", "prodlike-web-bob")]);
    const { team, sent } = started(source, 60_000);
    await team.settled();
    expect(source.calls.sort()).toEqual(["team-a", "team-b"]);
    expect(shown(team.current())).toEqual(["team-a prodlike-web-bob", "team-b prodlike-web-carol"]);
    const pushed = sent.length;
    expect(pushed).toBeGreaterThan(0);
    team.close();

    // Rounds that find the same rows send nothing; a new namespace is sent once.
    const polled = new FakeListing();
    polled.rows = source.rows;
    const again = started(polled, 30);
    await pause(120);
    await again.team.settled();
    const quiet = again.sent.length;
    expect(polled.calls.length).toBeGreaterThanOrEqual(4);
    await pause(90);
    expect(again.sent.length).toBe(quiet);
    polled.rows.set("team-a", [row("team-a", "prodlike-web-bob"), row("team-a", "prodlike-x")]);
    await pause(90);
    await again.team.settled();
    expect(again.sent.length).toBe(quiet + 1);
    expect(shown(again.sent.at(-1))).toContain("team-a prodlike-x");
    again.team.close();
  });

  it("shows a refusing or silent context as a warning, while the others' rows come and stay", async () => {
    const source = new FakeListing();
    source.contextsNow = [...source.contextsNow, { kubeconfig: "/k", context: "gone" }];
    source.rows.set("team-a", [row("team-a", "prodlike-web-bob")]);
    source.refused.set("team-b", "namespaces is forbidden: <img src=x onerror=alert(1)>");
    source.silent.add("gone");
    const { team } = started(source, 30);
    await pause(150);
    // The silent one is asked once: its call never ended, so no second one piled up.
    expect(source.calls.filter((context) => context === "gone")).toEqual(["gone"]);
    expect(source.calls.filter((context) => context === "team-a").length).toBeGreaterThan(1);
    expect(shown(team.current())).toEqual([
      "team-a prodlike-web-bob",
      "! team-b: namespaces is forbidden: <img src=x onerror=alert(1)>",
    ]);
    team.close();
  });

  it("drops a context's rows when it is no longer configured", async () => {
    const source = new FakeListing();
    source.rows.set("team-a", [row("team-a", "prodlike-web-bob")]);
    source.rows.set("team-b", [row("team-b", "prodlike-web-carol")]);
    const { team } = started(source, 30);
    await pause(60);
    await team.settled();
    expect(shown(team.current())).toHaveLength(2);
    source.contextsNow = source.contextsNow.filter((context) => context.context !== "team-b");
    await pause(90);
    await team.settled();
    expect(shown(team.current())).toEqual(["team-a prodlike-web-bob"]);
    team.close();
  });

  it("says unreadable settings once, keeping what it listed", async () => {
    const source = new FakeListing();
    source.rows.set("team-a", [row("team-a", "prodlike-web-bob")]);
    const { team } = started(source, 30);
    await pause(60);
    await team.settled();
    source.contexts = () => Promise.reject(new Error("config.json: clusters.0.context Required"));
    await pause(90);
    await team.settled();
    expect(shown(team.current())).toEqual([
      "team-a prodlike-web-bob",
      "! team clusters: config.json: clusters.0.context Required",
    ]);
    team.close();
  });
});
