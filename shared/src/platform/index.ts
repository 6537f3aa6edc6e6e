export { batchFrameWrites } from './amqp-write-batching.js';
export * from './broker.js';
export { type AddressOrder, type BrokerAddresses, brokerAddresses, toConnectOptions } from './broker-addresses.js';
export * from './closers.js';
export * from './config.js';
export {
  ConfirmPublisher,
  type ExchangeToAssert,
  type OutgoingMessage,
  type PublisherSettings,
  type PublishOutcome,
} from './confirm-publisher.js';
export { beforeDeadline, settledBefore } from './confirm-waits.js';
export * from './database.js';
export { classifyDatabaseError, type DatabaseFailure } from './database-errors.js';
export { rejectWhileDraining } from './draining.js';
export { createExpressServer } from './express-server.js';
export * from './http.js';
export * from './in-flight.js';
export { refuseNonJsonBodies } from './json-only.js';
export * from './logger.js';
export * from './maintenance.js';
export { maskEmail } from './mask-email.js';
export * from './metrics.js';
export * from './micro-batcher.js';
export * from './migrations.js';
export { SERVICE_NODE_FLAGS } from './node-flags.js';
export { takeRandomBytes } from './random-pool.js';
export * from './request-logger.js';
export * from './request-trace.js';
export { scrubAddresses } from './scrub-addresses.js';
export * from './table-vacuum.js';
export * from './trace-context.js';
