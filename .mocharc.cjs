// Mocha runs the TypeScript sources through tsx; one Redis per run is started by the root hooks.
module.exports = {
  'node-option': ['import=tsx'],
  require: ['test/helpers/root-hooks.ts'],
  timeout: 20000,
  exit: false,
};
