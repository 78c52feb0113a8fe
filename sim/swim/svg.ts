/**
 * Line charts as standalone SVG, written by hand (no plotting dependency): axes with
 * rounded ticks, one polyline per series, a legend, and vertical markers for events.
 */

export interface Series {
  name: string
  points: Array<[number, number]>
}

export interface Chart {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  /** Vertical lines at x, labelled (fault events). */
  markers?: Array<{ x: number, label: string }>
  /** Force the y range to start at 0. @default true */
  yFromZero?: boolean
  /** Plot points as dots as well as lines (for few points). @default false */
  dots?: boolean
}

const WIDTH = 760
const HEIGHT = 300
const MARGIN = { left: 70, right: 160, top: 36, bottom: 46 }
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf']

function escape (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** About `count` round tick values covering [lo, hi]. */
export function ticks (lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return []
  if (hi <= lo) return [lo]
  const raw = (hi - lo) / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}

function format (v: number): string {
  const a = Math.abs(v)
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`
  return Number(v.toPrecision(4)).toString()
}

function chartBody (chart: Chart, offsetY: number): string {
  const pts = chart.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  const xs = pts.map((p) => p[0])
  const ys = pts.map((p) => p[1])
  let x0 = xs.length > 0 ? Math.min(...xs) : 0
  let x1 = xs.length > 0 ? Math.max(...xs) : 1
  let y0 = chart.yFromZero === false && ys.length > 0 ? Math.min(...ys) : 0
  let y1 = ys.length > 0 ? Math.max(...ys) : 1
  if (x1 === x0) { x0 -= 1; x1 += 1 }
  if (y1 === y0) { y1 = y0 + 1 }
  y1 += (y1 - y0) * 0.05
  const pw = WIDTH - MARGIN.left - MARGIN.right
  const ph = HEIGHT - MARGIN.top - MARGIN.bottom
  const sx = (x: number): number => MARGIN.left + ((x - x0) / (x1 - x0)) * pw
  const sy = (y: number): number => offsetY + MARGIN.top + ph - ((y - y0) / (y1 - y0)) * ph
  const out: string[] = []
  out.push(`<text x="${WIDTH / 2}" y="${offsetY + 20}" text-anchor="middle" font-size="15" font-weight="bold">${escape(chart.title)}</text>`)
  for (const t of ticks(y0, y1)) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`)
    out.push(`<text x="${MARGIN.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${format(t)}</text>`)
  }
  for (const t of ticks(x0, x1, 8)) {
    out.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${offsetY + MARGIN.top + ph}" y2="${offsetY + MARGIN.top + ph + 4}" stroke="#333"/>`)
    out.push(`<text x="${sx(t)}" y="${offsetY + MARGIN.top + ph + 17}" text-anchor="middle" font-size="11">${format(t)}</text>`)
  }
  out.push(`<rect x="${MARGIN.left}" y="${offsetY + MARGIN.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`)
  out.push(`<text x="${MARGIN.left + pw / 2}" y="${offsetY + HEIGHT - 8}" text-anchor="middle" font-size="12">${escape(chart.xLabel)}</text>`)
  out.push(`<text transform="translate(16 ${offsetY + MARGIN.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escape(chart.yLabel)}</text>`)
  for (const m of chart.markers ?? []) {
    if (m.x < x0 || m.x > x1) continue
    out.push(`<line x1="${sx(m.x)}" x2="${sx(m.x)}" y1="${offsetY + MARGIN.top}" y2="${offsetY + MARGIN.top + ph}" stroke="#888" stroke-dasharray="4 3"/>`)
    out.push(`<text x="${sx(m.x) + 3}" y="${offsetY + MARGIN.top + 11}" font-size="10" fill="#555">${escape(m.label)}</text>`)
  }
  chart.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    const valid = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
    if (valid.length > 0) {
      const d = valid.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${d}"/>`)
      if (chart.dots === true) for (const [x, y] of valid) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"/>`)
    }
    const ly = offsetY + MARGIN.top + 14 + i * 18
    out.push(`<line x1="${WIDTH - MARGIN.right + 12}" x2="${WIDTH - MARGIN.right + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`)
    out.push(`<text x="${WIDTH - MARGIN.right + 37}" y="${ly}" font-size="11">${escape(s.name)}</text>`)
  })
  return out.join('\n')
}

/** Charts stacked vertically in one SVG document. */
export function svgDocument (charts: Chart[]): string {
  const height = HEIGHT * Math.max(1, charts.length)
  const body = charts.map((c, i) => chartBody(c, i * HEIGHT)).join('\n')
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${body}
</svg>
`
}
