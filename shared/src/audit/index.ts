export * from './audit-record.js';
export * from './checkpoint.js';
export * from './merkle.js';
export * from './verify-log.js';
