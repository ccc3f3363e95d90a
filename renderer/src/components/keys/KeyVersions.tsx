// A key's versions (from Keys.Detail, which the key detail loads once per key and again after a
// change), Create version (with elapsed time: RSA_4096 takes seconds), and each version's public key.
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { kms } from '../../api/bridge.ts';
import { CopyButton } from '../CopyButton.tsx';
import { ErrorLine, ProgressBar, useElapsed } from '../common.tsx';
import { VersionTools } from '../x509/VersionTools.tsx';
import { formatUtc } from './format.ts';
import { useKeyDetail } from './key-detail-data.ts';
import { PublicKeyPanel } from './PublicKeyPanel.tsx';
import { useKmsAction } from './use-kms-action.ts';
import { isKeySpec, isSymmetricSpec } from '../../../../core/contract/specs.ts';

export function KeyVersions({ keySummary }: { keySummary: KeySummary }) {
  const { KeyId: keyId, VersionCount: versionCount } = keySummary;
  const { detail, error: loadError } = useKeyDetail();
  const versions = detail?.Versions;
  const action = useKmsAction();
  const elapsed = useElapsed(action.busy !== undefined);

  const creatable = keySummary.KeyState === 'Enabled' && keySummary.Origin === 'Aliyun_KMS';
  // A symmetric key's versions hold no public key; the newest is its primary version (Encrypt uses it).
  const symmetric = isKeySpec(keySummary.KeySpec) && isSymmetricSpec(keySummary.KeySpec);
  const primary = detail?.KeyMetadata.PrimaryKeyVersion;

  return (
    <section className="stack" aria-labelledby="key-versions-title">
      <div className="row section-head">
        <h3 id="key-versions-title">Versions ({versions?.length ?? versionCount})</h3>
        <button
          type="button"
          disabled={!creatable || action.busy !== undefined}
          title={creatable ? (symmetric ? 'Rotate now: a new primary version (old versions keep decrypting)' : 'Generate a new key pair as a new version of this key') : 'Only an enabled key generated here can get new versions'}
          onClick={() => void action.run('Create version', () => kms('CreateKeyVersion', { KeyId: keyId }), `Created a new ${keySummary.KeySpec} version`)}
        >
          Create version
        </button>
      </div>
      {action.busy ? <ProgressBar label={`Generating the ${keySummary.KeySpec} ${symmetric ? 'key' : 'key pair'}: ${elapsed.toFixed(1)} s`} /> : null}
      <ErrorLine error={action.error} />
      <ErrorLine error={loadError} />
      {versions === undefined && !loadError ? <p className="muted">Loading versions…</p> : null}
      {versions?.length === 0 ? <p className="muted">No versions yet (key material not imported).</p> : null}
      {versions?.map((v, i) => (
        <section key={v.KeyVersionId} className="version" aria-label={`Version ${i + 1}`}>
          <h4>
            Version {i + 1} <code data-testid="key-version-id">{v.KeyVersionId}</code>
            <CopyButton text={v.KeyVersionId} what="KeyVersionId" />
          </h4>
          <p className="muted hint">
            Created {formatUtc(v.CreationDate)}
            {symmetric && v.KeyVersionId === primary ? <strong data-testid="primary-version"> · primary (Encrypt uses it)</strong> : null}
          </p>
          {symmetric ? null : (
            <>
              <PublicKeyPanel keySummary={keySummary} keyVersionId={v.KeyVersionId} />
              <VersionTools keySummary={keySummary} keyVersionId={v.KeyVersionId} versionLabel={`Version ${i + 1}`} />
            </>
          )}
        </section>
      ))}
    </section>
  );
}
