// UpdateRotationPolicy: a symmetric key's automatic rotation turned on (with its interval) or off;
// DescribeKey answers the policy. Keys that cannot rotate on their own are refused.
import { describe, expect, it } from 'vitest';
import { useActionVault } from '../../test/support/action-vault.ts';
import { makeSymmetricKey } from '../../test/support/symmetric-key.ts';

const v = useActionVault('update-rotation-policy');

describe('UpdateRotationPolicy', () => {
  it('UpdateRotationPolicy turns it on for a symmetric key and refuses it for asymmetric and imported keys', async () => {
    const key = await makeSymmetricKey(v);
    await v.refused('UpdateRotationPolicy', { KeyId: key.keyId, EnableAutomaticRotation: true }, 'MissingParameter');
    await v.refused('UpdateRotationPolicy', { KeyId: key.keyId, EnableAutomaticRotation: true, RotationInterval: '6d' }, 'InvalidParameter');
    await v.call('UpdateRotationPolicy', { KeyId: key.keyId, EnableAutomaticRotation: true, RotationInterval: '365d' });
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata).toMatchObject({ AutomaticRotation: 'Enabled', RotationInterval: '31536000s' });
    const rsa = await v.makeKey('RSA_2048', 'ENCRYPT/DECRYPT');
    expect((await v.refused('UpdateRotationPolicy', { KeyId: rsa.keyId, EnableAutomaticRotation: true, RotationInterval: '30d' }, 'InvalidParameter')).Message).toMatch(/CreateKeyVersion/);
    await v.refused('CreateKey', { KeySpec: 'EC_P256', EnableAutomaticRotation: true, RotationInterval: '30d' }, 'InvalidParameter');
    await v.refused('CreateKey', { KeySpec: 'Aliyun_AES_256', Origin: 'EXTERNAL', EnableAutomaticRotation: true, RotationInterval: '30d' }, 'InvalidParameter');
    await v.refused('CreateKey', { KeySpec: 'Aliyun_AES_256', EnableAutomaticRotation: true }, 'MissingParameter');
  });

  it('turns rotation off, keeping the interval DescribeKey shows', async () => {
    const key = await makeSymmetricKey(v, 'Aliyun_SM4', { EnableAutomaticRotation: true, RotationInterval: '7d' });
    const off = await v.call('UpdateRotationPolicy', { KeyId: key.keyId, EnableAutomaticRotation: 'false' });
    expect(v.auditOf(off.RequestId)).toMatchObject({ action: 'UpdateRotationPolicy', keyId: key.keyId });
    expect((await v.call('DescribeKey', { KeyId: key.keyId })).KeyMetadata).toMatchObject({ AutomaticRotation: 'Disabled', RotationInterval: '604800s', NextRotationDate: '' });
  });
});
