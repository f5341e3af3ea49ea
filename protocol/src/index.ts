export * from './measurements.js';
export * from './check-report.js';
export * from './events.js';
