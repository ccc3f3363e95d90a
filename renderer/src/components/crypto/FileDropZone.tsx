// A file chooser that also takes a file dropped on it. The native <input type="file"> stays in
// the tab order (keyboard users open the picker with Enter/Space; Playwright's setInputFiles
// finds it by its label); the surrounding zone accepts drag-and-drop.
import { useId, useState, type DragEvent } from 'react';
import { formatBytes } from './bytes.ts';

export function FileDropZone({
  label,
  file,
  onFile,
  disabled,
  hint,
}: {
  label: string;
  file: File | undefined;
  onFile: (file: File | undefined) => void;
  disabled?: boolean;
  hint?: string;
}) {
  const id = useId();
  const [over, setOver] = useState(false);

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setOver(false);
    if (disabled) return;
    const dropped = event.dataTransfer.files[0];
    if (dropped) onFile(dropped);
  }

  return (
    <div
      className={over ? 'dropzone over' : 'dropzone'}
      data-testid="dropzone"
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <label htmlFor={id} className="dropzone-label">
        {label}
      </label>
      <input
        id={id}
        type="file"
        disabled={disabled}
        onChange={(e) => {
          onFile(e.target.files?.[0]);
          // Choosing the same file again still fires change.
          e.target.value = '';
        }}
      />
      <p className="muted dropzone-hint">{hint ?? 'or drop a file here'}</p>
      {file ? (
        <p className="dropzone-file" data-testid="chosen-file">
          <strong>{file.name}</strong> <span className="muted">({formatBytes(file.size)})</span>
        </p>
      ) : null}
    </div>
  );
}
