// deskkms remote add|list|remove|list-keys: connections to remote KMSs whose keys the vault uses
// through the same Actions (KeyId remote/<name>/<KeyId>).
import { invalidParameter } from '../../../contract/errors.ts';
import { addConnection, listConnections, remoteProvider, removeConnection } from '../../../providers/connections.ts';
import { remoteKeyId } from '../../../providers/provider.ts';
import { EXIT_OK, type Command } from '../command.ts';
import { readSmallFile } from '../inputs.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';

export const remoteCommand: Command = {
  name: 'remote',
  summary: 'Register remote KMS connections (Alibaba Cloud KMS or another deskkms serve) and list their keys',
  usage:
    'deskkms remote add --name NAME --endpoint HOST[:PORT] --access-key-id ID --access-key-secret-file FILE [--region ID] [--protocol https|http] | list | remove --name NAME | list-keys --name NAME',
  flags: {
    ...VAULT_FLAGS,
    name: { type: 'string', value: 'NAME', description: 'connection name (a-z 0-9 -); its keys are remote/NAME/<KeyId>' },
    endpoint: { type: 'string', value: 'HOST[:PORT]', description: 'add: the KMS endpoint, e.g. kms.cn-hangzhou.aliyuncs.com' },
    region: { type: 'string', value: 'ID', description: 'add: region id (default cn-hangzhou)' },
    protocol: { type: 'string', value: 'https|http', description: 'add: default https' },
    'access-key-id': { type: 'string', value: 'ID', description: 'add: the AccessKey id' },
    'access-key-secret-file': { type: 'string', value: 'FILE', description: 'add: file holding the AccessKey secret (stored in the OS keychain only)' },
    'page-size': { type: 'string', value: 'N', description: 'list-keys: page size (default 100)' },
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
      let out: unknown;
      if (sub === 'add') {
        const protocol = typeof flags.protocol === 'string' ? flags.protocol : 'https';
        await addConnection(
          vault,
          {
            name: name!,
            endpoint: typeof flags.endpoint === 'string' ? flags.endpoint : '',
            regionId: typeof flags.region === 'string' ? flags.region : 'cn-hangzhou',
            protocol: protocol as 'http' | 'https',
            accessKeyId: typeof flags['access-key-id'] === 'string' ? flags['access-key-id'] : '',
          },
          secret!,
        );
        out = { Connection: (await listConnections(vault)).find((c) => c.name === name) };
      } else if (sub === 'list') {
        out = { Connections: await listConnections(vault) };
      } else if (sub === 'remove') {
        await removeConnection(vault, name!);
        out = { Connection: name, Result: 'Removed' };
      } else {
        const provider = await remoteProvider(vault, name!);
        const pageSize = typeof flags['page-size'] === 'string' ? flags['page-size'] : '100';
        const body = await provider.invoke('ListKeys', { PageSize: pageSize, PageNumber: '1' });
        const keys = ((body.Keys as { Key?: { KeyId: string; KeyArn?: string }[] } | undefined)?.Key ?? []).map((k) => ({
          KeyId: remoteKeyId(name!, k.KeyId),
          Connection: name,
          RemoteKeyId: k.KeyId,
          ...(k.KeyArn ? { KeyArn: k.KeyArn } : {}),
        }));
        out = { Keys: { Key: keys }, TotalCount: body.TotalCount, Connection: name };
      }
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return EXIT_OK;
    });
  },
};
