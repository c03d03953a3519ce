// Draws the polling benchmark as an SVG: one panel per job duration, each strategy a dot at
// (requests per job, p99 detection lateness), both axes logarithmic. Down and left is better.

const COLORS = ["#8a8f98", "#b07d2b", "#d1495b", "#2f6fb0", "#6a4c93", "#1f8a4c", "#0b9fb8"];
const PANEL = { width: 250, height: 230, left: 46, right: 12, top: 30, bottom: 40 };

const log = Math.log10;
const niceTicks = (min, max) => {
  const ticks = [];
  for (let e = Math.floor(log(min)); e <= Math.ceil(log(max)); e += 1) ticks.push(10 ** e);
  return ticks;
};
const label = (value, unit) => (value >= 1000 && unit === "ms" ? `${value / 1000} s` : `${value}${unit === "ms" ? " ms" : ""}`);

/** `rows`: [{ strategy, durationS, requests, p99Ms }] (gave-up rows are left out). */
export function pollingChart(rows, strategies, durations, title) {
  const shown = rows.filter((r) => Number.isFinite(r.requests) && Number.isFinite(r.p99Ms));
  const xs = shown.map((r) => r.requests);
  const ys = shown.map((r) => Math.max(r.p99Ms, 1));
  const [xMin, xMax] = [Math.min(...xs) / 1.5, Math.max(...xs) * 1.5];
  const [yMin, yMax] = [Math.min(...ys) / 2, Math.max(...ys) * 2];
  const innerW = PANEL.width - PANEL.left - PANEL.right;
  const innerH = PANEL.height - PANEL.top - PANEL.bottom;
  const x = (v) => PANEL.left + ((log(v) - log(xMin)) / (log(xMax) - log(xMin))) * innerW;
  const y = (v) => PANEL.top + innerH - ((log(Math.max(v, 1)) - log(yMin)) / (log(yMax) - log(yMin))) * innerH;

  const width = PANEL.width * durations.length;
  const legendTop = PANEL.height + 10;
  const height = legendTop + 22 * Math.ceil(strategies.length / 3) + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 24}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="16" font-size="13" font-weight="600">${escape(title)}</text>`,
    `<g transform="translate(0, 24)">`,
  ];
  durations.forEach((durationS, i) => {
    parts.push(`<g transform="translate(${i * PANEL.width}, 0)">`);
    parts.push(`<text x="${PANEL.left + innerW / 2}" y="16" text-anchor="middle" font-weight="600">D = ${durationS} s</text>`);
    parts.push(`<rect x="${PANEL.left}" y="${PANEL.top}" width="${innerW}" height="${innerH}" fill="#f7f8fb" stroke="#dde1ea"/>`);
    for (const t of niceTicks(xMin, xMax).filter((t) => t >= xMin && t <= xMax)) {
      parts.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${PANEL.top}" y2="${PANEL.top + innerH}" stroke="#e4e7ee"/>`);
      parts.push(`<text x="${x(t)}" y="${PANEL.top + innerH + 14}" text-anchor="middle" fill="#5d6577">${t}</text>`);
    }
    for (const t of niceTicks(yMin, yMax).filter((t) => t >= yMin && t <= yMax)) {
      parts.push(`<line x1="${PANEL.left}" x2="${PANEL.left + innerW}" y1="${y(t)}" y2="${y(t)}" stroke="#e4e7ee"/>`);
      parts.push(`<text x="${PANEL.left - 4}" y="${y(t) + 4}" text-anchor="end" fill="#5d6577">${label(t, "ms")}</text>`);
    }
    parts.push(`<text x="${PANEL.left + innerW / 2}" y="${PANEL.height - 8}" text-anchor="middle" fill="#5d6577">requests per job</text>`);
    for (const [s, strategy] of strategies.entries()) {
      const row = shown.find((r) => r.durationS === durationS && r.strategy === strategy);
      if (!row) continue;
      parts.push(`<circle cx="${x(row.requests)}" cy="${y(row.p99Ms)}" r="5" fill="${COLORS[s % COLORS.length]}" fill-opacity="0.9"><title>${escape(strategy)}: ${row.requests.toFixed(1)} requests, p99 ${Math.round(row.p99Ms)} ms</title></circle>`);
    }
    parts.push(`</g>`);
  });
  strategies.forEach((strategy, s) => {
    const cx = 16 + (s % 3) * 250;
    const cy = legendTop + 22 * Math.floor(s / 3);
    parts.push(`<circle cx="${cx}" cy="${cy}" r="5" fill="${COLORS[s % COLORS.length]}"/>`);
    parts.push(`<text x="${cx + 10}" y="${cy + 4}">${escape(strategy)}</text>`);
  });
  parts.push(`<text x="${width - 8}" y="${legendTop + 4}" text-anchor="end" fill="#5d6577">y: p99 detection lateness (log) · x: requests per job (log) · lower-left is better</text>`);
  parts.push(`</g></svg>`);
  return parts.join("\n");
}

function escape(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
