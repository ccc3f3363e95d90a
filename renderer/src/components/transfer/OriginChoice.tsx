// The Create key dialog's Origin choice: generated in the vault (Alibaba's Aliyun_KMS, default),
// bring your own key (EXTERNAL: PendingImport until ImportKeyMaterial) or public key only
// (EXTERNAL_PUBLIC_KEY, DeskKMS: verify-only versions from ImportPublicKeyVersion).
import type { KeyOrigin } from '../../../../core/contract/key-import.ts';

const ORIGINS: readonly { value: KeyOrigin; label: string; hint: string }[] = [
  { value: 'Aliyun_KMS', label: 'Generated in the vault', hint: 'The key pair is generated here and gets its first version now.' },
  { value: 'EXTERNAL', label: 'Bring your own key (EXTERNAL)', hint: 'No version yet: import your key material, wrapped, from the key’s detail.' },
  { value: 'EXTERNAL_PUBLIC_KEY', label: 'Public key only (EXTERNAL_PUBLIC_KEY)', hint: 'Holds others’ public keys to verify and encrypt; never signs or decrypts.' },
];

export function OriginChoice({ value, onChange, disabled, symmetric = false }: { value: KeyOrigin; onChange: (origin: KeyOrigin) => void; disabled?: boolean; symmetric?: boolean }) {
  // A symmetric key has no public key: public-key-only is not for it.
  const origins = symmetric ? ORIGINS.filter((o) => o.value !== 'EXTERNAL_PUBLIC_KEY') : ORIGINS;
  return (
    <fieldset className="origin-choice">
      <legend>Key material</legend>
      {origins.map((o) => (
        <label className="choice" key={o.value}>
          <input type="radio" name="create-key-origin" value={o.value} checked={value === o.value} onChange={() => onChange(o.value)} disabled={disabled} />
          <span>
            {o.label}
            <br />
            <span className="muted hint">{o.hint}</span>
          </span>
        </label>
      ))}
      {value !== 'Aliyun_KMS' ? <p className="muted hint">Only keys generated in the vault can be Exportable.</p> : null}
    </fieldset>
  );
}
