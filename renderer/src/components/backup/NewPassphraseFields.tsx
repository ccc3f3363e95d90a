// A new passphrase typed twice (the vault's on first run or restore, a backup's recovery passphrase,
// the new one of Change passphrase and Move to a passphrase): the two fields, what keeps them from
// being used (too short, or the two differ) and, where a form asks for it, that problem below them.
import { PASSPHRASE_MIN } from '../../../../core/contract/app-api.ts';

/** A new passphrase and its repeat, as typed. */
export interface NewPassphrase {
  readonly passphrase: string;
  readonly repeat: string;
}

export const NO_PASSPHRASE: NewPassphrase = { passphrase: '', repeat: '' };

/** Which passphrase the fields ask for: it names their labels and problems. */
export type PassphraseRole = 'vault-first-run' | 'vault-restore' | 'recovery' | 'new';

const WORDS: Record<PassphraseRole, { label: string; repeat: string; tooShort: string; differ: string }> = {
  'vault-first-run': {
    label: 'Passphrase',
    repeat: 'Repeat passphrase',
    tooShort: `The passphrase needs at least ${PASSPHRASE_MIN} characters.`,
    differ: 'The passphrases differ.',
  },
  'vault-restore': {
    label: 'Vault passphrase',
    repeat: 'Repeat vault passphrase',
    tooShort: `The vault passphrase needs at least ${PASSPHRASE_MIN} characters.`,
    differ: 'The passphrases differ.',
  },
  recovery: {
    label: 'Recovery passphrase',
    repeat: 'Repeat recovery passphrase',
    tooShort: `The recovery passphrase needs at least ${PASSPHRASE_MIN} characters.`,
    differ: 'The passphrases differ.',
  },
  new: {
    label: 'New passphrase',
    repeat: 'Repeat new passphrase',
    tooShort: `The new passphrase needs at least ${PASSPHRASE_MIN} characters.`,
    differ: 'The new passphrases differ.',
  },
};

/** What keeps the new passphrase from being used, "" when nothing does. */
export function newPassphraseProblem(role: PassphraseRole, value: NewPassphrase): string {
  if (value.passphrase.length < PASSPHRASE_MIN) return WORDS[role].tooShort;
  if (value.repeat !== value.passphrase) return WORDS[role].differ;
  return '';
}

/**
 * The passphrase and its repeat. With `problem`, it is shown below them (muted) once the passphrase
 * has a character; forms that show their problems elsewhere leave it out.
 */
export function NewPassphraseFields({
  role,
  value,
  onChange,
  problem,
}: {
  role: PassphraseRole;
  value: NewPassphrase;
  onChange: (next: NewPassphrase) => void;
  problem?: string;
}) {
  const words = WORDS[role];
  return (
    <>
      <label>
        {words.label} (at least {PASSPHRASE_MIN} characters)
        <input type="password" autoComplete="new-password" value={value.passphrase} onChange={(e) => onChange({ ...value, passphrase: e.target.value })} />
      </label>
      <label>
        {words.repeat}
        <input type="password" autoComplete="new-password" value={value.repeat} onChange={(e) => onChange({ ...value, repeat: e.target.value })} />
      </label>
      {problem && value.passphrase !== '' ? <p className="muted">{problem}</p> : null}
    </>
  );
}
