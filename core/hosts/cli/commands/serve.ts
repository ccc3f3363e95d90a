// deskkms serve: the vault's Actions over Alibaba Cloud KMS's OpenAPI (RPC style, 2016-01-20),
// for programs using the official SDKs. Loopback by default; requests authenticated with access
// keys the vault issued; policies per access key; every call audited with its AccessKeyId, and
// every request refused before it became a call audited too, at a bounded rate (RefusalLog).
import { isIP } from 'node:net';
import { dispatch, vaultRefusalLog, type RefusalLogOptions } from '../../../actions/dispatch.ts';
import { AccessKeyAuthenticator, type ApiCaller } from '../../http/access-key-auth.ts';
import { startServer } from '../../http/http-server.ts';
import { invalidParameter, toKmsError } from '../../../contract/errors.ts';
import { EXIT_OK, type CliIO, type Command, type FlagValues } from '../command.ts';
import { internalErrorReporter } from '../report-error.ts';
import { VAULT_FLAGS, passphraseOf, vaultDirOf } from '../vault-session.ts';
import { Vault } from '../../../vault/vault.ts';
import { startSweeper, sweepDue } from '../../../actions/key-rotation.ts';
import { loadAllHandlers } from '../../../actions/table.ts';

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

/** Tests may shorten the refusal window; the defaults are RefusalLog's (60 s, 10 per Code). */
export interface ServeOptions {
  readonly refusals?: Pick<RefusalLogOptions, 'windowMs' | 'perWindow'>;
}

export async function serve(flags: FlagValues, io: CliIO, stopped: Promise<string> = shutdownSignal(), options: ServeOptions = {}): Promise<number> {
  const listen = parseListen(typeof flags.listen === 'string' ? flags.listen : undefined);
  const passphrase = await passphraseOf(flags, io);
  const vault = Vault.open(vaultDirOf(flags, io), passphrase ? { passphrase } : {});
  // Refused requests are audited too: who tried, what, and why it was refused; past a few per
  // minute and Code, only counted into one summary entry (see core/audit/refusal-log.ts).
  const refusals = vaultRefusalLog(vault, {
    ...options.refusals,
    callerPrefix: 'api-unauthenticated',
    onError: (error) => io.stderr.write(`deskkms serve: refused requests could not be audited yet: ${toKmsError(error).message}\n`),
  });
  try {
    // Fail at start, not at the first request; and load every handler meanwhile (a table loads
    // them at first use, which would make the first requests wait).
    await Promise.all([vault.ensureUnlocked(), loadAllHandlers()]);
    await sweepDue(vault);
    startSweeper(vault);
    if (!isLoopback(listen.host)) {
      io.stderr.write(`deskkms serve: WARNING: listening on ${listen.host}, reachable from other machines; requests are still authenticated\n`);
    }
    const server = await startServer<ApiCaller>({
      host: listen.host,
      port: listen.port,
      authenticator: new AccessKeyAuthenticator(vault),
      onRefused: (refusal) => refusals.record({ requestId: refusal.requestId, action: refusal.action, who: refusal.accessKeyId, code: refusal.code }),
      // The authenticator's ApiCaller carries the access key's policy, typed through the server.
      dispatch: (action, params, caller) => dispatch(vault, action, params, caller.caller, { policy: caller.policy, onInternalError: internalErrorReporter(io) }),
      log: (line) => io.stderr.write(`${line}\n`),
    });
    io.stdout.write(`${JSON.stringify({ Endpoint: server.url, Vault: vault.store.dir })}\n`);
    const signal = await stopped;
    io.stderr.write(`deskkms serve: ${signal}: finishing in-flight requests\n`);
    await server.close();
    return EXIT_OK;
  } finally {
    await refusals.close().catch((error: unknown) => io.stderr.write(`deskkms serve: the last refusal summaries could not be audited: ${toKmsError(error).message}\n`));
    await vault.close(); // flushes queued audit entries
  }
}

export const serveCommand: Command = {
  name: 'serve',
  usage: 'deskkms serve [--listen 127.0.0.1:PORT] [--vault DIR] [--passphrase-file FILE]',
  flags: {
    ...VAULT_FLAGS,
    listen: { type: 'string', value: 'ADDR:PORT', description: 'address to bind (default 127.0.0.1 and a free port); another address is warned about' },
  },
  details:
    'Prints {"Endpoint": ...} on stdout once listening. Clients authenticate with access keys from "deskkms access-key create". SIGINT/SIGTERM stop it gracefully.',
  run: (flags, io) => serve(flags, io),
};
