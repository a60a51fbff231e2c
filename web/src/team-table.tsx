import type { TeamEnvironmentView, TeamView } from "../../src/dashboard/wire.js";
import { ttlLeft } from "./format.js";

// Everyone's environments on the team clusters (one row per prodlike namespace), with
// owner, lifetime, state and preset, and a warning per context that did not answer.
// Another owner's row is read-only: no buttons, nothing to open. The user's own (recorded
// here) links to its row in the local list, where its actions are. Every value, the
// context's name included, is hostile text: Preact puts it in the DOM as text.

export function TeamTable(props: {
  team: TeamView;
  /** Ids in the local list: the user's own rows open there. */
  local: ReadonlySet<string>;
  now: number;
  onSelect: (id: string) => void;
}) {
  const { environments, warnings } = props.team;
  if (environments.length === 0 && warnings.length === 0) return null;
  return (
    <section class="team" data-testid="team">
      <h2>On team clusters</h2>
      {environments.length > 0 ? (
        <table class="environments team-environments">
          <thead>
            <tr>
              <th>Environment</th>
              <th>Owner</th>
              <th>State</th>
              <th>Preset</th>
              <th>TTL</th>
              <th>Team cluster</th>
            </tr>
          </thead>
          <tbody>
            {environments.map((found) => (
              <TeamRow
                key={`${found.context}\0${found.namespace}`}
                found={found}
                now={props.now}
                openable={found.recorded && props.local.has(found.env)}
                onSelect={props.onSelect}
              />
            ))}
          </tbody>
        </table>
      ) : (
        <p class="empty">No prodlike namespace on the team clusters.</p>
      )}
      {warnings.map((warning) => (
        <p class="team-warning" key={`${warning.context}\0${warning.problem}`}>
          ! <span class="context">{warning.context}</span>: {warning.problem}
        </p>
      ))}
    </section>
  );
}

function TeamRow(props: {
  found: TeamEnvironmentView;
  now: number;
  openable: boolean;
  onSelect: (id: string) => void;
}) {
  const { found, now } = props;
  const expired = found.expiresAt !== undefined && Date.parse(found.expiresAt) < now;
  return (
    <tr
      data-team-context={found.context}
      data-team-namespace={found.namespace}
      data-team-env={found.env}
      data-mine={String(found.recorded)}
      class="team-row"
    >
      <td>
        <span class="project">{found.project}</span>
        <span class="env">{found.env}</span>
        {props.openable ? (
          <button type="button" class="open-own" onClick={() => props.onSelect(found.env)}>
            yours: open
          </button>
        ) : found.recorded ? (
          <span class="badge">yours</span>
        ) : (
          <span class="badge" title="another owner's environment: listed, never changed here">
            read-only
          </span>
        )}
      </td>
      <td class="team-owner">{found.owner}</td>
      <td>
        <span class={`state state-${found.terminating ? "deleting" : "active"}`}>
          {found.terminating ? "deleting" : "active"}
        </span>
        {found.kept ? <span class="badge">kept</span> : null}
      </td>
      <td>{found.preset}</td>
      <td class={expired ? "expired" : ""}>{ttlLeft(found.expiresAt, now)}</td>
      <td>
        team cluster: <span class="context">{found.context}</span>
        <small>{found.namespace}</small>
      </td>
    </tr>
  );
}
