// A key list entry (KeySummary, as Keys.Inventory answers it) for renderer tests: an Enabled
// EC_P256 signing key with one version, no aliases or tags, with the fields a test gives.
import type { KeySummary } from '../../core/contract/app-api.ts';

export function keySummary(over: Partial<KeySummary> & Pick<KeySummary, 'KeyId'>): KeySummary {
  return {
    KeySpec: 'EC_P256',
    KeyUsage: 'SIGN/VERIFY',
    KeyState: 'Enabled',
    Description: '',
    CreationDate: '2025-01-01T00:00:00Z',
    DeleteDate: '',
    Origin: 'Aliyun_KMS',
    Exportable: false,
    Aliases: [],
    Tags: [],
    VersionCount: 1,
    ...over,
  };
}
