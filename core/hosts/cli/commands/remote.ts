// deskkms remote add|list|remove|list-keys: connections to remote KMSs whose keys the vault uses
// through the same Actions (KeyId remote/<name>/<KeyId>), each signing its requests with its own
// scheme (--signature-algorithm: V3 ACS3-HMAC-SHA256 by default, ACS3-HMAC-SM3, or V1 HMAC-SHA1 for
// a server that takes only V1).
import { DEFAULT_SIGNATURE_ALGORITHM, SIGNATURE_ALGORITHMS } from '../../../contract/api-signatures.ts';
import { invalidParameter } from '../../../contract/errors.ts';
import { EXIT_OK, type Command } from '../command.ts';
import { callAction } from '../actions-cli.ts';
import { readSmallFile } from '../inputs.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';

export const remoteCommand: Command = {
  name: 'remote',
  usage:
    'deskkms remote add --name NAME --endpoint HOST[:PORT] --access-key-id ID --access-key-secret-file FILE [--region ID] [--protocol https|http] [--signature-algorithm ALG] | list | remove --name NAME | list-keys --name NAME',
  flags: {
    ...VAULT_FLAGS,
    name: { type: 'string', value: 'NAME', description: 'connection name (a-z 0-9 -); its keys are remote/NAME/<KeyId>' },
    endpoint: { type: 'string', value: 'HOST[:PORT]', description: 'add: the KMS endpoint, e.g. kms.cn-hangzhou.aliyuncs.com' },
    region: { type: 'string', value: 'ID', description: 'add: region id (default cn-hangzhou)' },
    protocol: { type: 'string', value: 'https|http', description: 'add: default https' },
    'signature-algorithm': {
      type: 'string',
      value: 'ALG',
      description: `add: how requests are signed, ${SIGNATURE_ALGORITHMS.join(', ')} (default ${DEFAULT_SIGNATURE_ALGORITHM}; HMAC-SHA1 for a server that takes only V1)`,
    },
    'access-key-id': { type: 'string', value: 'ID', description: 'add: the AccessKey id' },
    'access-key-secret-file': { type: 'string', value: 'FILE', description: 'add: file holding the AccessKey secret (stored in the OS keychain only)' },
    'page-size': { type: 'string', value: 'N', description: 'list-keys: page size, 1-100 (default 100)' },
    page: { type: 'string', value: 'N', description: 'list-keys: page number (default 1)' },
  },
  positionals: ['add|list|remove|list-keys'],
  async run(flags, io, positionals = []) {
    const sub = positionals[0];
    const subs = ['add', 'list', 'remove', 'list-keys'];
    if (!sub || !subs.includes(sub) || positionals.length > 1) throw invalidParameter('remote', `give one of ${subs.join(', ')}`);
    const name = typeof flags.name === 'string' ? flags.name : undefined;
    if (sub !== 'list' && !name) throw invalidParameter('--name', `is required for remote ${sub}`);
    let secret: string | undefined;
    if (sub === 'add') {
      const file = flags['access-key-secret-file'];
      if (typeof file !== 'string') throw invalidParameter('--access-key-secret-file', 'is required for remote add');
      secret = new TextDecoder().decode(await readSmallFile('access-key-secret-file', file, io)).trim();
      if (!secret) throw invalidParameter('--access-key-secret-file', 'is empty');
    }
    return withVault(flags, io, async (vault) => {
      // Each subcommand is its Action (validated, audited; refused ones too, with their Code); the
      // answer carries the RequestId of its audit entry. The secret reaches only AddRemoteConnection.
      let out: unknown;
      if (sub === 'add') {
        out = await callAction(io, vault, 'AddRemoteConnection', {
          Name: name,
          ...(typeof flags.endpoint === 'string' ? { Endpoint: flags.endpoint } : {}),
          ...(typeof flags.region === 'string' ? { RegionId: flags.region } : {}),
          ...(typeof flags.protocol === 'string' ? { Protocol: flags.protocol } : {}),
          ...(typeof flags['access-key-id'] === 'string' ? { AccessKeyId: flags['access-key-id'] } : {}),
          ...(typeof flags['signature-algorithm'] === 'string' ? { SignatureAlgorithm: flags['signature-algorithm'] } : {}),
          AccessKeySecret: secret,
        });
      } else if (sub === 'list') {
        out = await callAction(io, vault, 'ListRemoteConnections', {});
      } else if (sub === 'remove') {
        const { RequestId } = await callAction(io, vault, 'RemoveRemoteConnection', { Name: name });
        out = { Connection: name, Result: 'Removed', RequestId };
      } else {
        out = await callAction(io, vault, 'ListRemoteKeys', {
          Connection: name,
          PageSize: typeof flags['page-size'] === 'string' ? flags['page-size'] : '100',
          ...(typeof flags.page === 'string' ? { PageNumber: flags.page } : {}),
        });
      }
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return EXIT_OK;
    });
  },
};
