// One key version's public key (from Keys.Detail's GetPublicKeyBundle answer for it): SHA-256
// fingerprints, Copy PEM, and Save as PEM / DER / JWK / OpenSSH. A format a spec cannot have (no
// JWK curve for SM2, no OpenSSH key type for secp256k1 or SM2) has no button; the vault's reason is
// shown in its place.
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { decodeBase64 } from '../../../../core/contract/base64.ts';
import { copyText, saveFile } from '../../lib/save.ts';
import { useUiStore } from '../../stores/ui-store.ts';
import { ErrorLine } from '../common.tsx';
import { publicKeyFileStem } from './format.ts';
import { useVersionDetail } from './key-detail-data.ts';

export function PublicKeyPanel({ keySummary, keyVersionId }: { keySummary: KeySummary; keyVersionId: string }) {
  const version = useVersionDetail(keyVersionId);
  const bundle = version?.PublicKeyBundle;
  const error = version?.PublicKeyError ? { code: version.PublicKeyError.Code, message: version.PublicKeyError.Message } : undefined;

  if (error) return <ErrorLine error={error} />;
  if (!bundle) return <p className="muted">Loading the public key…</p>;

  const stem = publicKeyFileStem(keySummary, keyVersionId);
  const { notify } = useUiStore.getState();

  async function copyPem(pem: string) {
    if (await copyText(pem)) notify('ok', 'Public key (PEM) copied to the clipboard');
    else notify('error', 'The clipboard refused the text: use Save PEM instead');
  }

  return (
    <div className="public-key stack">
      <dl className="facts">
        <dt>SHA-256 (SPKI DER)</dt>
        <dd>
          <code data-testid="fingerprint-hex">{bundle.Fingerprints.SpkiSha256Hex}</code>
        </dd>
        <dt>SHA-256 (base64)</dt>
        <dd>
          <code>{bundle.Fingerprints.SpkiSha256Base64}</code>
        </dd>
        {bundle.Fingerprints.OpenSsh ? (
          <>
            <dt>OpenSSH fingerprint</dt>
            <dd>
              <code data-testid="fingerprint-openssh">{bundle.Fingerprints.OpenSsh}</code>
            </dd>
          </>
        ) : null}
      </dl>
      <details>
        <summary>PEM</summary>
        <pre className="pem">{bundle.PublicKeyPem}</pre>
      </details>
      <div className="row" role="group" aria-label="Public key formats">
        <button type="button" onClick={() => void copyPem(bundle.PublicKeyPem)}>
          Copy PEM
        </button>
        <button type="button" onClick={() => saveFile(`${stem}.pem`, bundle.PublicKeyPem, 'application/x-pem-file')}>
          Save PEM
        </button>
        <button type="button" onClick={() => saveFile(`${stem}.der`, decodeBase64(bundle.PublicKeyDer, 'PublicKeyDer'), 'application/pkix-spki')}>
          Save DER
        </button>
        {bundle.Jwk ? (
          <button type="button" onClick={() => saveFile(`${stem}.jwk.json`, `${JSON.stringify(bundle.Jwk, null, 2)}\n`, 'application/jwk+json')}>
            Save JWK
          </button>
        ) : null}
        {bundle.OpenSsh ? (
          <button type="button" onClick={() => saveFile(`${stem}.pub`, `${bundle.OpenSsh}\n`, 'text/plain')}>
            Save OpenSSH
          </button>
        ) : null}
      </div>
      {!bundle.Jwk ? <p className="muted hint">No JWK: {bundle.Omitted.Jwk ?? 'not offered for this key'}</p> : null}
      {!bundle.OpenSsh ? <p className="muted hint">No OpenSSH: {bundle.Omitted.OpenSsh ?? 'not offered for this key'}</p> : null}
    </div>
  );
}
