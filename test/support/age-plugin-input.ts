// What age writes to age-plugin-deskkms's stdin (C2SP age-plugin), for tests that drive the plugin
// in process without age: phase 1's commands, then age's "ok" to each command the plugin sends back.
import { randomBytes } from 'node:crypto';
import { encodeIdentity, encodeRecipient, type AgeRecipient } from '../../core/formats/age-deskkms.ts';
import { encodeStanza } from '../../core/formats/age-stanza.ts';

/** age -d with the identity of `keyId` on a file with one deskkms kms stanza for `stanzaKeyId`; age answers one command. */
export function ageDecryptInput(keyId: string, stanzaKeyId = keyId): string {
  return [
    encodeStanza('add-identity', [encodeIdentity(keyId)]),
    encodeStanza('recipient-stanza', ['0', 'deskkms', 'kms', stanzaKeyId], new Uint8Array(40)),
    encodeStanza('done', []),
    encodeStanza('ok', []),
  ].join('');
}

/** age -r RECIPIENT wrapping one file key; age answers one command. */
export function ageEncryptInput(recipient: AgeRecipient): string {
  return [
    encodeStanza('add-recipient', [encodeRecipient(recipient)]),
    encodeStanza('wrap-file-key', [], randomBytes(16)),
    encodeStanza('done', []),
    encodeStanza('ok', []),
  ].join('');
}
