import uPlot from '/app/vendor/uplot/uPlot.esm.js';
import { locale } from './format.js';
import { t } from './i18n.js';

// Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
export const OKABE_ITO = { black: '#000000', orange: '#E69F00', sky: '#56B4E9', green: '#009E73', yellow: '#F0E442', blue: '#0072B2', vermillion: '#D55E00', purple: '#CC79A7' };

const width = (el) => Math.max(280, Math.floor(el.getBoundingClientRect().width || el.parentElement?.getBoundingClientRect().width || 600));
const sec = (ms) => ms / 1000;

function fmtDate(ms) {
  return new Date(ms).toLocaleDateString(locale(), { month: 'short', day: 'numeric' });
}

/** Time-axis labels: dates for ticks a day or more apart, date and hour for finer ones. */
const timeTicks = (_u, vals, _axis, _space, incr) =>
  vals.map((v) =>
    incr >= 86_400
      ? fmtDate(v * 1000)
      : `${fmtDate(v * 1000)}\n${new Date(v * 1000).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' })}`,
  );

/** Alerts opened per day, as bars. */
export function alertsPerDayChart(el, series) {
  const xs = series.map((p) => sec(p.day));
  const ys = series.map((p) => p.count);
  return new uPlot(
    {
      width: width(el),
      height: 200,
      legend: { show: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, max * 1.15)] } },
      axes: [{ values: timeTicks, space: 70 }, { label: t('chart.alerts') }],
      series: [{}, { label: t('chart.alerts'), fill: OKABE_ITO.blue + 'cc', stroke: OKABE_ITO.blue, paths: uPlot.paths.bars({ size: [0.7, 40] }), points: { show: false } }],
    },
    [xs, ys],
    el,
  );
}

/**
 * The error estimate in MPE units: the estimate, its 95 % band (±1.96 sd, a normal coverage
 * factor as in JCGM 100:2008 (GUM) 6.3), the ±MPE lines at ±1, and the projected crossing date
 * drawn as a dashed line from the newest estimate to ±1.
 */
