// The refusal of a key that is not Enabled, worded once for every path that refuses one (the
// Actions' assertUsable, format signing through the vault or an agent, the air-gap station): its
// Code and how to make the key usable again, in the app and on the command line.
import { KmsError, type ErrorCode } from './errors.ts';

/** `state` is the key's KeyState (not Enabled); `dueDate`, a pending deletion's date when known. */
export function keyStateRefusal(keyId: string, state: string, dueDate?: string | null): KmsError {
  switch (state) {
    case 'Disabled':
      return new KmsError('Rejected.Disabled', `key ${keyId} is disabled; enable it with "Enable key" in the app or deskkms EnableKey --KeyId ${keyId}`);
    case 'PendingDeletion':
      return new KmsError(
        'Rejected.PendingDeletion',
        `key ${keyId} is pending deletion (due ${dueDate ?? '?'}); cancel with CancelKeyDeletion to use it ("Cancel deletion" in the app, deskkms CancelKeyDeletion --KeyId ${keyId})`,
      );
    case 'PendingImport':
      return new KmsError('Rejected.PendingImport', `key ${keyId} has no key material yet (PendingImport); import it with ImportKeyMaterial`);
    default:
      return new KmsError('Rejected.Disabled' satisfies ErrorCode, `key ${keyId} is ${state}: only an Enabled key can be used`);
  }
}
