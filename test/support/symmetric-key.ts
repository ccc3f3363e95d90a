// A symmetric key made through CreateKey in an action vault (its first version is the primary), for
// the tests of the symmetric Actions.
import type { ActionVault } from './action-vault.ts';

export interface SymmetricKey {
  readonly keyId: string;
  readonly versionId: string;
}

export async function makeSymmetricKey(v: ActionVault, spec: 'Aliyun_AES_256' | 'Aliyun_SM4' = 'Aliyun_AES_256', extra: Record<string, unknown> = {}): Promise<SymmetricKey> {
  const created = await v.call('CreateKey', { KeySpec: spec, ...extra });
  return { keyId: created.KeyMetadata.KeyId as string, versionId: created.KeyVersionId as string };
}

/** The blob with byte `at` flipped (base64 in, base64 out). */
export function flipByte(blob: string, at: number): string {
  const bytes = Buffer.from(blob, 'base64');
  bytes[at < 0 ? bytes.length + at : at]! ^= 0x01;
  return bytes.toString('base64');
}
