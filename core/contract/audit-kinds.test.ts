// auditKind: refused by code first, then every Action's and recorded event's kind.
import { describe, expect, it } from 'vitest';
import { ACTION_NAMES } from './actions.ts';
import { ACTION_KINDS, actionsOfKind, auditKind } from './audit-kinds.ts';

describe('auditKind', () => {
  it('is refused for any code but OK, whatever the Action', () => {
    expect(auditKind('AsymmetricSign', 'Rejected.Disabled')).toBe('refused');
    expect(auditKind('DescribeKey', 'Forbidden.KeyNotFound')).toBe('refused');
    expect(auditKind('(refusal summary)', 'Forbidden.AccessKeyNotFound')).toBe('refused');
  });

  it.each([
    ['AsymmetricSign', 'private-key'],
    ['AsymmetricDecrypt', 'private-key'],
    ['ExportKeyVersion', 'private-key'],
    ['CreateSelfSignedCertificate', 'private-key'],
    ['IssueCertificate', 'private-key'],
    ['CreateCertificateSigningRequest', 'private-key'],
    ['ApproveSigningRequest', 'private-key'],
    ['CreateKey', 'change'],
    ['DisableKey', 'change'],
    ['UnlockVault', 'change'],
    ['LockVault', 'change'],
    ['DeleteKeyMaterial', 'change'],
    ['DescribeKey', 'read'],
    ['AsymmetricVerify', 'read'],
    ['AsymmetricEncrypt', 'read'],
    ['ListKeyDetails', 'read'],
    ['DescribeKeyDetail', 'read'],
    ['SomethingUnknown', 'read'],
  ])('%s that succeeded is %s', (action, kind) => {
    expect(auditKind(action, 'OK')).toBe(kind);
  });

  it('classifies every Action (the table is total)', () => {
    expect(Object.keys(ACTION_KINDS).sort()).toEqual([...ACTION_NAMES].sort());
    const named = [...actionsOfKind('change'), ...actionsOfKind('private-key'), ...actionsOfKind('read')];
    expect(new Set(named).size).toBe(named.length);
  });
});
