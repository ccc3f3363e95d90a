// The release-signing formats by name (issue 13), where both sides of the app can read them: the
// host's schemas (./app-api.ts) validate a Format against this list, and core/formats/format.ts
// re-exports it for the format modules. What each format can carry, and why not, stays with the
// format module (its `unsupported(spec)`); the app asks the host for it (Sign.Formats).
export const SIGNATURE_FORMATS = ['raw', 'ssh', 'openpgp', 'sigstore', 'jws'] as const;
export type SignatureFormatName = (typeof SIGNATURE_FORMATS)[number];

export function isSignatureFormat(value: unknown): value is SignatureFormatName {
  return typeof value === 'string' && (SIGNATURE_FORMATS as readonly string[]).includes(value);
}

/** The media type of each format's file (what a download or an HTTP answer says it holds). */
export const SIGNATURE_MEDIA_TYPES: Readonly<Record<SignatureFormatName, string>> = {
  raw: 'application/octet-stream',
  ssh: 'text/plain',
  openpgp: 'application/pgp-signature',
  sigstore: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  jws: 'application/jose',
};
