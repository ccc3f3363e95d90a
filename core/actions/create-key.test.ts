import { describe, expect, it } from 'vitest';
import { KEY_SPECS, isSymmetricSpec, usagesOf } from '../contract/specs.ts';
import { useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('create-key');

describe('CreateKey', () => {
  it('creates a key of every spec and usage, with its first version, audited against both', async () => {
    for (const spec of KEY_SPECS) {
      for (const usage of usagesOf(spec)) {
        const created = await v.call('CreateKey', { KeySpec: spec, KeyUsage: usage, Description: `${spec} ${usage}` });
        expect(created.KeyMetadata).toMatchObject({
          KeySpec: spec,
          KeyUsage: usage,
          KeyState: 'Enabled',
          Description: `${spec} ${usage}`,
          Origin: 'Aliyun_KMS',
          Creator: 'deskkms',
          AutomaticRotation: 'Disabled',
          Exportable: false,
          Arn: `acs:kms:local:deskkms:key/${created.KeyMetadata.KeyId}`,
          CreationDate: '2026-11-22T12:00:00Z',
          LastRotationDate: '2026-11-22T12:00:00Z',
        });
        const version = (await v.call('ListKeyVersions', { KeyId: created.KeyMetadata.KeyId })).KeyVersions.KeyVersion[0];
        // The first version's id in CreateKey's own answer (DeskKMS); PrimaryKeyVersion is it for a
        // symmetric key and "" for an asymmetric one (whose calls name their version).
        expect(created.KeyVersionId).toBe(version.KeyVersionId);
        expect(created.KeyMetadata.PrimaryKeyVersion).toBe(isSymmetricSpec(spec) ? version.KeyVersionId : '');
        expect(v.auditOf(created.RequestId)).toMatchObject({ keyId: created.KeyMetadata.KeyId, keyVersionId: version.KeyVersionId });
      }
    }
  });

  it('gives each spec its default usage', async () => {
    expect((await v.call('CreateKey', { KeySpec: 'RSA_3072' })).KeyMetadata.KeyUsage).toBe('ENCRYPT/DECRYPT');
    expect((await v.call('CreateKey', { KeySpec: 'EC_P256K' })).KeyMetadata.KeyUsage).toBe('SIGN/VERIFY');
  });

  it('starts an EXTERNAL key PendingImport without versions, and a key with its tags', async () => {
    const external = await v.call('CreateKey', { KeySpec: 'EC_P256', Origin: 'EXTERNAL' });
    expect(external.KeyMetadata).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport', LastRotationDate: '' });
    expect((await v.call('ListKeyVersions', { KeyId: external.KeyMetadata.KeyId })).TotalCount).toBe(0);
    expect(external).not.toHaveProperty('KeyVersionId');
    const tagged = await v.call('CreateKey', { KeySpec: 'EC_P256', Tags: '[{"TagKey":"team","TagValue":"release"}]' });
    expect((await v.call('ListResourceTags', { KeyId: tagged.KeyMetadata.KeyId })).Tags.Tag).toEqual([{ KeyId: tagged.KeyMetadata.KeyId, TagKey: 'team', TagValue: 'release' }]);
  });

  it('refuses a usage the spec lacks, and Exportable keys of another origin', async () => {
    for (const spec of ['EC_P256', 'EC_P256K'] as const) {
      const refused = await v.refused('CreateKey', { KeySpec: spec, KeyUsage: 'ENCRYPT/DECRYPT' }, 'InvalidParameter');
      expect(refused.Message).toMatch(/ENCRYPT\/DECRYPT is not available for EC_P256/);
    }
    const exportable = await v.refused('CreateKey', { KeySpec: 'EC_P256', Origin: 'EXTERNAL', Exportable: true }, 'InvalidParameter');
    expect(exportable.Message).toMatch(/^Exportable: keys of Origin EXTERNAL hold material from elsewhere/);
    expect(exportable.audit.keyId).toBeNull();
  });
});
