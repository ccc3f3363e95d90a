// deskkms access-key create|list|disable|enable|delete: credentials for the KMS-compatible API.
import { invalidParameter } from '../../../contract/errors.ts';
import { parsePolicy } from '../../../contract/policy.ts';
import { createAccessKey, listVaultAccessKeys, removeAccessKey, setAccessKeyEnabled } from '../../../actions/access-keys.ts';
import { EXIT_OK, type Command } from '../command.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';

export const accessKeyCommand: Command = {
  name: 'access-key',
  summary: 'Issue and manage access keys for "deskkms serve" (create prints the secret once)',
  usage: 'deskkms access-key create [--policy JSON] [--description TEXT] | list | disable --id ID | enable --id ID | delete --id ID',
  flags: {
    ...VAULT_FLAGS,
    policy: {
      type: 'string',
      value: 'JSON',
      description: 'create: {"Actions":[...],"Keys":[...]} (Action names / KeyIds / alias/NAME, or "*"); default full access',
    },
    description: { type: 'string', value: 'TEXT', description: 'create: a note for people' },
    id: { type: 'string', value: 'ID', description: 'disable / enable / delete: the AccessKeyId' },
  },
  positionals: ['create|list|disable|enable|delete'],
  details: 'create prints {"AccessKeyId","AccessKeySecret",...}: store the secret now, it is never shown again.',
  async run(flags, io, positionals = []) {
    const sub = positionals[0];
    const subs = ['create', 'list', 'disable', 'enable', 'delete'];
    if (!sub || !subs.includes(sub) || positionals.length > 1) throw invalidParameter('access-key', `give one of ${subs.join(', ')}`);
    const policy = typeof flags.policy === 'string' ? parsePolicy(flags.policy, '--policy') : undefined;
    return withVault(flags, io, async (vault) => {
      let out: unknown;
      if (sub === 'create') {
        out = await createAccessKey(vault, { ...(policy ? { policy } : {}), ...(typeof flags.description === 'string' ? { description: flags.description } : {}) });
      } else if (sub === 'list') {
        out = { AccessKeys: await listVaultAccessKeys(vault) };
      } else {
        const id = flags.id;
        if (typeof id !== 'string') throw invalidParameter('--id', `is required for access-key ${sub}`);
        if (sub === 'delete') await removeAccessKey(vault, id);
        else await setAccessKeyEnabled(vault, id, sub === 'enable');
        out = { AccessKeyId: id, Result: sub === 'delete' ? 'Deleted' : sub === 'enable' ? 'Enabled' : 'Disabled' };
      }
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return EXIT_OK;
    });
  },
};
