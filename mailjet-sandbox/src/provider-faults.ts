import type { FaultSettings, FaultSettingsInput } from './fault-settings.js';
import { type Clock, FaultController } from './faults.js';
import { providersNamed, SANDBOX_PROVIDERS, type SandboxProvider } from './providers.js';

/** Fault settings, optionally for one provider only (`provider`); without it they apply to both. */
export type ProviderFaultsInput = FaultSettingsInput & { provider?: SandboxProvider | undefined };

/** The part tests and the HTTP API use. */
export type SandboxFaults = {
  /** Merges the fields into the named provider's settings, or into both's; answers the first one's. */
  set(input: ProviderFaultsInput): FaultSettings;
  /** Clears the named provider's faults, or both's; answers the first one's. */
  clear(provider?: SandboxProvider): FaultSettings;
  /** The named provider's settings; Mailjet's when none is named. */
  current(provider?: SandboxProvider): FaultSettings;
};

/**
 * One fault controller per provider, so that Mailjet can fail while SendGrid answers (failover
 * tests). Each has its own counters, PRNG and rate-limit window; a setting given without a
 * provider goes to both, as it did when the sandbox spoke for Mailjet alone.
 */
export class ProviderFaults implements SandboxFaults {
  private readonly controllers: Record<SandboxProvider, FaultController>;

  constructor(initial: FaultSettingsInput = {}, now?: Clock) {
    this.controllers = {
      mailjet: new FaultController(initial, now),
      sendgrid: new FaultController(initial, now),
    };
  }

  of(provider: SandboxProvider): FaultController {
    return this.controllers[provider];
  }

  set({ provider, ...fields }: ProviderFaultsInput): FaultSettings {
    const named = providersNamed(provider, 'provider');
    // Validated once before any controller changes: a bad field leaves both untouched.
    const [first, ...rest] = named.map((name) => this.controllers[name]);
    const answer = (first as FaultController).set(fields);
    for (const controller of rest) controller.set(fields);
    return answer;
  }

  clear(provider?: SandboxProvider): FaultSettings {
    const named = providersNamed(provider, 'provider');
    const answers = named.map((name) => this.controllers[name].clear());
    return answers[0] as FaultSettings;
  }

  current(provider: SandboxProvider = SANDBOX_PROVIDERS[0]): FaultSettings {
    return this.controllers[provider].current();
  }
}
