// One argon2 task in a worker thread of the pool in src/modules/auth/argon2-pool.ts. Plain JavaScript
// beside src/ and dist/, so that the same file runs under the tests (from src/) and in production (dist/).
const { hashSync, verifySync } = require('@node-rs/argon2');

module.exports = ({ op, password, hash, options }) =>
  op === 'hash' ? hashSync(password, options) : verifySync(hash, password);
