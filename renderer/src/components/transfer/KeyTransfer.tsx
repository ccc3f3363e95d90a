// The key-level import/export section of the key detail: whether (and why not) the key's
// versions can be exported, Import version from encrypted PKCS#8 (keys generated here), the
// bring-your-own-key panel (EXTERNAL keys awaiting material), Import public key (keys of
// public-key-only versions).
import { useState } from 'react';
import type { KeySummary } from '../../../../core/contract/app-api.ts';
import { ImportMaterialPanel } from './ImportMaterialPanel.tsx';
import { ImportPublicKeyDialog, ImportVersionDialog } from './ImportDialogs.tsx';
import { isKeySpec, isSymmetricSpec } from '../../../../core/contract/specs.ts';

/** Why a key's versions cannot be exported, or '' when they can. */
export function exportRefusal(k: Pick<KeySummary, 'Origin' | 'Exportable'>): string {
  if (k.Origin === 'EXTERNAL_PUBLIC_KEY') return 'Not exportable: this key holds public keys only.';
  if (k.Origin === 'EXTERNAL') return 'Not exportable: key material imported with Origin EXTERNAL can never be exported again.';
  if (!k.Exportable) return 'Not exportable: the key was created without Exportable (fixed at creation), so its private keys never leave the vault.';
  return '';
}

export function KeyTransfer({ keySummary }: { keySummary: KeySummary }) {
  const k = keySummary;
  const [open, setOpen] = useState<'none' | 'version' | 'public'>('none');
  const refusal = exportRefusal(k);
  const enabled = k.KeyState === 'Enabled';
  // A symmetric key never leaves the vault (no PKCS#8 either way); BYOK keys still import material.
  const symmetric = isKeySpec(k.KeySpec) && isSymmetricSpec(k.KeySpec);

  return (
    <section className="stack" aria-labelledby="key-transfer-title">
      <h3 id="key-transfer-title">Export and import</h3>
      <p className={refusal || symmetric ? 'muted hint' : 'hint'} data-testid="export-status">
        {symmetric
          ? 'A symmetric key never leaves the vault. Export data keys instead (GenerateAndExportDataKey, ExportDataKey), or encrypt files to it with age.'
          : refusal || 'Exportable: each version has Export private key… (encrypted under a passphrase you choose).'}
      </p>
      {k.Origin === 'Aliyun_KMS' && !symmetric ? (
        <div className="row">
          <button type="button" disabled={!enabled} onClick={() => setOpen('version')} title="Add a version from a passphrase-encrypted PKCS#8 file of the same spec">
            Import version from encrypted PKCS#8…
          </button>
        </div>
      ) : null}
      {k.Origin === 'EXTERNAL' && k.KeyState === 'PendingImport' ? <ImportMaterialPanel keySummary={k} /> : null}
      {k.Origin === 'EXTERNAL' && k.KeyState !== 'PendingImport' ? <p className="muted hint">Key material imported (Origin EXTERNAL): the key has exactly one version.</p> : null}
      {k.Origin === 'EXTERNAL_PUBLIC_KEY' ? (
        <>
          <p className="muted hint">Public-key-only key: its versions verify and encrypt; signing and decryption are refused (Rejected.PublicKeyOnly).</p>
          <div className="row">
            <button type="button" className={k.VersionCount === 0 ? 'primary' : ''} disabled={!enabled} onClick={() => setOpen('public')}>
              Import public key…
            </button>
          </div>
        </>
      ) : null}
      <ImportVersionDialog open={open === 'version'} onClose={() => setOpen('none')} keySummary={k} />
      <ImportPublicKeyDialog open={open === 'public'} onClose={() => setOpen('none')} keySummary={k} />
    </section>
  );
}
