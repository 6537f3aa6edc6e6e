/**
 * The port the use case sends through. Shaped for batching from the start (Mailjet takes up to
 * 50 messages a call; SendGrid one per call): one outcome per email, in order, so a retry can
 * resend only the entries that failed transiently. Provider failures are outcomes, never exceptions.
 */
export type Address = { email: string; name: string };

export type Email = {
  /** Our tracking id; the provider echoes it back (Mailjet CustomID, SendGrid custom_args.trackingId). */
  customId: string;
  from: Address;
  to: Address;
  subject: string;
  text: string;
  html: string;
};

export type SendOutcome =
  | {
      kind: 'sent';
      providerMessageId: string;
      httpStatus: number;
      /** Which provider took it: set by the provider guard, which knows its name. */
      provider?: string;
    }
  | {
      kind: 'failed';
      /** Which provider answered (or did not): set by the provider guard. */
      provider?: string;
      /** Can a later call succeed? Network errors, timeouts, 429 and 5xx: yes. Other 4xx: no. */
      transient: boolean;
      httpStatus?: number;
      errorCode?: string;
      reason: string;
      /** The provider's Retry-After, when it gave one (429, 503). */
      retryAfterMs?: number;
      /** false: this failure says nothing about the email (a 429, a failed breaker probe, a configuration error). */
      spendsRetry?: false;
      /**
       * The provider will refuse every email until someone acts: it refused our credentials, or the
       * account ran out of credits. The guard opens the provider's breaker at once.
       */
      configurationError?: true;
    }
  /** Not sent and not tried: the provider's breaker is open. Try again once it lets calls through. */
  | { kind: 'deferred'; reason: string };

export type EmailProvider = {
  send(emails: readonly Email[]): Promise<SendOutcome[]>;
};

/** A provider's adapter, which also holds connections to it that the handler closes when it stops. */
export type EmailProviderAdapter = EmailProvider & {
  /** Called once no send is left in flight; a send after it opens a connection again. */
  closeConnections(): void;
};

export type BreakerState = 'closed' | 'open' | 'half_open';

/** A provider behind a circuit breaker, which says when a call may go. */
export type GuardedEmailProvider = EmailProvider & {
  /** Resolves when a call may go (closed, or a probe is due); rejects when `signal` aborts. */
  whenCallable(signal: AbortSignal): Promise<void>;
  breakerState(): BreakerState;
};
