export * from './connect.js';
export * from './errors.js';
export * from './migrations.js';
export * from './portable.js';
export * from './prepared.js';
export type * from './schema.js';
export * from './search.js';
export * from './transaction.js';
