import type { SparkPoint } from '@aiot/dashboard-api';

interface Props {
  points: SparkPoint[];
  label: string;
  unit: string;
  digits: number;
  width?: number;
  height?: number;
  step?: boolean;
}

/** A short inline-SVG line of the last hour, with its range; no chart library. */
export function Sparkline({ points, label, unit, digits, width = 260, height = 56, step = false }: Props) {
  const first = points.at(0);
  const latest = points.at(-1);
  if (!first || !latest) return <p class="spark-empty">no data in the last hour</p>;
  const ys = points.map((p) => p[1]);
  const x0 = first[0];
  const x1 = Math.max(latest[0], x0 + 1);
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const pad = 4;
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0)) * (width - 2 * pad);
  const sy = (y: number) => height - pad - ((y - lo) / (hi - lo)) * (height - 2 * pad);
  let d = '';
  points.forEach(([x, y], i) => {
    if (i === 0) d += `M${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
    else if (step) d += `H${sx(x).toFixed(1)}V${sy(y).toFixed(1)}`;
    else d += `L${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
  });
  const area = `${d}L${sx(latest[0]).toFixed(1)},${height - pad}L${sx(x0).toFixed(1)},${height - pad}Z`;
  const last = latest[1];
  const f = (v: number) => v.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const summary = `${label}, last hour: min ${f(Math.min(...ys))}, max ${f(Math.max(...ys))}, latest ${f(last)} ${unit}`.trim();
  return (
    <svg class="spark" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={summary} preserveAspectRatio="none">
      <title>{summary}</title>
      <path class="spark-area" d={area} />
      <path class="spark-line" d={d} />
      <circle class="spark-dot" cx={sx(latest[0])} cy={sy(last)} r="2.5" />
    </svg>
  );
}
