/**
 * The DOM-safe entry of the package, `@tether/shared/protocol`: what a webview (or any code
 * with no Node built-ins) may import — error codes and their classification, TetherError, the
 * shared limits and defaults, tunnel-name rules. Nothing reachable from here imports a `node:`
 * module or uses `Buffer`, at run time or in its types; protocol.test.ts bundles it for the
 * browser and type-checks it against the DOM library alone to keep it so. The main entry,
 * `@tether/shared`, exports all of this too, with the codec, streams and sessions.
 */
export * from './errors.js';
export * from './error-class.js';
export * from './limits.js';
export * from './tunnel-name.js';
