export * from './contract/amqp-codec.js';
export * from './contract/notification-message.js';
export * from './contract/topology.js';
