// ListAgentIdentities (DeskKMS, local only): the key versions the agent serves, oldest first.
import { listAgentIdentities as listRows } from '../vault/agent-identities.ts';
import { agentIdentityView } from './agent-identities.ts';
import type { Handler } from './operation.ts';

export const listAgentIdentities: Handler<'ListAgentIdentities'> = (vault) => {
  const db = vault.store.db;
  return Promise.resolve({ response: { Identities: listRows(db).map((row) => agentIdentityView(db, row)) } });
};
