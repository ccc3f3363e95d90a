// Why the chosen key cannot sign, verify, encrypt or decrypt now (only an Enabled key can), and
// the button on the Keys tab that changes that (KeyStateProblem.tsx shows it beside the buttons).
import type { KeySummary } from '../../../../core/contract/app-api.ts';

/** The reason `key` cannot be used for a cryptographic operation, or undefined when it can. */
export function keyStateProblem(key: Pick<KeySummary, 'KeyState'> | undefined): string | undefined {
  if (!key || key.KeyState === 'Enabled') return undefined;
  switch (key.KeyState) {
    case 'Disabled':
      return 'This key is disabled: enable it on the Keys tab (Enable key)';
    case 'PendingDeletion':
      return 'This key is scheduled for deletion: cancel the deletion on the Keys tab (Cancel deletion) to use it';
    case 'PendingImport':
      return 'This key has no key material yet: import it on the Keys tab';
    default:
      return `This key is ${key.KeyState}: only an Enabled key can be used`;
  }
}
