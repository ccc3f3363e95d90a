// Who signs for one CLI invocation: a running DeskKMS agent that serves the vault the flags name
// (core/hosts/agent/agent-client.ts finds it: same vault by real path, unlocked), else the vault,
// opened as withVault opens it. A command whose key version the agent does not serve is refused by
// the agent signer before anything is read or signed (Agent.KeyNotAdded: format-signing.ts), and
// then runs again on the vault opened here. Any other refusal through the agent (the user denied
// the confirmation, it timed out, the vault was locked meanwhile) is the answer: it is reported,
// never retried on the vault, and nothing is signed twice.
import { KmsError } from '../../contract/errors.ts';
import type { Signer } from '../../actions/format-signing.ts';
import { findAgent } from '../agent/agent-client.ts';
import { raisedByVault, type CliIO, type FlagValues } from './command.ts';
import { internalErrorReporter } from './report-error.ts';
import { vaultDirOf, withVault } from './vault-session.ts';

/**
 * Runs `fn` with a signer through the agent when one serves the vault, else (or when the agent
 * does not serve the key: Agent.KeyNotAdded before any signature was asked) with the vault.
 * `caller` is the command's audit name ("cli", "ssh-keygen"): "cli:<format>" through the vault,
 * "ssh-agent[PROGRAM PID]:cli:<format>" through the agent.
 */
export async function withSigner<T>(flags: FlagValues, io: CliIO, caller: string, fn: (signer: Signer) => Promise<T>): Promise<T> {
  // A socket someone else could have put there is not used, and said (it may be an attack on this user).
  const agent = await findAgent(vaultDirOf(flags, io), io.env, (path, why) => io.stderr.write(`deskkms: not using the agent socket ${path}: ${why}\n`));
  if (agent) {
    try {
      return await fn({ agent, caller });
    } catch (error) {
      // The agent's refusal is the vault's answer (exit 1), as the same refusal without the agent is.
      if (!(error instanceof KmsError) || error.code !== 'Agent.KeyNotAdded' || agent.signAttempted) throw raisedByVault(error);
    } finally {
      agent.close();
    }
  }
  return withVault(flags, io, (vault) => fn({ vault, caller, dispatchOptions: { onInternalError: internalErrorReporter(io) } }));
}
