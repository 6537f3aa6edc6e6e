import { ConfigError, loadConfig } from './config.js';
import { DEFAULT_SENDGRID_API_KEY, type Sandbox, startSandbox } from './start-sandbox.js';

const FORCED_EXIT_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig(process.env, process.argv.slice(2));
  const sandbox = await startSandbox(config.options);
  console.log(
    `mailjet-sandbox listening on ${sandbox.url} (Mailjet: POST ${sandbox.url}/v3.1/send, SendGrid: POST ${sandbox.url}/v3/mail/send, inbox ${sandbox.url}/)`,
  );
  console.log(`credentials: ${config.credentialsSource}`);
  console.log(
    `SendGrid key: ${config.options.sendgridApiKey === DEFAULT_SENDGRID_API_KEY ? `default "${DEFAULT_SENDGRID_API_KEY}"` : 'SANDBOX_SENDGRID_API_KEY'}`,
  );
  console.log(`faults: ${JSON.stringify(sandbox.faults.current())}`);
  stopOnSignal(sandbox);
}

/** Closes the server (hung sockets destroyed), then exits; a stop that overruns its bound exits anyway. */
function stopOnSignal(sandbox: Sandbox): void {
  const onSignal = (signal: NodeJS.Signals) => {
    console.log(`mailjet-sandbox: ${signal}, stopping`);
    setTimeout(() => process.exit(1), FORCED_EXIT_MS).unref();
    sandbox.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('mailjet-sandbox: stop failed', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 1;
});
