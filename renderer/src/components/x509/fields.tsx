// Form pieces the CSR wizard and the CA dialogs share: the subject fields and the subject line
// under them, a numeric text field (validity, path length), the RSA signature algorithm choice,
// and a PEM result with its Save…/Done buttons.
import type { ReactNode } from 'react';
import { SaveAndDone, type SaveChoice } from '../common.tsx';
import { SUBJECT_FIELDS, type SubjectFields, type SubjectName } from './subject.ts';

export const RSA_ALGORITHMS = [
  { value: 'RSA_PKCS1_SHA_256', label: 'sha256WithRSAEncryption (PKCS#1 v1.5)' },
  { value: 'RSA_PSS_SHA_256', label: 'RSASSA-PSS with SHA-256' },
] as const;

/** Nothing for a non-RSA key: its signature algorithm follows from the spec. */
export function AlgorithmChoice({ spec, value, onChange }: { spec: string; value: string; onChange: (v: string) => void }) {
  if (!spec.startsWith('RSA_')) return null;
  return (
    <label>
      Signature algorithm
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {RSA_ALGORITHMS.map((a) => (
          <option key={a.value} value={a.value}>
            {a.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** One labelled input per subject attribute (all, or those `names` lists), for a grid. */
export function SubjectInputs({
  fields,
  onChange,
  names,
  disabled,
}: {
  fields: SubjectFields;
  onChange: (fields: SubjectFields) => void;
  names?: readonly SubjectName[];
  disabled?: boolean;
}) {
  return SUBJECT_FIELDS.filter((f) => names === undefined || names.includes(f.name)).map((f) => (
    <label key={f.name}>
      {f.label}
      <input type="text" value={fields[f.name] ?? ''} placeholder={f.placeholder} onChange={(e) => onChange({ ...fields, [f.name]: e.target.value })} disabled={disabled} />
    </label>
  ));
}

/** The first problem of the form, or the Subject text that will be sent. */
export function SubjectLine({ problem, subject }: { problem: string; subject: string }) {
  return (
    <p className={problem ? 'error' : 'muted hint'} aria-live="polite">
      {problem || (
        <>
          Subject: <code>{subject}</code>
        </>
      )}
    </p>
  );
}

export function NumberField({
  label,
  value,
  onChange,
  disabled,
  invalid,
}: {
  label: string;
  value: string;
  onChange: (text: string) => void;
  disabled?: boolean;
  invalid?: boolean;
}) {
  return (
    <label>
      {label}
      <input type="text" inputMode="numeric" value={value} onChange={(e) => onChange(e.target.value)} disabled={disabled} aria-invalid={invalid} />
    </label>
  );
}

/** A PEM the vault made, read-only, with a Save button per file (`children` first) and Done. */
export function PemResult({ label, pem, saves, onDone, children }: { label: string; pem: string; saves: readonly SaveChoice[]; onDone: () => void; children?: ReactNode }) {
  return (
    <>
      <label>
        {label}
        <textarea className="pem-text" readOnly value={pem} spellCheck={false} />
      </label>
      <SaveAndDone saves={saves} onDone={onDone}>
        {children}
      </SaveAndDone>
    </>
  );
}
