// Saving bytes or text the user asked for (a signature, a public key, a CSR): a download of a
// blob: URL, which both Electron (will-download) and the browser host handle.
export function saveFile(name: string, content: string | Uint8Array, type = 'application/octet-stream'): void {
  const blob = new Blob([typeof content === 'string' ? content : (content as Uint8Array<ArrayBuffer>)], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
