export { createAnalytics, type Analytics, type AnalyticsOptions, type AnalyticsStats } from './engine.js';
