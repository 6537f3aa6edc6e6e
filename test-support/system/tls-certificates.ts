import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files: a private CA, and a server certificate it signed for `localhost` and 127.0.0.1. */
export type TestCertificates = { caFile: string; certFile: string; keyFile: string };

/**
 * A CA of the test's own and a server certificate from it, made with the `openssl` command in
 * `dir`. A client verifies the server only if it is given the CA (NODE_EXTRA_CA_CERTS), as it
 * would be for a company's own CA in a deployment.
 */
export async function createTestCertificates(dir: string): Promise<TestCertificates> {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) =>
    run('openssl', args, { cwd: dir, timeout: 30_000 }).catch((error: Error) => {
      throw new Error(`openssl ${args[0]} failed (is openssl installed?): ${error.message}`);
    });
  const days = ['-days', '2'];
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    ...days,
    '-subj',
    '/CN=notify test CA',
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.pem'),
  );
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    path('server.key'),
    '-out',
    path('server.csr'),
  );
  writeFileSync(path('server.ext'), 'subjectAltName = DNS:localhost, IP:127.0.0.1\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    ...days,
    '-extfile',
    path('server.ext'),
    '-out',
    path('server.pem'),
  );
  return { caFile: path('ca.pem'), certFile: path('server.pem'), keyFile: path('server.key') };
}
