// deskkms serve: the vault's Actions over Alibaba Cloud KMS's OpenAPI (RPC style, 2016-01-20),
// for programs using the official SDKs. Loopback by default; requests authenticated with access
// keys the vault issued; policies per access key; every call audited with its AccessKeyId.
import { isIP } from 'node:net';
import { dispatch } from '../../api/dispatch.ts';
import { AccessKeyAuthenticator, type ApiCaller } from '../../api/access-keys.ts';
import { startServer } from '../../api/server/http-server.ts';
import { invalidParameter, toKmsError } from '../../contract/errors.ts';
import { appendAuditEntries } from '../../audit/audit-log.ts';
import { randomUUID } from 'node:crypto';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { VAULT_FLAGS, passphraseOf, vaultDirOf } from '../vault-session.ts';
import { Vault } from '../../vault/vault.ts';

export function parseListen(value: string | undefined): { host: string; port: number } {
  if (value === undefined) return { host: '127.0.0.1', port: 0 };
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || port > 65535 || (isIP(host) === 0 && host !== 'localhost')) {
    throw invalidParameter('--listen', 'must be ADDRESS:PORT, e.g. 127.0.0.1:9443 or [::1]:9443 (port 0 picks a free one)');
  }
  return { host, port };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Resolves when SIGINT or SIGTERM arrives (the test harness may pass its own signal). */
export function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string): void => resolve(signal);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export async function serve(flags: FlagValues, io: CliIO, stopped: Promise<string> = shutdownSignal()): Promise<number> {
  const listen = parseListen(typeof flags.listen === 'string' ? flags.listen : undefined);
  const passphrase = await passphraseOf(flags, io);
  const vault = Vault.open(vaultDirOf(flags, io), passphrase ? { passphrase } : {});
  try {
    await vault.ensureUnlocked(); // fail at start, not at the first request
    await vault.purgeDueKeys();
    vault.startDeletionSweeper();
    if (!isLoopback(listen.host)) {
      io.stderr.write(`deskkms serve: WARNING: listening on ${listen.host}, reachable from other machines; requests are still authenticated\n`);
    }
    const verifier = new AccessKeyAuthenticator(vault);
    // Refused requests are audited too: who tried, what, and why it was refused.
    const authenticator = {
      async authenticate(request: { method: string; params: Readonly<Record<string, string>> }) {
        try {
          return await verifier.authenticate(request);
        } catch (error) {
          const code = toKmsError(error).code;
          const who = (request.params.AccessKeyId ?? '').slice(0, 64) || '-';
          await vault.store.write((db) =>
            appendAuditEntries(db, [{ action: (request.params.Action ?? '').slice(0, 64) || '(none)', code, caller: `api-unauthenticated:${who}`, requestId: randomUUID() }]),
          );
          throw error;
        }
      },
    };
    const server = await startServer({
      host: listen.host,
      port: listen.port,
      authenticator,
      // The authenticator returns ApiCallers, which carry the access key's policy.
      dispatch: (action, params, caller) => dispatch(vault, action, params, caller.caller, { policy: (caller as ApiCaller).policy }),
      log: (line) => io.stderr.write(`${line}\n`),
    });
    io.stdout.write(`${JSON.stringify({ Endpoint: server.url, Vault: vault.store.dir })}\n`);
    const signal = await stopped;
    io.stderr.write(`deskkms serve: ${signal}: finishing in-flight requests\n`);
    await server.close();
    return EXIT_OK;
  } finally {
    await vault.close(); // flushes queued audit entries
  }
}

export const serveCommand: Command = {
  name: 'serve',
  summary: "Serve the vault's Actions over Alibaba Cloud KMS's OpenAPI (for the official SDKs)",
  usage: 'deskkms serve [--listen 127.0.0.1:PORT] [--vault DIR] [--passphrase-file FILE]',
  flags: {
    ...VAULT_FLAGS,
    listen: { type: 'string', value: 'ADDR:PORT', description: 'address to bind (default 127.0.0.1 and a free port); another address is warned about' },
  },
  details:
    'Prints {"Endpoint": ...} on stdout once listening. Clients authenticate with access keys from "deskkms access-key create". SIGINT/SIGTERM stop it gracefully.',
  run: (flags, io) => serve(flags, io),
};
