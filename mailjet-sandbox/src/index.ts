export { SANDBOX_CREDENTIAL_NAMES } from './config.js';
export { DEFAULT_MAX_TALLIED, DeliveryTally, type TallySnapshot } from './delivery-tally.js';
export {
  FAIL_STATUSES,
  type FailStatus,
  type FaultSettings,
  FaultSettingsError,
  type FaultSettingsInput,
} from './fault-settings.js';
export { escapeHtml } from './inbox-page.js';
export { MESSAGE_HREF_PREFIX } from './mailjet-ids.js';
export {
  DEFAULT_MAX_STORED,
  DEFAULT_MAX_STORED_BYTES,
  jsonWeight,
  type MessageFilter,
  MessageStore,
  type StoredMessage,
  type StoredRecipient,
  trackingIdOf,
} from './message-store.js';
export type { ProviderFaultsInput, SandboxFaults } from './provider-faults.js';
export { isSandboxProvider, SANDBOX_PROVIDERS, type SandboxProvider } from './providers.js';
export type { SandboxStats, SendStatsSnapshot } from './send-stats.js';
export { SENDGRID_SEND_PATH } from './sendgrid-endpoint.js';
export { SEND_PATH } from './server.js';
export {
  DEFAULT_API_KEY,
  DEFAULT_API_SECRET,
  DEFAULT_HOST,
  DEFAULT_SENDGRID_API_KEY,
  type Sandbox,
  type SandboxOptions,
  startSandbox,
} from './start-sandbox.js';
