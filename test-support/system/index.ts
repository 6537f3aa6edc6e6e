// The system harness: the real services as processes, load, faults and the checks that nothing
// was lost. Used by the fault suite (faults/) and meant for the benchmark. See README.md here.
export * from './broker-tools.js';
export * from './database.js';
export * from './foreign-publisher.js';
export * from './history.js';
export * from './load-generator.js';
export * from './ports.js';
export * from './postgres-node.js';
export * from './rabbitmq-node.js';
export * from './results-table.js';
export * from './sandbox-client.js';
export * from './service-process.js';
export * from './system.js';
export * from './verifier.js';
