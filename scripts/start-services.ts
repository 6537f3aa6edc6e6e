// npm start, last step: the sandbox and both services in one terminal, each line prefixed.
import { type SpawnOptions, spawn } from 'node:child_process';
import { SANDBOX_CREDENTIAL_NAMES } from '@notify/mailjet-sandbox';
import { SERVICE_NODE_FLAGS } from '@notify/shared/platform';
import {
  type Command,
  createConcurrently,
  KillOnSignal,
  KillOthers,
  LogError,
  LogExit,
  Logger,
  LogOutput,
} from 'concurrently';
import { loadDotEnv } from './dot-env.js';
import { LOCAL_OPERATOR_TOKEN } from './local-settings.js';

/** A second Ctrl-C this long after the first one kills at once instead of waiting. */
const REPEAT_IS_FORCE_AFTER_MS = 1_000;

loadDotEnv();
const logFormat = process.env.LOG_FORMAT || 'pretty';
// The sandbox keeps its default credentials, which the handler sends with when it has no key: it
// would take a real MAILJET_API_KEY as its own, and its own keys set in .env would refuse the
// handler. Its store bound and faults come from .env as set (empty means unset).
const sandboxEnv = {
  PORT: '4010',
  HOST: '127.0.0.1',
  ...Object.fromEntries(SANDBOX_CREDENTIAL_NAMES.map((name) => [name, ''])),
};
const services = [
  // The sandbox first: the handler sends there when no MAILJET_API_KEY is set.
  { name: 'sandbox  ', cwd: 'mailjet-sandbox', prefixColor: 'magenta', env: sandboxEnv, nodeFlags: [] },
  {
    name: 'ticketing',
    cwd: 'ticketing-service',
    prefixColor: 'cyan',
    env: { PORT: '3000', LOG_FORMAT: logFormat },
    nodeFlags: SERVICE_NODE_FLAGS,
  },
  {
    name: 'handler  ',
    cwd: 'notification-handler',
    prefixColor: 'green',
    env: {
      PORT: '3001',
      LOG_FORMAT: logFormat,
      // The same token as docker compose's, so that README's walkthrough works against either.
      OPERATOR_TOKEN: process.env.OPERATOR_TOKEN || LOCAL_OPERATOR_TOKEN,
      TICKETING_METRICS_URL: process.env.TICKETING_METRICS_URL || 'http://127.0.0.1:3000/metrics',
    },
    nodeFlags: SERVICE_NODE_FLAGS,
  },
];

const logger = new Logger({ prefixFormat: '{name} |' });
const abortController = new AbortController();
const { commands, result } = createConcurrently(
  services.map(({ nodeFlags, ...service }) => ({
    ...service,
    command: ['node', ...nodeFlags, 'dist/main.js'].join(' '),
  })),
  {
    logger,
    outputStream: process.stdout,
    abortSignal: abortController.signal,
    spawn: spawnInOwnGroup,
    kill: signalOnce(),
    controllers: [
      new LogError({ logger }),
      new LogOutput({ logger }),
      new LogExit({ logger }),
      new KillOnSignal({ process, abortController }),
      // --kill-others-on-fail: one service failing to start or crashing stops the others.
      new KillOthers({ logger, abortController, conditions: ['failure'], killSignal: 'SIGTERM' }),
    ],
  },
);
forceOnRepeatedSignal(commands);
result.then(
  () => process.exit(0),
  () => process.exit(1),
);

/**
 * Each service runs in its own process group, so that a Ctrl-C in the terminal reaches it once,
 * through this process, and not also straight from the terminal: the services stop cleanly on the
 * first SIGINT and die on a second one.
 */
function spawnInOwnGroup(command: string, options: SpawnOptions) {
  return spawn('/bin/sh', ['-c', `exec ${command}`], { ...options, detached: true });
}

/**
 * Sends each service's group one graceful signal. npm forwards the terminal's Ctrl-C to this
 * process, which gets it from the terminal as well: the duplicate is dropped here.
 */
function signalOnce(): (pid: number, signal?: string) => void {
  const signalled = new Set<number>();
  return (pid, signal = 'SIGTERM') => {
    if (signalled.has(pid) && signal !== 'SIGKILL') return;
    signalled.add(pid);
    try {
      // A closed terminal (SIGHUP) still gets a graceful stop: the services handle SIGINT and SIGTERM.
      process.kill(-pid, signal === 'SIGHUP' ? 'SIGTERM' : signal);
    } catch {
      // The group is gone already.
    }
  };
}

/** A stop signal repeated after the first one's echo has passed means "now": SIGKILL what is left. */
function forceOnRepeatedSignal(commands: Command[]): void {
  let firstAt: number | undefined;
  const onSignal = () => {
    firstAt ??= Date.now();
    if (Date.now() - firstAt < REPEAT_IS_FORCE_AFTER_MS) return;
    console.error('npm start: stopping at once (SIGKILL)');
    for (const command of commands) command.kill('SIGKILL');
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}
