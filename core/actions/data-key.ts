// The data key of GenerateDataKey, GenerateDataKeyWithoutPlaintext and GenerateAndExportDataKey:
// NumberOfBytes (1-1024) when given, else KeySpec's length (AES_256: 32, AES_128: 16), else 32.
// Random bytes from the OS, encrypted under the key's primary version into a CiphertextBlob.
import { randomBytes } from 'node:crypto';
import { DATA_KEY_SPECS, type ActionRequest } from '../contract/actions.ts';
import type { Vault } from '../vault/vault.ts';
import { dryRunPassed } from './dry-run.ts';
import type { CallContext } from './operation.ts';
import { encryptionTarget, sealBlob, type SymmetricTarget } from './symmetric-target.ts';

type DataKeyAction = 'GenerateDataKey' | 'GenerateDataKeyWithoutPlaintext' | 'GenerateAndExportDataKey';

export function dataKeyLength(req: Pick<ActionRequest<DataKeyAction>, 'KeySpec' | 'NumberOfBytes'>): number {
  return req.NumberOfBytes ?? DATA_KEY_SPECS[req.KeySpec ?? 'AES_256'];
}

/**
 * A new data key and its blob. `beforeUse` runs after the key checks and before anything is made
 * (a further check of the caller's); then a DryRun stops.
 */
export async function newDataKey(
  vault: Vault,
  action: DataKeyAction,
  req: ActionRequest<DataKeyAction>,
  ctx: CallContext,
  beforeUse?: () => void,
): Promise<{ target: SymmetricTarget; dataKey: Uint8Array; blob: Uint8Array }> {
  const target = encryptionTarget(vault, req.KeyId, ctx);
  beforeUse?.();
  if (req.DryRun) dryRunPassed(action);
  const dataKey = new Uint8Array(randomBytes(dataKeyLength(req)));
  const blob = await sealBlob(vault, target, dataKey, req.EncryptionContext);
  return { target, dataKey, blob };
}
