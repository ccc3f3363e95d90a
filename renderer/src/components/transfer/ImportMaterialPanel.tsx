// Bring your own key for an EXTERNAL key in PendingImport, as Alibaba Cloud KMS has it:
// 1. GetParametersForImport: a wrapping public key (shown and saved as PEM or DER) and an import
//    token with its expiry; 2. the key material wrapped outside (README: OpenSSL commands) is
//    pasted or loaded, base64; 3. ImportKeyMaterial. The wrapping private key never leaves the
//    key worker; nothing here is secret but the token, which is useless without the vault.
import { useState, type FormEvent } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { decodeBase64 } from '../../../../core/contract/base64.ts';
import { WRAPPING_ALGORITHM_NAMES, isSymmetricWrapping, wrappingKeySpecOf, type WrappingAlgorithm } from '../../../../core/contract/key-import.ts';
import { isKeySpec, isSymmetricSpec } from '../../../../core/contract/specs.ts';
import type { ActionResponse } from '../../../../core/contract/responses.ts';
import { kms } from '../../api/bridge.ts';
import { copyText, saveFile } from '../../lib/save.ts';
import { useUiStore } from '../../stores/ui-store.ts';
import { ErrorLine, ProgressBar } from '../common.tsx';
import { formatUtc, keyDisplayName } from '../keys/format.ts';
import { useKmsAction } from '../keys/use-kms-action.ts';
import { PemInput } from '../x509/PemInput.tsx';
import { compactBase64, fileAsBase64 } from '../crypto/bytes.ts';
import { pemFromBase64Der } from './pem.ts';


const DESCRIPTIONS: Record<WrappingAlgorithm, string> = {
  RSAES_OAEP_SHA_256_AES_256_ECB_PKCS7_PAD:
    'A random AES-256 key under RSAES-OAEP (SHA-256, MGF1-SHA-256) of the wrapping key (256 bytes), followed by the PKCS#8 DER private key under AES-256-ECB with PKCS#7 padding.',
  SM2PKE_SM4_ECB:
    'A random SM4 key under SM2PKE of the wrapping key, raw C1 || C3 || C2 (113 bytes), followed by the key under SM4-ECB without padding (the 32-byte SM2 scalar D, or PKCS#8 DER).',
  RSAES_OAEP_SHA_256: 'The symmetric key itself (32 bytes for Aliyun_AES_256, 16 for Aliyun_SM4) under RSAES-OAEP with SHA-256 (MGF1-SHA-256) of the wrapping key: 256 bytes.',
  RSAES_OAEP_SHA_1: 'The symmetric key itself under RSAES-OAEP with SHA-1 (MGF1-SHA-1) of the wrapping key: 256 bytes.',
  SM2PKE: 'The symmetric key itself under SM2PKE of the wrapping key, raw C1 || C3 || C2 or GM/T 0009 DER.',
};

