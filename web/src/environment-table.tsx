import type { EnvironmentView } from "../../src/dashboard/wire.js";
import { ago, ttlLeft } from "./format.js";

// One row per environment: what it is, how it is, where to reach it. Every value is
// rendered as text by Preact (never as markup): names and labels are hostile input.

export function EnvironmentTable(props: {
  environments: EnvironmentView[];
  selected: string | undefined;
  now: number;
  onSelect: (id: string) => void;
}) {
  return (
    <table class="environments" data-testid="environments">
      <thead>
        <tr>
          <th>Environment</th>
          <th>State</th>
          <th>Services</th>
          <th>Backend</th>
          <th>Open</th>
          <th>Age</th>
          <th>TTL</th>
          <th>Data</th>
          <th title="snapshots / releases kept / caught mail">Snap · Rel · Mail</th>
        </tr>
      </thead>
      <tbody>
        {props.environments.map((environment) => (
          <Row
            key={environment.id}
            environment={environment}
            now={props.now}
            selected={environment.id === props.selected}
            onSelect={props.onSelect}
          />
        ))}
      </tbody>
    </table>
  );
}

function Row(props: {
  environment: EnvironmentView;
  now: number;
  selected: boolean;
  onSelect: (id: string) => void;
}) {
  const { environment, now } = props;
  const open = () => props.onSelect(environment.id);
  return (
    <tr
      class={props.selected ? "selected" : ""}
      data-env={environment.id}
      data-state={environment.state}
      tabIndex={0}
      onClick={open}
      onKeyDown={(event) => event.key === "Enter" && open()}
    >
      <td>
        <span class="project">{environment.project}</span>
        <span class="name">{environment.name}</span>
        {environment.owner && !environment.owner.mine ? (
          <span
            class="owner"
            title={`made by ${environment.owner.user ?? `uid ${environment.owner.uid}`}`}
          >
            {environment.owner.user ?? `uid ${environment.owner.uid}`}
          </span>
        ) : null}
      </td>
      <td>
        <span class={`state state-${environment.state}`}>{environment.state}</span>
        {environment.kept ? <span class="badge">kept</span> : null}
        {environment.sleeping ? <span class="badge">asleep</span> : null}
      </td>
      <td class="dots">
        {environment.services.map((service) => (
          <span
            key={service.name}
            class={`dot ${dotClass(service.state, service.health)}`}
            title={`${service.name}: ${service.state}${service.health !== "none" ? `, ${service.health}` : ""}`}
          />
        ))}
        <span class="count">{environment.services.length}</span>
      </td>
      <td>
        {environment.backend}
        <small>{environment.preset}</small>
      </td>
      <td class="links">
        <Links urls={environment.urls} />
      </td>
      <td>{ago(environment.createdAt, now)}</td>
      <td class={environment.expiresAt && Date.parse(environment.expiresAt) < now ? "expired" : ""}>
        {ttlLeft(environment.expiresAt, now)}
      </td>
      <td>
        {environment.data ? (
          <span class={environment.data.sanitized === false ? "badge danger" : "badge"}>
            {environment.data.sanitized === false ? "UNSANITIZED" : environment.data.kind}
          </span>
        ) : null}
        {environment.xdebug ? <span class="badge">xdebug</span> : null}
      </td>
      <td class="numbers">
        {environment.snapshots.length} · {environment.releases.length} ·{" "}
        {environment.mail ? environment.mail.caught : "–"}
      </td>
    </tr>
  );
}

/** The environment's web, https and mail links (opened without a Referer). */
export function Links(props: { urls: Record<string, string> }) {
  const shown = Object.entries(props.urls).filter(([, url]) => /^https?:\/\//.test(url));
  return (
    <>
      {shown.map(([name, url]) => (
        <a
          key={name}
          href={url}
          target="_blank"
          rel="noreferrer noopener"
          onClick={(event) => event.stopPropagation()}
        >
          {name}
        </a>
      ))}
    </>
  );
}

export function dotClass(state: string, health: string): string {
  if (state !== "running") return "dot-stopped";
  if (health === "unhealthy") return "dot-bad";
  if (health === "starting") return "dot-starting";
  return "dot-ok";
}
