// deskkms access-key create|list|disable|enable|delete: credentials for the KMS-compatible API.
import { invalidParameter } from '../../../contract/errors.ts';
import { EXIT_OK, type Command } from '../command.ts';
import { callAction } from '../actions-cli.ts';
import { VAULT_FLAGS, withVault } from '../vault-session.ts';
export const accessKeyCommand: Command = {
  name: 'access-key',
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
  details:
    'create prints {"AccessKeyId","AccessKeySecret",...}: store the secret now, it is never shown again. ' +
    'Each subcommand is a local-only Action (CreateAccessKey, ListAccessKeys, EnableAccessKey, DisableAccessKey, DeleteAccessKey), audited; no access key may call them.',
  async run(flags, io, positionals = []) {
    const sub = positionals[0];
    const subs = ['create', 'list', 'disable', 'enable', 'delete'];
    if (!sub || !subs.includes(sub) || positionals.length > 1) throw invalidParameter('access-key', `give one of ${subs.join(', ')}`);
    const id = flags.id;
    if (sub !== 'create' && sub !== 'list' && typeof id !== 'string') throw invalidParameter('--id', `is required for access-key ${sub}`);
    return withVault(flags, io, async (vault) => {
      // Each subcommand is its Action (validated, audited; refused ones too, with their Code); the
      // answer carries the RequestId of its audit entry.
      let out: unknown;
      if (sub === 'create') {
        out = await callAction(io, vault, 'CreateAccessKey', {
          ...(typeof flags.policy === 'string' ? { Policy: flags.policy } : {}),
          ...(typeof flags.description === 'string' ? { Description: flags.description } : {}),
        });
      } else if (sub === 'list') {
        out = await callAction(io, vault, 'ListAccessKeys', {});
      } else {
        const action = sub === 'delete' ? 'DeleteAccessKey' : sub === 'enable' ? 'EnableAccessKey' : 'DisableAccessKey';
        const { RequestId } = await callAction(io, vault, action, { AccessKeyId: id });
        out = { AccessKeyId: id, Result: sub === 'delete' ? 'Deleted' : sub === 'enable' ? 'Enabled' : 'Disabled', RequestId };
      }
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return EXIT_OK;
    });
  },
};
