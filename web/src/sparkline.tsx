// A line of the last readings, scaled to its own maximum (or to `max` when given), drawn
// as SVG: no canvas, no inline style, nothing the CSP has to allow.

export function Sparkline(props: {
  values: (number | undefined)[];
  max?: number | undefined;
  label: string;
  width?: number;
  height?: number;
}) {
  const width = props.width ?? 120;
  const height = props.height ?? 24;
  const known = props.values.filter((value): value is number => value !== undefined);
  const top = Math.max(props.max ?? 0, ...known, 1e-9);
  const step = props.values.length > 1 ? width / (props.values.length - 1) : width;
  const points = props.values
    .map((value, index) =>
      value === undefined
        ? undefined
        : `${(index * step).toFixed(1)},${(height - 1 - (value / top) * (height - 2)).toFixed(1)}`,
    )
    .filter((point) => point !== undefined)
    .join(" ");
  return (
    <svg
      class="sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
    >
      <title>{props.label}</title>
      <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}
