import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { CreateForm } from "./create-form.js";
import { EnvironmentDetail } from "./environment-detail.js";
import { EnvironmentTable } from "./environment-table.js";
import { Operations } from "./operations.js";
import { live, useLive, useNow } from "./store.js";
import { TeamTable } from "./team-table.js";

// The dashboard: every environment of this machine in one table, live, everyone's on the
// team clusters in another (read-only but the user's own); the chosen one in full below.
// The choice lives in the URL's fragment (#ID) so a link or a reload keeps it; the
// token stays in the query string where the server reads it.

const RECENT_OPERATIONS = 10;

function App() {
  const state = useLive();
  const now = useNow();
  const [filter, setFilter] = useState("");
  const [creating, setCreating] = useState(false);
  const [selected, setSelected] = useState(decodeURIComponent(location.hash.slice(1)) || undefined);
  useEffect(() => {
    const onHash = () => setSelected(decodeURIComponent(location.hash.slice(1)) || undefined);
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  const environments = useMemo(() => {
    const needle = filter.toLowerCase();
    return [...state.environments.values()]
      .filter(
        (environment) =>
          !needle ||
          `${environment.id} ${environment.preset} ${environment.state}`
            .toLowerCase()
            .includes(needle),
      )
      .sort((a, b) => a.id.localeCompare(b.id));
  }, [state.environments, filter]);
  const team = useMemo(() => {
    const needle = filter.toLowerCase();
    const environments = state.team.environments.filter(
      (found) =>
        !needle ||
        `${found.env} ${found.owner} ${found.context} ${found.preset}`
          .toLowerCase()
          .includes(needle),
    );
    return { ...state.team, environments };
  }, [state.team, filter]);
  const local = useMemo(() => new Set(state.environments.keys()), [state.environments]);
  useEffect(() => {
    // For the first-paint benchmark and test: the table is drawn with this many rows.
    if (state.loaded) {
      performance.mark("prodlike:environments-rendered");
      document.body.dataset.rendered = String(environments.length);
    }
  }, [state.loaded, environments.length]);
  const operations = [...state.operations.values()].reverse();
  const current = selected ? state.environments.get(selected) : undefined;
  const services = environments.reduce((sum, environment) => sum + environment.services.length, 0);
  return (
    <>
      <header class="top">
        <h1>prodlike</h1>
        <span class="summary" data-testid="summary">
          {environments.length} environments · {services} services
        </span>
        <span
          class={state.connected ? "live on" : "live"}
          title={state.connected ? "live" : "reconnecting"}
        >
          {state.connected ? "live" : "reconnecting…"}
        </span>
        <input
          type="search"
          placeholder="filter environments"
          aria-label="filter environments"
          value={filter}
          onInput={(event) => setFilter(event.currentTarget.value)}
        />
        <button type="button" onClick={() => setCreating(!creating)}>
          New QA environment
        </button>
      </header>
      {creating ? <CreateForm onDone={() => setCreating(false)} /> : null}
      {!state.loaded ? (
        <p class="loading">Loading environments…</p>
      ) : environments.length === 0 ? (
        <p class="empty">No environment on this machine yet: run `prodlike up` in a project.</p>
      ) : (
        <EnvironmentTable
          environments={environments}
          selected={selected}
          now={now}
          onSelect={(id) => {
            location.hash = encodeURIComponent(id);
          }}
        />
      )}
      {state.loaded ? (
        <TeamTable
          team={team}
          local={local}
          now={now}
          onSelect={(id) => {
            location.hash = encodeURIComponent(id);
          }}
        />
      ) : null}
      {current ? (
        <EnvironmentDetail
          environment={current}
          now={now}
          operations={operations.filter((operation) => operation.envId === current.id)}
        />
      ) : (
        // Every tab sees every operation (started here or in another tab), newest first.
        <Operations operations={operations.slice(0, RECENT_OPERATIONS)} />
      )}
    </>
  );
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
  live.start();
}
