// CreateBackup (DeskKMS, local only): one backup file of the vault (core/custody/backup.ts), opened
// by a recovery passphrase or by M of N SLIP-0039 shares, which are answered once and kept nowhere.
// The file is verified before the answer; the vault records it as its last backup.
import { createBackupFile } from '../custody/backup.ts';
import { setLastBackup } from '../vault/custody-meta.ts';
import type { Handler } from './operation.ts';
import { passphraseBytes } from './protection-change.ts';

export const createBackup: Handler<'CreateBackup'> = async (vault, req) => {
  const passphrase = req.Recovery === 'passphrase' ? passphraseBytes(req.Passphrase!, 'Passphrase') : undefined;
  let made;
  try {
    made = await createBackupFile(vault, {
      path: req.Path,
      overwrite: req.Overwrite,
      recovery: passphrase ? { kind: 'passphrase', passphrase } : { kind: 'shares', threshold: req.Threshold!, shares: req.Shares! },
    });
  } finally {
    passphrase?.fill(0);
  }
  return {
    response: {
      BackupId: made.BackupId,
      Path: made.Path,
      Size: made.Size,
      Created: made.Created,
      VaultId: made.VaultId,
      Recovery: made.Recovery,
      KeyCount: made.KeyCount,
      KeyVersionCount: made.KeyVersionCount,
      AuditHead: made.AuditHead,
      ...(made.Mnemonics ? { Threshold: made.Threshold!, ShareCount: made.ShareCount!, ShareIdentifier: made.ShareIdentifier!, Shares: made.Mnemonics } : {}),
    },
    write: (db) => setLastBackup(db, made.record),
  };
};
