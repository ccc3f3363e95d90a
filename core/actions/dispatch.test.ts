// dispatch's answer to a bug inside an operation (anything thrown that is not a KmsError): the
// caller gets InternalFailure naming where the detail is, the host's onInternalError gets the
// detail under the same RequestId, and the audit log records the refusal with that RequestId.
import { describe, expect, it, vi } from 'vitest';
import { dispatch } from './dispatch.ts';
import { b64, useActionVault } from '../../test/support/action-vault.ts';

const v = useActionVault('dispatch');

describe('dispatch and a bug inside an operation', () => {
  it('tells the host the detail under the RequestId the caller and the audit entry carry', async () => {
    const key = await v.makeKey('EC_P256');
    const bug = new TypeError('cannot read properties of undefined (reading "sealed")');
    const spy = vi.spyOn(v.vault.worker, 'request').mockRejectedValueOnce(bug);
    const seen: { action: string; requestId: string; error: unknown }[] = [];
    try {
      const outcome = await dispatch(v.vault, 'AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(Buffer.alloc(32, 7)) }, 'test', {
        onInternalError: (action, requestId, error) => seen.push({ action, requestId, error }),
      });
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.error.Code).toBe('InternalFailure');
      expect(outcome.error.Message).toContain(`in the host's log under RequestId ${outcome.error.RequestId}`);
      // The detail goes to the host only, never to the caller.
      expect(outcome.error.Message).not.toContain('sealed');
      expect(seen).toEqual([{ action: 'AsymmetricSign', requestId: outcome.error.RequestId, error: bug }]);
      expect(v.auditOf(outcome.error.RequestId)).toMatchObject({ action: 'AsymmetricSign', code: 'InternalFailure', keyId: key.keyId });
    } finally {
      spy.mockRestore();
    }
  });

  it('does not call the hook for a refusal (a KmsError), and without a hook names no log', async () => {
    const seen: unknown[] = [];
    const refused = await dispatch(v.vault, 'DescribeKey', { KeyId: 'alias/none' }, 'test', { onInternalError: (...args) => seen.push(args) });
    expect(refused.ok ? 'ok' : refused.error.Code).toBe('Forbidden.AliasNotFound');
    expect(seen).toEqual([]);

    const key = await v.makeKey('EC_P256');
    const spy = vi.spyOn(v.vault.worker, 'request').mockRejectedValueOnce(new RangeError('bug'));
    try {
      const outcome = await dispatch(v.vault, 'AsymmetricSign', { KeyId: key.keyId, KeyVersionId: key.versionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(Buffer.alloc(32, 7)) }, 'test');
      expect(outcome.ok ? 'ok' : outcome.error.Code).toBe('InternalFailure');
      expect(outcome.ok ? '' : outcome.error.Message).not.toContain("host's log");
    } finally {
      spy.mockRestore();
    }
  });
});
