// Text that may be pasted or loaded from a file (a CSR, a certificate chain, a public key, wrapped
// key material): a labelled textarea plus a labelled file chooser that fills it. The file's name
// is shown until the text is edited; the text stays editable; a file that cannot be read says so.
import { useId, useState } from 'react';
import { FileInput } from '../common.tsx';

export function PemInput({
  label,
  fileLabel,
  value,
  onChange,
  placeholder,
  accept,
  disabled,
  read = (file) => file.text(),
  loadedNote,
}: {
  label: string;
  fileLabel: string;
  value: string;
  onChange: (text: string) => void;
  placeholder?: string;
  accept?: string;
  disabled?: boolean;
  /** The text a chosen file stands for (default: the file as UTF-8 text). */
  read?: (file: File) => Promise<string>;
  /** Said after "Loaded <file name>", e.g. how the file was turned into text. */
  loadedNote?: string;
}) {
  const fileId = useId();
  const [fileName, setFileName] = useState<string | undefined>(undefined);
  const [readError, setReadError] = useState<string | undefined>(undefined);

  async function load(file: File | undefined) {
    if (!file) return;
    setReadError(undefined);
    try {
      onChange(await read(file));
      setFileName(file.name);
    } catch (err) {
      setReadError(`Could not read ${file.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  return (
    <div className="stack pem-input">
      <label>
        {label}
        <textarea
          className="pem-text"
          value={value}
          placeholder={placeholder}
          spellCheck={false}
          onChange={(e) => {
            onChange(e.target.value);
            setFileName(undefined);
          }}
          disabled={disabled}
        />
      </label>
      <div className="row">
        <label htmlFor={fileId} className="file-label">
          {fileLabel}
        </label>
        <FileInput id={fileId} accept={accept} disabled={disabled} onFile={(f) => void load(f)} />
        {fileName ? (
          <span className="muted hint">
            Loaded {fileName}
            {loadedNote ? ` ${loadedNote}` : ''}
          </span>
        ) : null}
      </div>
      {readError ? <p className="error">{readError}</p> : null}
    </div>
  );
}