export function ImportMaterialPanel({ keySummary }: { keySummary: KeySummary }) {
  const symmetric = isKeySpec(keySummary.KeySpec) && isSymmetricSpec(keySummary.KeySpec);
  // Symmetric keys take their material wrapped directly; asymmetric ones under an ephemeral key.
  const algorithms = WRAPPING_ALGORITHM_NAMES.filter((name) => isSymmetricWrapping(name) === symmetric);
  const [algorithm, setAlgorithm] = useState<WrappingAlgorithm>(algorithms[0]!);
  const [params, setParams] = useState<ActionResponse<'GetParametersForImport'> | undefined>(undefined);
  const [material, setMaterial] = useState('');
  const fetching = useKmsAction();
  const importing = useKmsAction();
  const wrappingSpec = wrappingKeySpecOf(algorithm);
  const busy = fetching.busy !== undefined || importing.busy !== undefined;
  const notify = useUiStore.getState().notify;
  const expired = params !== undefined && Date.parse(params.TokenExpireTime) <= Date.now();

  async function getParameters() {
    setParams(undefined);
    await fetching.run('Get import parameters', async () => {
      const r = await kms('GetParametersForImport', { KeyId: keySummary.KeyId, WrappingAlgorithm: algorithm, WrappingKeySpec: wrappingSpec });
      setParams(r);
    });
  }

  async function importMaterial(event: FormEvent) {
    event.preventDefault();
    if (!params || busy) return;
    await importing.run(
      'Import key material',
      () => kms('ImportKeyMaterial', { KeyId: keySummary.KeyId, EncryptedKeyMaterial: compactBase64(material), ImportToken: params.ImportToken }),
      `Key material imported into ${keyDisplayName(keySummary)}: the key is enabled`,
    );
  }

  const stem = `${keySummary.KeyId}-wrapping-${wrappingSpec}`;
  const pem = params ? pemFromBase64Der(params.PublicKey, 'PUBLIC KEY') : '';

  return (
    <section className="byok stack" aria-labelledby="byok-title">
      <h3 id="byok-title">Import key material</h3>
      <p className="muted hint">
        This key was created for your own {keySummary.KeySpec} key material (Origin EXTERNAL). It has no version until the material is imported; it then gets exactly one.
      </p>
      <ol className="byok-steps">
        <li className="stack">
          <div className="row">
            <label>
              Wrapping algorithm
              <select value={algorithm} onChange={(e) => setAlgorithm(e.target.value as WrappingAlgorithm)} disabled={busy}>
                {algorithms.map((name) => (
                  <option key={name} value={name}>
                    {name} ({wrappingKeySpecOf(name)})
                  </option>
                ))}
              </select>
            </label>
            <button type="button" className={params ? '' : 'primary'} onClick={() => void getParameters()} disabled={busy}>
              {params ? 'Get new import parameters' : 'Get import parameters'}
            </button>
          </div>
          <p className="muted hint">{DESCRIPTIONS[algorithm]}</p>
          {fetching.busy ? <ProgressBar label="Making the wrapping key in the vault" /> : null}
          <ErrorLine error={fetching.error} />
        </li>
        {params ? (
          <li className="stack" aria-label="Import parameters">
            <dl className="facts">
              <dt>Wrapping key</dt>
              <dd>
                {wrappingSpec}, {algorithm}
              </dd>
              <dt>Import token</dt>
              <dd>
                <code data-testid="import-token">{params.ImportToken}</code>
              </dd>
              <dt>Token expires</dt>
              <dd className={expired ? 'error' : ''} data-testid="token-expiry">
                {formatUtc(params.TokenExpireTime)}
                {expired ? ' (expired: get new parameters)' : ''}
              </dd>
            </dl>
            <details>
              <summary>Wrapping public key (PEM)</summary>
              <pre className="pem" data-testid="wrapping-pem">
                {pem}
              </pre>
            </details>
            <div className="row" role="group" aria-label="Wrapping key and token">
              <button type="button" onClick={() => saveFile(`${stem}.pem`, pem, 'application/x-pem-file')}>
                Save wrapping key PEM
              </button>
              <button type="button" onClick={() => saveFile(`${stem}.der`, decodeBase64(params.PublicKey, 'PublicKey'), 'application/pkix-spki')}>
                Save wrapping key DER
              </button>
              <button
                type="button"
                onClick={() => void copyText(params.ImportToken).then((ok) => (ok ? notify('ok', 'Import token copied') : notify('error', 'The clipboard refused the text: use Save token')))}
              >
                Copy token
              </button>
              <button type="button" onClick={() => saveFile(`${keySummary.KeyId}-import-token.txt`, `${params.ImportToken}\n`, 'text/plain')}>
                Save token
              </button>
            </div>
          </li>
        ) : null}
        {params ? (
          <li>
            <form className="stack" onSubmit={(e) => void importMaterial(e)}>
              <PemInput
                label="Encrypted key material (base64)"
                fileLabel="Load key material file"
                value={material}
                onChange={setMaterial}
                placeholder="base64(wrapped ephemeral key || encrypted private key)"
                disabled={busy}
                read={fileAsBase64}
                loadedNote="(binary files are base64-encoded)"
              />
              <div className="row">
                <button type="submit" className="primary" disabled={busy || compactBase64(material) === '' || expired}>
                  Import key material
                </button>
              </div>
              {importing.busy ? <ProgressBar label="Unwrapping and sealing in the vault" /> : null}
              <ErrorLine error={importing.error} />
            </form>
          </li>
        ) : null}
      </ol>
    </section>
  );
}
