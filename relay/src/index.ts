export { buildApp, type RelayApp } from './app.js';
export { startRelay, resolveAdminToken, type StartRelayOptions, type RunningRelay } from './server.js';
export { resolveLimits, defaultLimits, type RelayLimits, type RelayOptions } from './config.js';
export { Router, type RouterStats } from './router.js';
export { authorize, type Action } from './policy.js';
export { SqliteStore } from './sqlite-store.js';
export type { Store, UserRecord, TunnelRecord } from './store.js';
export type { Identity } from './identity.js';
export { generateToken, hashToken } from './tokens.js';
