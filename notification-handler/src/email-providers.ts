import { type Logger, redactUrl } from '@notify/shared/platform';
import { batchingEmailProvider, oneEmailPerCall } from './batching/batching-email-provider.js';
import type { HandlerConfig, ProviderName } from './config.js';
import type { EmailProvider, EmailProviderAdapter } from './domain/email-provider.js';
import { type ProviderRouter, routeProviders } from './failover/provider-router.js';
import { createMailjetEmailProvider } from './mailjet/mailjet-email-provider.js';
import { guardProvider } from './provider-guard/guard-provider.js';
import type { ProviderCall } from './provider-guard/provider-call.js';
import { createSendGridEmailProvider } from './sendgrid/sendgrid-email-provider.js';

export type EmailProviderDeps = {
  log: Logger;
  /** Told of every call asked of a provider's guard (metrics). */
  onCall: (call: ProviderCall) => void;
  /** Adapters to use instead of the real ones, by provider name (tests). */
  adapters?: Partial<Record<ProviderName, EmailProvider>>;
};

export type EmailProviders = ProviderRouter & {
  /** Closes the real adapters' connections to their providers: on stop, once no send is in flight. */
  closeConnections: () => void;
  /** Ends every wait for a provider's rate slot and lets no call start: on stop, before draining. */
  stopCalls: () => void;
};

/**
 * The providers EMAIL_PROVIDERS names, in its order, each as adapter → guard (its own breaker and
 * call-rate limit) → its call shape (Mailjet: up to 50 emails a call from concurrent
 * notifications; SendGrid: one request per email), behind one router that fails over between them.
 */
export function createEmailProviders(config: HandlerConfig, deps: EmailProviderDeps): EmailProviders {
  const { log } = deps;
  const failover = config.providers.length > 1;
  const connectionClosers: Array<() => void> = [];
  const routed = config.providers.map((name) => {
    warnIfSandboxed(name, config, log);
    const adapter = deps.adapters?.[name] ?? closedOnStop(createAdapter(name, config, log));
    const guarded = guardProvider(adapter, {
      name,
      ...config.providerGuard,
      maxCallsPerSecond: config.maxCallsPerSecond[name],
      callTimeoutMs: config[name].timeoutMs,
      log,
      onCall: deps.onCall,
      failover,
      pacedByCaller: name === 'mailjet',
    });
    // A batch is formed once its call may go, so that calls paced by the rate limit carry all that
    // gathered meanwhile (up to 50) instead of many small calls waiting in line.
    const provider =
      name === 'mailjet'
        ? batchingEmailProvider(guarded, config.MAILJET_MAX_CONCURRENT_CALLS, guarded.takeCallSlot)
        : oneEmailPerCall(guarded);
    return { name, provider, onBreakerChange: guarded.onBreakerChange, stopCalls: guarded.stopCalls };
  });
  const closeConnections = () => {
    for (const close of connectionClosers) close();
  };
  const stopCalls = () => {
    for (const { stopCalls: stop } of routed) stop();
  };
  return { ...routeProviders(routed, log), closeConnections, stopCalls };

  /** The adapter, its connections now among those `closeConnections` closes. */
  function closedOnStop(adapter: EmailProviderAdapter): EmailProvider {
    connectionClosers.push(adapter.closeConnections);
    return adapter;
  }
}

function createAdapter(name: ProviderName, config: HandlerConfig, log: Logger): EmailProviderAdapter {
  return name === 'mailjet'
    ? createMailjetEmailProvider(config.mailjet, log)
    : createSendGridEmailProvider(config.sendgrid, log);
}

function warnIfSandboxed(name: ProviderName, config: HandlerConfig, log: Logger): void {
  if (name === 'mailjet' && config.usesSandbox) {
    log.warn(
      { mailjetApiUrl: redactUrl(config.mailjet.apiUrl) },
      'NO MAILJET_API_KEY SET: sending to the local Mailjet sandbox. No real email leaves this machine.',
    );
  }
  if (name === 'sendgrid' && config.sendgridUsesSandbox) {
    log.warn(
      { sendgridApiUrl: redactUrl(config.sendgrid.apiUrl) },
      'NO SENDGRID_API_KEY SET: sending to the local sandbox’s SendGrid endpoint. No real email leaves this machine.',
    );
  }
}
