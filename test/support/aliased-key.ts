// A signing key with an alias in a vault the test holds open, made through the handler table:
// what the CLI and air-gap tests set up before their commands run.
import { dispatch } from '../../core/actions/dispatch.ts';
import type { KeySpec } from '../../core/contract/specs.ts';
import type { Vault } from '../../core/vault/vault.ts';

/** CreateKey (SIGN/VERIFY) then CreateAlias; the key and its first version. Throws the refusal's message. */
export async function createAliasedKey(vault: Vault, spec: KeySpec, alias: string): Promise<{ keyId: string; versionId: string }> {
  const created = await dispatch(vault, 'CreateKey', { KeySpec: spec, KeyUsage: 'SIGN/VERIFY' }, 'test');
  if (!created.ok) throw new Error(created.error.Message);
  const keyId = created.body.KeyMetadata.KeyId;
  const aliased = await dispatch(vault, 'CreateAlias', { KeyId: keyId, AliasName: alias }, 'test');
  if (!aliased.ok) throw new Error(aliased.error.Message);
  const versions = await dispatch(vault, 'ListKeyVersions', { KeyId: keyId }, 'test');
  if (!versions.ok) throw new Error(versions.error.Message);
  return { keyId, versionId: versions.body.KeyVersions.KeyVersion[0]!.KeyVersionId };
}
