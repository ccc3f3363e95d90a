// A recovery share as a printable page: one self-contained HTML document (inline CSS, the QR code
// as inline SVG, no script, no external resource; its Content-Security-Policy forbids loading any),
// so it prints the same from a browser on an offline station as from the app. The page carries
// the share's words, numbered, in large monospace, and a QR code of the mnemonic (the words
// separated by single spaces, exactly what readShareFile gives back), plus what the share is and
// how it is used. Light colours whatever the viewer's theme: it is meant for paper.
import QRCode from 'qrcode';
import type { ShareInfo } from './share-file.ts';

/** Text for HTML content or a quoted attribute value. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The mnemonic as the QR code holds it: lower-case words, single spaces. */
function normalise(mnemonic: string): string {
  return mnemonic.trim().toLowerCase().split(/\s+/).filter((w) => w !== '').join(' ');
}

// Error correction M (15% of the code may be lost: a fold or a stain) and the standard 4-module quiet zone.
const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;

/** The mnemonic's QR code as a PNG (for tests and hosts that want an image rather than the page). */
export async function shareQrPng(mnemonic: string): Promise<Buffer> {
  return QRCode.toBuffer(normalise(mnemonic), { ...QR_OPTIONS, type: 'png', scale: 6 });
}

/** The mnemonic's QR code as an SVG element (black modules on white). */
export async function shareQrSvg(mnemonic: string): Promise<string> {
  return QRCode.toString(normalise(mnemonic), { ...QR_OPTIONS, type: 'svg' });
}

const STYLE = `
:root { color-scheme: light; }
@page { size: auto; margin: 14mm; }
* { box-sizing: border-box; }
html, body { background: #ffffff; color: #111111; }
body { font: 11pt/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  margin: 0 auto; padding: 12mm; max-width: 190mm; }
h1 { font-size: 20pt; margin: 0 0 2mm; }
.lead { font-size: 12pt; margin: 0 0 5mm; }
.warning { border: 0.6mm solid #9a3412; background: #fff7ed; color: #431407; padding: 3mm 4mm; margin: 0 0 5mm; border-radius: 2mm; }
.top { display: flex; gap: 8mm; align-items: flex-start; margin: 0 0 5mm; }
.top .facts { flex: 1 1 auto; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 1mm 4mm; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
dd.id { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.qr { flex: 0 0 62mm; width: 62mm; margin: 0; text-align: center; }
.qr svg { display: block; width: 62mm; height: 62mm; }
.qr p { font-size: 9pt; margin: 1mm 0 0; }
ol.words { list-style: none; padding: 0; margin: 0 0 5mm; display: grid; grid-template-columns: repeat(4, 1fr); gap: 2mm 4mm; }
ol.words li { font: 600 14pt/1.6 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  border-bottom: 0.3mm solid #999999; padding: 0 1mm; white-space: nowrap; }
ol.words li span { display: inline-block; min-width: 3.5ch; color: #555555; font-weight: 400; font-size: 10pt; }
h2 { font-size: 13pt; margin: 5mm 0 2mm; }
ul, ol.steps { margin: 0 0 3mm; padding-left: 6mm; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 10pt; }
footer { margin-top: 6mm; font-size: 9pt; color: #444444; }
@media print {
  body { padding: 0; max-width: none; }
  .warning { background: #ffffff; }
  .top, ol.words, .warning { break-inside: avoid; }
}
`;

/**
 * The printable page of one share: title, what it is and how to use it, the backup's and vault's
 * ids, the date, the words numbered in a grid and a QR code of the mnemonic. Every value is
 * escaped for HTML.
 */
export async function renderSharePage(share: ShareInfo): Promise<string> {
  const mnemonic = normalise(share.mnemonic);
  const words = mnemonic.split(' ');
  const k = escapeHtml(share.index);
  const n = escapeHtml(share.count);
  const m = escapeHtml(share.threshold);
  const svg = await shareQrSvg(mnemonic);
  const wordItems = words.map((w, i) => `<li><span>${i + 1}.</span>${escapeHtml(w)}</li>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DeskKMS recovery share ${k} of ${n}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>DeskKMS recovery share ${k} of ${n}</h1>
<p class="lead">Any <strong>${m}</strong> of the <strong>${n}</strong> shares, together with the backup file, restore this DeskKMS backup.</p>
<p class="warning"><strong>Keep this page apart from the other shares.</strong> Whoever holds ${m} shares <strong>and</strong> the backup file can open the backup and use every key in it. Fewer than ${m} shares reveal nothing about it.</p>
<div class="top">
<div class="facts">
<dl>
<dt>Share</dt><dd>${k} of ${n} (any ${m} restore)</dd>
<dt>Backup id</dt><dd class="id">${escapeHtml(share.backupId)}</dd>
<dt>Vault id</dt><dd class="id">${escapeHtml(share.vaultId)}</dd>
<dt>Created</dt><dd class="id">${escapeHtml(share.created)}</dd>
<dt>Share set</dt><dd class="id">${escapeHtml(share.identifier)}</dd>
<dt>Format</dt><dd>SLIP-0039 mnemonic share, ${words.length} words</dd>
</dl>
</div>
<figure class="qr" aria-label="QR code of the ${words.length} words">
${svg}
<p>QR code: the ${words.length} words below, separated by spaces.</p>
</figure>
</div>
<h2>The words</h2>
<ol class="words">
${wordItems}
</ol>
<h2>How to restore</h2>
<ol class="steps">
<li>Gather the backup file and any ${m} of the ${n} shares (this page is one).</li>
<li>Type each share's words into a text file (or scan its QR code), one file per share.</li>
<li>Run <code>deskkms backup restore --in BACKUP --vault DIR --share SHARE-1 --share SHARE-2 ...</code>,
or choose <em>Restore from a backup</em> on the DeskKMS app's first screen.</li>
</ol>
<p>To check the backup without restoring it, run <code>deskkms backup verify --in BACKUP --share SHARE-1 ...</code> or use <em>Verify backup</em> in the app.</p>
<footer>Store the page where fire, water and curious eyes do not reach it. The words are the secret; the QR code holds the same words.</footer>
</body>
</html>
`;
}
