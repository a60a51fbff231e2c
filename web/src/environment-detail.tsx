import { useEffect, useState } from "preact/hooks";
import type {
  EnvironmentView,
  OperationView,
  TopologyView,
  UsageView,
} from "../../src/dashboard/wire.js";
import { Actions } from "./actions.js";
import { follow, getJson } from "./api.js";
import { Links } from "./environment-table.js";
import { ago, bytes, ttlLeft } from "./format.js";
import { LogView } from "./log-view.js";
import { Operations } from "./operations.js";
import { Sparkline } from "./sparkline.js";
import { Topology } from "./topology.js";

// One environment in full: its services with CPU and memory lines, its diagram, its
// snapshots, releases, data and mail, the buttons, its operations and its logs.

type Tab = "services" | "logs";

export function EnvironmentDetail(props: {
  environment: EnvironmentView;
  operations: OperationView[];
  now: number;
}) {
  const { environment, now } = props;
  const [tab, setTab] = useState<Tab>("services");
  return (
    <section class="detail" data-testid="detail" data-env={environment.id}>
      <header>
        <h2>
          {environment.project} <span class="name">{environment.name}</span>{" "}
          <span class={`state state-${environment.state}`}>{environment.state}</span>
        </h2>
        <p class="facts">
          {environment.backend} · {environment.preset} · created {ago(environment.createdAt, now)}{" "}
          ago
          {environment.expiresAt ? ` · TTL ${ttlLeft(environment.expiresAt, now)}` : " · no TTL"} ·{" "}
          <span class="path">{environment.codeRoot}</span> ·{" "}
          <span class="links">
            <Links urls={environment.urls} />
          </span>
        </p>
      </header>
      <Actions environment={environment} />
      <Operations operations={props.operations} />
      <nav class="tabs">
        <button
          type="button"
          class={tab === "services" ? "on" : ""}
          onClick={() => setTab("services")}
        >
          Services
        </button>
        <button type="button" class={tab === "logs" ? "on" : ""} onClick={() => setTab("logs")}>
          Logs
        </button>
      </nav>
      {tab === "services" ? (
        <div class="columns">
          <Services environment={environment} />
          <div>
            <TopologyPanel environment={environment} />
            <Facts environment={environment} now={now} />
          </div>
        </div>
      ) : (
        <LogView
          envId={environment.id}
          services={environment.services.map((service) => service.name)}
        />
      )}
    </section>
  );
}

function Services(props: { environment: EnvironmentView }) {
  const { environment } = props;
  const [usage, setUsage] = useState<UsageView[]>([]);
  useEffect(
    () =>
      follow<{ type: "usage"; usage: UsageView[] }>(
        `/api/environments/${encodeURIComponent(environment.id)}/usage`,
        (message) => setUsage(message.usage),
      ),
    [environment.id],
  );
  return (
    <table class="services" data-testid="services">
      <thead>
        <tr>
          <th>Service</th>
          <th>State</th>
          <th>Ports</th>
          <th>CPU</th>
          <th>Memory</th>
        </tr>
      </thead>
      <tbody>
        {environment.services.map((service) => {
          const points = usage.find((entry) => entry.service === service.name)?.points ?? [];
          const last = points.at(-1);
          return (
            <tr key={service.name} data-service={service.name}>
              <td>
                {service.name} <small>{service.role}</small>
              </td>
              <td>
                {service.state}
                {service.health !== "none" ? <small> {service.health}</small> : null}
              </td>
              <td>
                {service.ports.map((port) => (
                  <span key={`${port.name}-${port.hostPort}`} class="port">
                    {port.url ? (
                      <a href={port.url} target="_blank" rel="noreferrer noopener">
                        {port.name}
                      </a>
                    ) : (
                      port.name
                    )}{" "}
                    {port.hostIp}:{port.hostPort}
                  </span>
                ))}
              </td>
              <td class="usage">
                <Sparkline
                  values={points.map((point) => point.cpuPercent)}
                  label={`${service.name} CPU %`}
                />
                <small>
                  {last?.cpuPercent !== undefined
                    ? `${last.cpuPercent.toFixed(1)}%`
                    : last?.requestedCpuMillis !== undefined
                      ? `req ${last.requestedCpuMillis}m`
                      : ""}
                </small>
              </td>
              <td class="usage">
                <Sparkline
                  values={points.map((point) => point.memoryBytes)}
                  label={`${service.name} memory`}
                />
                <small>
                  {last?.memoryBytes !== undefined
                    ? bytes(last.memoryBytes)
                    : last?.requestedMemoryBytes !== undefined
                      ? `req ${bytes(last.requestedMemoryBytes)}`
                      : ""}
                </small>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function TopologyPanel(props: { environment: EnvironmentView }) {
  const [topology, setTopology] = useState<TopologyView | undefined>();
  const serviceNames = props.environment.services.map((service) => service.name).join(",");
  useEffect(() => {
    let current = true;
    getJson<{ topology: TopologyView }>(
      `/api/environments/${encodeURIComponent(props.environment.id)}/topology`,
    ).then(
      (answer) => current && setTopology(answer.topology),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [props.environment.id, serviceNames]);
  return topology ? <Topology topology={topology} /> : null;
}

function Facts(props: { environment: EnvironmentView; now: number }) {
  const { environment, now } = props;
  return (
    <dl class="facts-list">
      <dt>Data</dt>
      <dd>
        {environment.data
          ? `${environment.data.kind} from ${environment.data.source}, ${ago(environment.data.at, now)} ago, ${
              environment.data.sanitized === false
                ? "NOT sanitized"
                : environment.data.sanitized
                  ? "sanitized"
                  : "sanitizing not known"
            }`
          : "as the environment made it"}
      </dd>
      <dt>Owner</dt>
      <dd>
        {environment.owner
          ? `${environment.owner.mine ? "you" : (environment.owner.user ?? `uid ${environment.owner.uid}`)}, from ${environment.owner.checkout}`
          : "not recorded (made before owner records)"}
      </dd>
      <dt>Xdebug</dt>
      <dd>{environment.xdebug ? "on" : "off"}</dd>
      <dt>Snapshots</dt>
      <dd data-testid="snapshots">
        {environment.snapshots.length === 0
          ? "none"
          : environment.snapshots.map((snapshot) => (
              <span key={snapshot.name} class="chip">
                {snapshot.name} <small>{bytes(snapshot.bytes)}</small>
              </span>
            ))}
      </dd>
      <dt>Releases kept</dt>
      <dd>
        {environment.releases.length === 0
          ? "none"
          : environment.releases.map((release) => (
              <span key={release.id} class="chip">
                {release.id}
                {release.dataSnapshot ? <small> + data</small> : null}
              </span>
            ))}
      </dd>
      <dt>Mail</dt>
      <dd data-testid="mail">
        {environment.mail ? (
          <>
            {environment.mail.caught} caught
            <ul class="mail">
              {environment.mail.latest.map((message, index) => (
                <li key={`${index}-${message.at}`}>
                  <span class="subject">{message.subject || "(no subject)"}</span>{" "}
                  <small>{message.from}</small>
                </li>
              ))}
            </ul>
          </>
        ) : (
          "no catcher running"
        )}
      </dd>
    </dl>
  );
}
