// Mocha runs the TypeScript sources through tsx; one Redis per run is started by the root hooks.
// A skipped (pending) or exclusive (.only) test fails the run: a test that cannot run must say so.
module.exports = {
  'node-option': ['import=tsx'],
  require: ['test/helpers/root-hooks.ts'],
  timeout: 20000,
  exit: false,
  'forbid-pending': true,
  'forbid-only': true,
};
