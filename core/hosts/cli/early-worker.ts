// The key worker of a command that opens a vault, started early (core/worker/prestart.ts) with a
// passphrase vault's unlock under way in it (early-unlock.ts).
//
// A command that signs through a DeskKMS agent when one serves its vault (signer-session.ts
// withSigner: deskkms sign, git's deskkms-ssh-keygen and deskkms-gpg, cosign's
// sigstore-kms-deskkms publicKey and signMessage) starts it only when nothing is at the DeskKMS
// agent's socket (agent-socket.ts agentSocketPresent, which says why $SSH_AUTH_SOCK does not
// count). Through the agent the command opens no vault, and a worker started for nothing loads
// its modules on the other core meanwhile: `deskkms sign` through the agent took 0.39–0.44 s
// instead of 0.31–0.36 s (the agent bench, 4 December). Without an agent the early start is what
// saves the time: git's `deskkms-ssh-keygen -Y sign` on a passphrase vault took 1.20 s against
// 1.38 s (medians of 8 alternated pairs; B/A 0.85).
// Light on purpose: loaded before the command's own modules.
import { prestartKeyWorker } from '../../worker/prestart.ts';
import { agentSocketPresent } from '../agent/agent-socket.ts';
import { mayNamePassphraseFile } from './vault-flags.ts';

type EarlyIO = { readonly cwd: string; readonly env: Readonly<Record<string, string | undefined>> };

/**
 * Starts the key worker for a command that will open the vault `argv` (or the environment) names,
 * whose passphrase file (if any) is given by `--${passphraseFlag}` (false: it unlocks none). The
 * early unlock's module loads only when a passphrase file may be named.
 */
export async function prestartVaultWorker(io: EarlyIO, argv: readonly string[] = [], passphraseFlag: string | false = 'passphrase-file'): Promise<void> {
  if (passphraseFlag === false || !mayNamePassphraseFile(argv, passphraseFlag, io.env)) {
    prestartKeyWorker();
    return;
  }
  const { earlyUnlock } = await import('./early-unlock.ts');
  prestartKeyWorker(earlyUnlock(argv, io, passphraseFlag));
}

/** prestartVaultWorker, unless a DeskKMS agent will sign instead of the vault. */
export async function prestartUnlessAgent(io: EarlyIO, argv: readonly string[] = [], passphraseFlag: string | false = 'passphrase-file'): Promise<void> {
  if (!agentSocketPresent(io.env)) await prestartVaultWorker(io, argv, passphraseFlag);
}
