// The command list that `deskkms --help` prints, and the only place each command's summary is
// written: a command's module (and everything it imports: the vault, crypto, HTTP) is loaded only
// when that command runs or prints its own help, so that the main help and an unknown-command
// error start in about the time of Node itself.
import type { Command } from './command.ts';
import { BACKUP_VAULT_PASSPHRASE_FLAG } from './vault-flags.ts';

export interface CommandEntry {
  readonly name: string;
  /** One line for the main help; also the first line of the command's own help. */
  readonly summary: string;
  /** The command's module, imported on first use. */
  load(): Promise<Command>;
  /**
   * It opens a vault (all its subcommands do): its key worker is started before the module loads
   * (core/worker/prestart.ts). 'unless-agent': it signs through a DeskKMS agent that serves the
   * vault when one runs (signer-session.ts), so the worker starts early only when nothing is at
   * the DeskKMS agent's socket (early-worker.ts).
   */
  readonly opensVault?: true | 'unless-agent';
  /**
   * When not every subcommand unlocks the vault with --passphrase-file: the subcommands that do and
   * the flag naming their vault passphrase file. The worker started early derives the unlock key
   * from that file (early-unlock.ts). `backup create` reads the vault's from --vault-passphrase-file
   * (its --passphrase-file is the recovery passphrase); verify and restore open no vault.
   */
  readonly earlyUnlock?: { readonly subcommands: readonly string[]; readonly flag: string };
}

/** The flag of the vault passphrase file the command `entry` run with `args` unlocks with; false: it unlocks none. */
export function vaultPassphraseFlagOf(entry: CommandEntry, args: readonly string[]): string | false {
  if (!entry.earlyUnlock) return 'passphrase-file';
  return args[0] !== undefined && entry.earlyUnlock.subcommands.includes(args[0]) ? entry.earlyUnlock.flag : false;
}

export const COMMAND_INDEX: readonly CommandEntry[] = [
  { name: 'init', summary: 'Create a vault whose data key is held in the OS keychain (or, with --passphrase-file, wrapped under a passphrase)', opensVault: true, load: async () => (await import('./commands/vault.ts')).initCommand },
  { name: 'status', summary: 'Show the vault path, key count, the protection in force, whether it unlocks, and its last backup', opensVault: true, load: async () => (await import('./commands/vault.ts')).statusCommand },
  { name: 'batch', summary: 'Run JSON Lines requests from stdin ({"Action": ..., params}); one response line each, in order', opensVault: true, load: async () => (await import('./commands/vault.ts')).batchCommand },
  { name: 'audit', summary: 'List the audit log (audit list), prove its chain and anchor intact (audit verify), or accept a broken one (audit acknowledge-break)', opensVault: true, load: async () => (await import('./commands/vault.ts')).auditCommand },
  { name: 'backup', summary: 'Back up the vault to one file under a recovery passphrase or M-of-N recovery shares (create), prove a backup opens (verify), recreate a vault from one (restore)', opensVault: true, earlyUnlock: { subcommands: ['create'], flag: BACKUP_VAULT_PASSPHRASE_FLAG }, load: async () => (await import('./commands/backup.ts')).backupCommand },
  { name: 'vault', summary: 'Change how the vault is protected: its passphrase (change-passphrase), keychain or passphrase (protect), a new data key (rotate-data-key)', opensVault: true, load: async () => (await import('./commands/protection.ts')).vaultCommand },
  { name: 'serve', summary: "Serve the vault's Actions over Alibaba Cloud KMS's OpenAPI (for the official SDKs)", opensVault: true, load: async () => (await import('./commands/serve.ts')).serveCommand },
  { name: 'agent', summary: 'Serve vault keys to ssh, git and DeskKMS commands as an ssh-agent (SSH_AUTH_SOCK); add, remove and list the keys it serves', opensVault: true, load: async () => (await import('./commands/agent.ts')).agentCommand },
  { name: 'ui', summary: 'Serve the desktop app in a browser on 127.0.0.1 (where Electron cannot run)', load: async () => (await import('./commands/ui.ts')).uiCommand },
  { name: 'access-key', summary: 'Issue and manage access keys for "deskkms serve" (create prints the secret once)', opensVault: true, load: async () => (await import('./commands/access-key.ts')).accessKeyCommand },
  { name: 'remote', summary: 'Register remote KMS connections (Alibaba Cloud KMS or another deskkms serve) and list their keys', opensVault: true, load: async () => (await import('./commands/remote.ts')).remoteCommand },
  { name: 'csr', summary: 'Create a PKCS#10 certificate signing request for a key version (for an offline CA)', opensVault: true, load: async () => (await import('./commands/csr.ts')).csrCommand },
  { name: 'pubkey', summary: 'Publish a key version\'s public key: a bundle of every format (PEM, DER, JWK, OpenSSH, fingerprints, chain), or one format: an allowed_signers line, an OpenPGP certificate', opensVault: true, load: async () => (await import('./commands/pubkey.ts')).pubkeyCommand },
  { name: 'export', summary: 'Export a version of an Exportable key as an encrypted PKCS#8 file (openssl pkey -passin reads it)', opensVault: true, load: async () => (await import('./commands/transfer.ts')).exportCommand },
  { name: 'import', summary: 'Import an encrypted PKCS#8 file as a new version of a key of the same spec', opensVault: true, load: async () => (await import('./commands/transfer.ts')).importCommand },
  { name: 'cert', summary: 'Offline CA: self-sign a root, issue from a CSR, attach a chain to a key version, export it', opensVault: true, load: async () => (await import('./commands/cert.ts')).certCommand },
  { name: 'sign', summary: 'Sign a file with a vault key in the format its verifiers read: raw, ssh (ssh-keygen, git), openpgp (gpg, sq), sigstore (cosign), jws', opensVault: 'unless-agent', load: async () => (await import('./commands/sign.ts')).signCommand },
  { name: 'verify', summary: 'Verify a signature offline (no vault needed): raw, or a release format with its public key, certificate or allowed_signers', load: async () => (await import('./commands/verify.ts')).verifyCommand },
  { name: 'request', summary: 'Sign across an air gap: create a signing request online (no vault), approve it at the station, finish it online', load: async () => (await import('./commands/request.ts')).requestCommand },
  { name: 'age-identity', summary: 'Print the age identity of a vault key (AGE-PLUGIN-DESKKMS-1...) for age -d -i; recipients: pubkey --format age-recipient', opensVault: true, load: async () => (await import('./commands/age.ts')).ageIdentityCommand },
  { name: 'digest', summary: 'Print the base64 Digest that AsymmetricSign expects for a file', load: async () => (await import('./commands/digest.ts')).digestCommand },
  { name: 'specs', summary: 'List key specs, their usages and algorithms (with plaintext limits) as JSON', load: async () => (await import('./commands/specs.ts')).specsCommand },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMAND_INDEX.find((c) => c.name === name);
}
