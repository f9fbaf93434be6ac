// The wire contract: every request, response and worker message, as zod schemas with
// same-named types. Imported by server, worker and client alike; it does no I/O.
export * from './states.js';
export * from './errors.js';
export * from './version.js';
export * from './auth.js';
export * from './bundles.js';
export * from './worksheets.js';
export * from './queues.js';
export * from './workers.js';
export * from './routes.js';
export * from './bundle-ops.js';
export * from './live-runs.js';
export * from './limits.js';
export * from './accounts.js';
export * from './groups.js';
export * from './staged-runs.js';
