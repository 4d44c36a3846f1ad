/** A tiny trend line (open findings after each scan), with the numbers for screen readers. */
export function Sparkline({ values, label }: { values: readonly number[]; label: string }) {
  if (values.length < 2) return <span className="muted text-xs">—</span>;
  const width = 96;
  const height = 24;
  const max = Math.max(...values, 1);
  const step = width / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(" ");
  const last = values[values.length - 1];
  const first = values[0];
  return (
    <span className="inline-flex items-center gap-2">
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${label}: ${values.join(", ")}`}>
        <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" className={last > first ? "text-red-500" : last < first ? "text-emerald-500" : "text-slate-400"} />
      </svg>
    </span>
  );
}

/** Open findings over time, one line per rule, as a small SVG chart with a legend and a table fallback. */
export function RuleTrendChart({ points, rules }: { points: { at: Date; byRule: Record<string, number> }[]; rules: string[] }) {
  const colors = ["#dc2626", "#d97706", "#0284c7", "#059669", "#7c3aed", "#db2777", "#475569", "#65a30d"];
  if (points.length < 2 || rules.length === 0) return <p className="muted text-sm">The chart appears after two completed scans.</p>;
  const width = 640;
  const height = 160;
  const max = Math.max(1, ...points.flatMap((p) => rules.map((r) => p.byRule[r] ?? 0)));
  const step = width / (points.length - 1);
  return (
    <figure>
      <svg viewBox={`0 0 ${width} ${height}`} className="h-40 w-full" role="img" aria-label="Open findings by rule after each scan">
        {rules.map((rule, i) => (
          <polyline
            key={rule}
            fill="none"
            stroke={colors[i % colors.length]}
            strokeWidth="2"
            points={points.map((p, j) => `${(j * step).toFixed(1)},${(height - 4 - ((p.byRule[rule] ?? 0) / max) * (height - 8)).toFixed(1)}`).join(" ")}
          />
        ))}
      </svg>
      <figcaption className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs">
        {rules.map((rule, i) => (
          <span key={rule} className="inline-flex items-center gap-1">
            <span className="inline-block size-2 rounded-full" style={{ backgroundColor: colors[i % colors.length] }} />
            <code>{rule}</code> {points[points.length - 1].byRule[rule] ?? 0}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
