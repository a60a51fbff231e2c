import { useState } from "preact/hooks";
import type { ActionName, EnvironmentView, ErrorView } from "../../src/dashboard/wire.js";
import { post } from "./api.js";

// The buttons of one environment. Each asks the server for the core operation of the
// same name; what it does then shows in the operations list, live, in every open tab.

export function Actions(props: { environment: EnvironmentView }) {
  const { environment } = props;
  const [refused, setRefused] = useState<ErrorView | undefined>();
  const [confirmDestroy, setConfirmDestroy] = useState(false);
  const [ttl, setTtl] = useState("4h");
  const [snapshot, setSnapshot] = useState("");
  const run = async (action: ActionName, body: Record<string, unknown> = {}) => {
    setRefused(undefined);
    const answer = await post(
      `/api/environments/${encodeURIComponent(environment.id)}/actions/${action}`,
      body,
    );
    if (answer.error) setRefused(answer.error);
  };
  const stopped = environment.state === "stopped";
  const latest = environment.snapshots.at(-1)?.name;
  // Another user's environment is shown, never changed (core would refuse: ENV_OWNED).
  const owner = environment.owner;
  if (owner && !owner.mine) {
    return (
      <p class="actions foreign" data-testid="actions">
        {owner.user ?? `uid ${owner.uid}`}'s environment (from {owner.checkout}): only its owner
        changes it.
      </p>
    );
  }
  return (
    <div class="actions" data-testid="actions">
      <div class="buttons">
        <button type="button" onClick={() => run("up")}>
          {stopped ? "Start" : "Up"}
        </button>
        <button type="button" onClick={() => run("down")} disabled={stopped}>
          Stop
        </button>
        <button
          type="button"
          onClick={() => run("snapshot-create", snapshot ? { snapshot } : {})}
          disabled={stopped}
        >
          Snapshot
        </button>
        <input
          class="short"
          placeholder="name (optional)"
          aria-label="snapshot name"
          value={snapshot}
          onInput={(event) => setSnapshot(event.currentTarget.value)}
        />
        <button
          type="button"
          onClick={() => run("snapshot-restore", latest ? { snapshot: latest } : {})}
          disabled={!latest || stopped}
          title={latest ? `restore ${latest}` : "no snapshot yet"}
        >
          Restore latest
        </button>
        <button
          type="button"
          onClick={() => run("rollback")}
          disabled={environment.releases.length === 0}
        >
          Rollback
        </button>
        <button
          type="button"
          onClick={() => run("rollback", { data: true })}
          disabled={environment.releases.length === 0}
        >
          Rollback + data
        </button>
        <button type="button" onClick={() => run("db-pull")} disabled={stopped}>
          DB pull (sanitized)
        </button>
        <button type="button" onClick={() => run("cache-purge")} disabled={stopped}>
          Purge caches
        </button>
        <button
          type="button"
          onClick={() => run("xdebug", { on: !environment.xdebug })}
          disabled={stopped}
        >
          Xdebug {environment.xdebug ? "off" : "on"}
        </button>
      </div>
      <div class="buttons">
        <input
          class="short"
          aria-label="lifetime"
          value={ttl}
          onInput={(event) => setTtl(event.currentTarget.value)}
        />
        <button type="button" onClick={() => run("ttl", { ttl })}>
          Set TTL
        </button>
        <button
          type="button"
          onClick={() => run("ttl", { ttl: "never" })}
          disabled={!environment.expiresAt}
        >
          Clear TTL
        </button>
        {environment.urls.mail ? (
          <a
            class="button"
            href={environment.urls["https:mail"] ?? environment.urls.mail}
            target="_blank"
            rel="noreferrer noopener"
          >
            Open mail{environment.mail ? ` (${environment.mail.caught})` : ""}
          </a>
        ) : null}
        {confirmDestroy ? (
          <>
            <button type="button" class="danger" onClick={() => run("destroy")}>
              Really destroy {environment.id}?
            </button>
            <button type="button" onClick={() => setConfirmDestroy(false)}>
              Keep it
            </button>
          </>
        ) : (
          <button type="button" class="danger" onClick={() => setConfirmDestroy(true)}>
            Destroy
          </button>
        )}
      </div>
      {refused ? (
        <p class="failure" role="alert">
          <code>error[{refused.code}]</code> {refused.message}
          {refused.hint ? <span class="hint"> hint: {refused.hint}</span> : null}
        </p>
      ) : null}
    </div>
  );
}
