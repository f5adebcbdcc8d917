import { lang, t } from './i18n.js';

export const locale = () => (lang() === 'zh' ? 'zh-CN' : 'en-GB');

export const fmtTime = (ms) => (ms === null || ms === undefined ? '—' : new Date(ms).toLocaleString(locale(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }));
export const fmtDay = (ms) => (ms === null || ms === undefined ? '—' : new Date(ms).toLocaleDateString(locale(), { year: 'numeric', month: '2-digit', day: '2-digit' }));
export const pct = (x, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(digits)}%`);

/** A bilingual text from the API ({zh, en}) in the chosen language. */
export const tr = (text) => (text ? (lang() === 'zh' ? text.zh : text.en) ?? text.en ?? text.zh ?? '' : '');

export const GRADES = ['A', 'B', 'C', 'D', 'none'];
export const SEVERITIES = ['critical', 'major', 'minor', 'warning'];

/** A grade chip: colour and a text label, so the grade never depends on colour alone (WCAG 2.2, 1.4.1). */
export function gradeLabel(g) {
  return `${g === 'none' || g === null ? '–' : g} ${t(`grade.${g ?? 'none'}`)}`;
}
