// Text that may be pasted or loaded from a file (a CSR, a certificate chain, a public key): a
// labelled textarea plus a labelled file chooser that fills it. The file's name is shown; the
// text stays editable.
import { useId, useState } from 'react';

export function PemInput({
  label,
  fileLabel,
  value,
  onChange,
  placeholder,
  accept,
  disabled,
}: {
  label: string;
  fileLabel: string;
  value: string;
  onChange: (text: string) => void;
  placeholder?: string;
  accept?: string;
  disabled?: boolean;
}) {
  const fileId = useId();
  const [fileName, setFileName] = useState<string | undefined>(undefined);
  const [readError, setReadError] = useState<string | undefined>(undefined);

  async function load(file: File | undefined) {
    if (!file) return;
    setReadError(undefined);
    try {
      onChange(await file.text());
      setFileName(file.name);
    } catch (err) {
      setReadError(`Could not read ${file.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  return (
    <div className="stack pem-input">
      <label>
        {label}
        <textarea className="pem-text" value={value} placeholder={placeholder} spellCheck={false} onChange={(e) => onChange(e.target.value)} disabled={disabled} />
      </label>
      <div className="row">
        <label htmlFor={fileId} className="file-label">
          {fileLabel}
        </label>
        <input
          id={fileId}
          type="file"
          accept={accept}
          disabled={disabled}
          onChange={(e) => {
            void load(e.target.files?.[0]);
            e.target.value = '';
          }}
        />
        {fileName ? <span className="muted hint">Loaded {fileName}</span> : null}
      </div>
      {readError ? <p className="error">{readError}</p> : null}
    </div>
  );
}