export function estimateChart(el, items, crossingAt) {
  const xs = items.map((p) => sec(p.ts));
  const r = items.map((p) => p.ratio);
  const hi = items.map((p) => p.ratio + 1.96 * p.sd);
  const lo = items.map((p) => p.ratio - 1.96 * p.sd);
  const proj = items.map(() => null);
  const last = items.at(-1);
  if (last && crossingAt && crossingAt > last.ts) {
    proj[proj.length - 1] = last.ratio;
    xs.push(sec(crossingAt));
    r.push(null);
    hi.push(null);
    lo.push(null);
    proj.push(last.ratio >= 0 ? 1 : -1);
  }
  const plus = xs.map(() => 1);
  const minus = xs.map(() => -1);
  // The scale follows the estimate (and ±MPE), not the band: a wide band is clipped rather
  // than squashing the estimate into a flat line.
  const absMax = Math.max(1.25, ...r.filter((v) => v !== null).map((v) => Math.abs(v) * 1.15));
  const first = xs[0] ?? 0;
  const lastX = xs.at(-1) ?? 0;
  // one estimate alone gets a day either side, so the time axis stays readable
  const xRange = lastX - first < 3600 ? [first - 86_400, lastX + 86_400] : null;
  return new uPlot(
    {
      width: width(el),
      height: 280,
      scales: { x: xRange ? { time: true, range: xRange } : { time: true }, y: { range: [-absMax, absMax] } },
      axes: [{ values: timeTicks, space: 70 }, { label: t('chart.ratio'), values: (_u, vals) => vals.map((v) => `${Math.round(v * 100)}%`) }],
      series: [
        { value: (_u, v) => (v === null ? '—' : new Date(v * 1000).toLocaleString(locale())) },
        { label: t('chart.estimate'), stroke: OKABE_ITO.blue, width: 2, value: (_u, v) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`) },
        { label: t('chart.bandHi'), stroke: OKABE_ITO.sky, width: 1, value: (_u, v) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`) },
        { label: t('chart.bandLo'), stroke: OKABE_ITO.sky, width: 1, value: (_u, v) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`) },
        { label: '+MPE', stroke: OKABE_ITO.vermillion, dash: [8, 4], width: 1.5, points: { show: false } },
        { label: '−MPE', stroke: OKABE_ITO.vermillion, dash: [8, 4], width: 1.5, points: { show: false } },
        { label: t('chart.projection'), stroke: OKABE_ITO.orange, dash: [3, 3], width: 2, spanGaps: true },
      ],
      bands: [{ series: [2, 3], fill: OKABE_ITO.sky + '55' }],
    },
    [xs, r, hi, lo, plus, minus, proj],
    el,
  );
}

/** The field a reading chart shows per kind, with its unit. */
export const READING_FIELD = { meter: ['powerW', 'W'], dispenser: ['volumeL', 'L'], tank: ['volumeL', 'L'], scale: ['zeroKg', 'kg'] };

/** Readings as the API serves them: raw points, or downsampled buckets drawn as mean with a min–max band. */
export function readingsChart(el, kind, page) {
  const [field, unit] = READING_FIELD[kind] ?? ['value', ''];
  const xs = page.items.map((p) => sec(p.ts));
  const series = [{}];
  const data = [xs];
  if (page.downsampled) {
    data.push(page.items.map((b) => b.max?.[field] ?? null), page.items.map((b) => b.min?.[field] ?? null), page.items.map((b) => b.mean?.[field] ?? null));
    series.push({ label: t('chart.max'), stroke: OKABE_ITO.sky, width: 1 }, { label: t('chart.min'), stroke: OKABE_ITO.sky, width: 1 }, { label: `${t('chart.mean')} ${field} (${unit})`, stroke: OKABE_ITO.green, width: 2 });
  } else {
    data.push(page.items.map((p) => p[field] ?? null));
    series.push({ label: `${field} (${unit})`, stroke: OKABE_ITO.green, width: 1.5 });
  }
  return new uPlot(
    {
      width: width(el),
      height: 220,
      scales: { x: { time: true } },
      axes: [{ values: timeTicks, space: 70 }, { label: unit }],
      series,
      bands: page.downsampled ? [{ series: [1, 2], fill: OKABE_ITO.sky + '44' }] : [],
    },
    data,
    el,
  );
}

/**
 * The plan's operating characteristic: P(accept) over the lot's fraction nonconforming p
 * (ISO 2859-1, 3.1.26; ISO 2859-2, 4), with the plan's AQL or LQ drawn as labelled vertical lines.
 */
export function ocChart(el, points, marks = []) {
  const xs = points.map((p) => p.p * 100);
  const ys = points.map((p) => p.pAccept);
  const colours = [OKABE_ITO.green, OKABE_ITO.vermillion];
  const drawMarks = (u) => {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.font = `${12 * devicePixelRatio}px sans-serif`;
    marks.forEach((m, i) => {
      const x = u.valToPos(m.p * 100, 'x', true);
      if (x < bbox.left || x > bbox.left + bbox.width) return;
      ctx.strokeStyle = colours[i % colours.length];
      ctx.fillStyle = colours[i % colours.length];
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.fillText(m.label, x + 4 * devicePixelRatio, bbox.top + (14 + 14 * i) * devicePixelRatio);
    });
    ctx.restore();
  };
  return new uPlot(
    {
      width: width(el),
      height: 260,
      scales: { x: { time: false }, y: { range: [0, 1.02] } },
      axes: [
        { label: t('sampling.p'), values: (_u, vals) => vals.map((v) => `${+v.toFixed(2)}%`) },
        { label: t('sampling.pAccept'), values: (_u, vals) => vals.map((v) => `${Math.round(v * 100)}%`) },
      ],
      series: [
        { label: 'p', value: (_u, v) => (v === null ? '—' : `${v.toFixed(2)}%`) },
        { label: t('sampling.pAccept'), stroke: OKABE_ITO.blue, fill: OKABE_ITO.blue + '22', width: 2.5, points: { show: false }, value: (_u, v) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`) },
      ],
      hooks: { draw: [drawMarks] },
    },
    [xs, ys],
    el,
  );
}
