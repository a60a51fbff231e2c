import type { TopologyView } from "../../src/dashboard/wire.js";

// The environment as a small diagram: services in columns by what they wait for (the
// entry point on the left, the database on the right), an arrow from each service to
// those it talks to, its volumes below.

const BOX_W = 120;
const BOX_H = 30;
const GAP_X = 50;
const GAP_Y = 18;

export function layout(topology: TopologyView): Map<string, { x: number; y: number }> {
  const byName = new Map(topology.services.map((service) => [service.name, service]));
  const depth = new Map<string, number>();
  // The longest chain of what depends on a service: a service nothing waits for is 0.
  const level = (name: string, seen: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0;
    seen.add(name);
    const users = topology.services.filter((service) => service.dependsOn.includes(name));
    const value =
      users.length === 0 ? 0 : 1 + Math.max(...users.map((user) => level(user.name, seen)));
    depth.set(name, value);
    return value;
  };
  const rows = new Map<number, number>();
  const positions = new Map<string, { x: number; y: number }>();
  for (const name of byName.keys()) {
    const column = level(name, new Set());
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    positions.set(name, { x: 10 + column * (BOX_W + GAP_X), y: 10 + row * (BOX_H + GAP_Y) });
  }
  return positions;
}

export function Topology(props: { topology: TopologyView }) {
  const { topology } = props;
  const positions = layout(topology);
  const width = Math.max(...[...positions.values()].map((p) => p.x + BOX_W), 200) + 10;
  const servicesHeight = Math.max(...[...positions.values()].map((p) => p.y + BOX_H), 40);
  const volumeY = servicesHeight + 40;
  const volumeX = new Map(
    topology.volumes.map((volume, index) => [volume, 10 + index * (BOX_W + 10)]),
  );
  const height = topology.volumes.length > 0 ? volumeY + BOX_H + 10 : servicesHeight + 10;
  return (
    <svg
      class="topology"
      data-testid="topology"
      width={Math.max(width, topology.volumes.length * (BOX_W + 10) + 10)}
      height={height}
      role="img"
    >
      <title>Services, what talks to what, and volumes</title>
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="10"
          refY="5"
          markerWidth="6"
          markerHeight="6"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" fill="currentColor" />
        </marker>
      </defs>
      {topology.services.flatMap((service) => {
        const from = positions.get(service.name);
        return service.dependsOn.map((target) => {
          const to = positions.get(target);
          if (!from || !to) return null;
          return (
            <line
              key={`${service.name}->${target}`}
              class="edge"
              x1={from.x + BOX_W}
              y1={from.y + BOX_H / 2}
              x2={to.x}
              y2={to.y + BOX_H / 2}
              marker-end="url(#arrow)"
            />
          );
        });
      })}
      {topology.services.flatMap((service) => {
        const from = positions.get(service.name);
        return service.volumes.map((volume) => {
          const x = volumeX.get(volume);
          if (!from || x === undefined) return null;
          return (
            <line
              key={`${service.name}~${volume}`}
              class="mount"
              x1={from.x + BOX_W / 2}
              y1={from.y + BOX_H}
              x2={x + BOX_W / 2}
              y2={volumeY}
            />
          );
        });
      })}
      {topology.services.map((service) => {
        const at = positions.get(service.name);
        if (!at) return null;
        return (
          <g key={service.name} class={`node role-${service.role || "other"}`}>
            <rect x={at.x} y={at.y} width={BOX_W} height={BOX_H} rx="4" />
            <text x={at.x + 8} y={at.y + 19}>
              {service.name}
            </text>
          </g>
        );
      })}
      {topology.volumes.map((volume) => (
        <g key={volume} class="volume">
          <rect x={volumeX.get(volume) ?? 0} y={volumeY} width={BOX_W} height={BOX_H} rx="12" />
          <text x={(volumeX.get(volume) ?? 0) + 8} y={volumeY + 19}>
            {volume.length > 16 ? `${volume.slice(0, 15)}…` : volume}
          </text>
        </g>
      ))}
    </svg>
  );
}
