// One recovery share as a sheet of paper, over the whole window: the same page the CLI writes
// (core/custody/share-page.ts), drawn by the app so that the app's strict CSP holds (a page of
// our own with inline CSS would inherit it and lose its styles). The QR code is the share page's
// SVG shown as an image (data: URL), the words are numbered in a grid; Print prints this sheet
// alone (styles.css hides the app under @media print), "Save page" saves the self-contained HTML
// page to print elsewhere, "Save share file" the text file `deskkms backup restore --share` reads.
import { useEffect, useRef } from 'react';
import { createPortal } from 'react-dom';
import type { SharePageView, ShareInfoParam } from '../../../../core/contract/app-api.ts';
import { saveFile } from '../../lib/save.ts';
import { formatUtc } from '../keys/format.ts';

function svgDataUrl(svg: string): string {
  // The SVG the qrcode package writes is ASCII.
  return `data:image/svg+xml;base64,${btoa(svg)}`;
}

export function SharePrintSheet({ share, page, onClose }: { share: ShareInfoParam; page: SharePageView; onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  const words = share.mnemonic.trim().split(/\s+/);
  const title = `DeskKMS recovery share ${share.index} of ${share.count}`;

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    closeRef.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      opener?.focus();
    };
  }, [onClose]);

  return createPortal(
    <div className="share-print" role="dialog" aria-modal="true" aria-label={title} data-testid="share-print">
      <div className="share-print-bar no-print">
        <button type="button" className="primary" onClick={() => window.print()}>
          Print
        </button>
        <button type="button" onClick={() => saveFile(`${page.FileStem}.html`, page.Html, 'text/html')}>
          Save page ({page.FileStem}.html)
        </button>
        <button type="button" onClick={() => saveFile(`${page.FileStem}.txt`, page.Text, 'text/plain')}>
          Save share file ({page.FileStem}.txt)
        </button>
        <button type="button" ref={closeRef} onClick={onClose}>
          Close
        </button>
      </div>
      <article className="share-sheet">
        <h1>{title}</h1>
        <p className="share-lead">
          Any <strong>{share.threshold}</strong> of the <strong>{share.count}</strong> shares, together with the backup file, restore this DeskKMS backup.
        </p>
        <p className="share-warning">
          <strong>Keep this page apart from the other shares.</strong> Whoever holds {share.threshold} shares <strong>and</strong> the backup file can open the
          backup and use every key in it. Fewer than {share.threshold} shares reveal nothing about it.
        </p>
        <div className="share-top">
          <dl className="facts">
            <dt>Share</dt>
            <dd>
              {share.index} of {share.count} (any {share.threshold} restore)
            </dd>
            <dt>Backup id</dt>
            <dd className="mono">{share.backupId}</dd>
            <dt>Vault id</dt>
            <dd className="mono">{share.vaultId}</dd>
            <dt>Created</dt>
            <dd>{formatUtc(share.created)}</dd>
            <dt>Share set</dt>
            <dd>{share.identifier}</dd>
            <dt>Format</dt>
            <dd>SLIP-0039 mnemonic share, {words.length} words</dd>
          </dl>
          <figure className="share-qr">
            <img src={svgDataUrl(page.QrSvg)} alt={`QR code of the ${words.length} words`} data-testid="share-qr" />
            <figcaption>QR code: the {words.length} words below, separated by spaces.</figcaption>
          </figure>
        </div>
        <h2>The words</h2>
        <ol className="share-words" data-testid="share-words">
          {words.map((w, i) => (
            <li key={i}>
              <span className="share-word-n">{i + 1}.</span>
              <span className="share-word">{w}</span>
            </li>
          ))}
        </ol>
        <h2>How to restore</h2>
        <ol className="share-steps">
          <li>Gather the backup file and any {share.threshold} of the {share.count} shares (this page is one).</li>
          <li>Type each share's words into a text file (or scan its QR code), one file per share.</li>
          <li>
            Run <code>deskkms backup restore --in BACKUP --vault DIR --share SHARE-1 --share SHARE-2 …</code>, or choose <em>Restore from a backup</em> on the
            DeskKMS app's first screen.
          </li>
        </ol>
      </article>
    </div>,
    document.body,
  );
}
