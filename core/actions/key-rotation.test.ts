// Automatic rotation (issue 18 "Done when"): a key with a 7-day interval, the clock moved forward,
// gets a new primary version once; old ciphertexts still decrypt; the rotation is audited.
import { describe, expect, it } from 'vitest';
import { b64, useActionVault } from '../../test/support/action-vault.ts';
import { makeSymmetricKey } from '../../test/support/symmetric-key.ts';
import { ROTATION_CALLER, rotateDueKeys, sweepDue } from './key-rotation.ts';

const v = useActionVault('key-rotation');
const DAY = 86_400_000;

describe('automatic rotation', () => {
  it('makes one new primary version when the interval has passed, audited, and old blobs keep decrypting', async () => {
    const key = await makeSymmetricKey(v, 'Aliyun_AES_256', { EnableAutomaticRotation: true, RotationInterval: '7d' });
    const described = await v.call('DescribeKey', { KeyId: key.keyId });
    expect(described.KeyMetadata).toMatchObject({ PrimaryKeyVersion: key.versionId, AutomaticRotation: 'Enabled', RotationInterval: '604800s' });
    const created = Date.parse(described.KeyMetadata.LastRotationDate as string);
    expect(Date.parse(described.KeyMetadata.NextRotationDate as string) - created).toBe(7 * DAY);
    const old = await v.call('Encrypt', { KeyId: key.keyId, Plaintext: b64('before rotation') });

    // Six days on: not due.
    v.now = new Date(created + 6 * DAY);
    expect(await rotateDueKeys(v.vault)).toEqual([]);
    // Seven days and a second on: due once; a second sweep at the same time finds nothing to do.
    v.now = new Date(created + 7 * DAY + 1000);
    expect(await rotateDueKeys(v.vault)).toEqual([key.keyId]);
    await sweepDue(v.vault);
    const versions = await v.call('ListKeyVersions', { KeyId: key.keyId });
    expect(versions.TotalCount).toBe(2);
    const after = (await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata;
    expect(after.PrimaryKeyVersion).not.toBe(key.versionId);
    expect(Date.parse(after.NextRotationDate as string)).toBe(Date.parse(after.LastRotationDate as string) + 7 * DAY);

    const fresh = await v.call('Encrypt', { KeyId: key.keyId, Plaintext: b64('after rotation') });
    expect(fresh.KeyVersionId).toBe(after.PrimaryKeyVersion);
    expect((await v.call('Decrypt', { CiphertextBlob: old.CiphertextBlob })).Plaintext).toBe(b64('before rotation'));
    const audited = v.vault.store.db.prepare("SELECT caller, key_id FROM audit_log WHERE action = 'CreateKeyVersion' AND caller = ?").all(ROTATION_CALLER);
    expect(audited).toEqual([{ caller: ROTATION_CALLER, key_id: key.keyId }]);
  });

  it('leaves keys alone whose rotation is off, disabled, asymmetric or imported', async () => {
    const off = await makeSymmetricKey(v);
    const disabled = await makeSymmetricKey(v, 'Aliyun_SM4', { EnableAutomaticRotation: 'true', RotationInterval: '7d' });
    await v.call('DisableKey', { KeyId: disabled.keyId });
    const turnedOff = await makeSymmetricKey(v, 'Aliyun_AES_256', { EnableAutomaticRotation: true, RotationInterval: '30d' });
    await v.call('UpdateRotationPolicy', { KeyId: turnedOff.keyId, EnableAutomaticRotation: false });
    expect((await v.call('DescribeKey', { KeyId: turnedOff.keyId })).KeyMetadata).toMatchObject({ AutomaticRotation: 'Disabled', RotationInterval: '2592000s', NextRotationDate: '' });
    v.now = new Date(v.now.getTime() + 400 * DAY);
    const rotated = await rotateDueKeys(v.vault);
    for (const k of [off, disabled, turnedOff]) expect(rotated).not.toContain(k.keyId);
  });

  it('refuses public-key Actions on symmetric keys, and symmetric keys made Exportable or public-key-only', async () => {
    const key = await makeSymmetricKey(v);
    const ref = { KeyId: key.keyId, KeyVersionId: key.versionId };
    for (const [action, params] of [
      ['GetPublicKey', ref],
      ['GetPublicKeyBundle', ref],
      ['AsymmetricEncrypt', { ...ref, Algorithm: 'RSAES_OAEP_SHA_256', Plaintext: b64('x') }],
      ['AsymmetricDecrypt', { ...ref, Algorithm: 'RSAES_OAEP_SHA_256', CiphertextBlob: b64('x') }],
      ['ExportKeyVersion', { ...ref, Passphrase: b64('correct horse') }],
      ['AddAgentIdentity', ref],
    ] as const) {
      expect((await v.refused(action, params, 'UnsupportedOperation')).Message, action).toMatch(/symmetric key/);
    }
    expect((await v.call('DescribeKeyVersion', ref)).KeyVersion.KeyVersionId).toBe(key.versionId);
    await v.refused('CreateKey', { KeySpec: 'Aliyun_SM4', Exportable: true }, 'InvalidParameter');
    await v.refused('CreateKey', { KeySpec: 'Aliyun_SM4', Origin: 'EXTERNAL_PUBLIC_KEY' }, 'InvalidParameter');
    await v.refused('CreateKey', { KeySpec: 'Aliyun_SM4', KeyUsage: 'SIGN/VERIFY' }, 'InvalidParameter');
  });
});
