/** A small line chart of one series over time (SVG, no library). */
export function LineChart({ points, label, unit }: { points: { t: number; v: number }[]; label: string; unit?: string }) {
  const width = 300, height = 110, pad = 22;
  if (points.length === 0) return null;
  const t0 = points[0].t, t1 = Math.max(points[points.length - 1].t, t0 + 1);
  const max = Math.max(...points.map((p) => p.v), 0) || 1;
  const x = (t: number) => pad + ((t - t0) / (t1 - t0)) * (width - pad - 4);
  const y = (v: number) => height - pad - (v / max) * (height - pad - 8);
  const line = points.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
  const area = `${line} L${x(points[points.length - 1].t).toFixed(1)},${height - pad} L${x(t0).toFixed(1)},${height - pad} Z`;
  const last = points[points.length - 1].v;
  return (
    <figure style={{ margin: 0 }}>
      <svg className="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${label}: ${last}${unit ?? ""} now, ${points.length} samples`}>
        <line className="axis" x1={pad} y1={height - pad} x2={width - 4} y2={height - pad} />
        <path className="area" d={area} />
        <path className="line" d={line} />
        {points.length === 1 && <circle cx={x(points[0].t)} cy={y(points[0].v)} r="3" fill="var(--primary)" />}
        <text x={2} y={12}>{max.toLocaleString(undefined, { maximumFractionDigits: 2 })}</text>
        <text x={2} y={height - pad}>0</text>
        <text x={pad} y={height - 6}>{new Date(t0).toLocaleTimeString()}</text>
        <text x={width - 4} y={height - 6} textAnchor="end">{new Date(t1).toLocaleTimeString()}</text>
      </svg>
    </figure>
  );
}
