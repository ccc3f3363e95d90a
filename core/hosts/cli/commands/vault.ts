// deskkms init | status | audit list | audit verify | batch
import { StringDecoder } from 'node:string_decoder';
import { KmsError, invalidParameter, toKmsError } from '../../../contract/errors.ts';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { escapeJsonText, escapeText } from '../../../contract/escape-text.ts';
import { AUDIT_KINDS, isAuditKind } from '../../../contract/audit-kinds.ts';
import { AUDIT_EXPORT_FORMATS, formatAuditExport, type AuditExportFormat } from '../../../contract/audit-export.ts';
import type { AuditEntryInfo } from '../../../contract/responses.ts';
import { dispatch, refuseCall, type RefusedAction } from '../../../actions/dispatch.ts';
import { formatAuditTable } from '../audit-table.ts';
import { keychainBackend } from '../../../vault/keychain-status.ts';
import { Vault } from '../../../vault/vault.ts';
import { EXIT_NEGATIVE, EXIT_OK, type CliIO, type Command } from '../command.ts';
import { internalErrorReporter } from '../report-error.ts';
import { CLI_CALLER, callAction } from '../actions-cli.ts';
import { VAULT_FLAGS, passphraseOf, vaultDirOf, withVault } from '../vault-session.ts';
import { claimStdin } from '../inputs.ts';
import { writeFileAtomically } from '../output-file.ts';

export const initCommand: Command = {
  name: 'init',
  usage: 'deskkms init [--vault DIR] [--passphrase-file FILE]',
  flags: VAULT_FLAGS,
  details: 'Without --passphrase-file the OS keychain must be reachable; a station without one uses a passphrase (scrypt, AES-256-GCM).',
  async run(flags, io) {
    const passphrase = await passphraseOf(flags, io);
    let vault: Vault;
    try {
      vault = await Vault.init(vaultDirOf(flags, io), passphrase ? { passphrase } : {});
    } catch (error) {
      passphrase?.fill(0); // on success the vault wipes it when it unlocks
      throw error;
    }
    try {
      await vault.ensureUnlocked();
      io.stdout.write(`${JSON.stringify(vault.status(keychainBackend()), null, 2)}\n`);
    } finally {
      await vault.close();
    }
    return EXIT_OK;
  },
};

export const statusCommand: Command = {
  name: 'status',
  usage: 'deskkms status [--vault DIR] [--passphrase-file FILE]',
  flags: VAULT_FLAGS,
  details:
    'Status tries to unlock (keychain, or the passphrase when given); "UnlockError" says why it could not. ' +
    'LastBackup is the last backup made and verified by deskkms backup create, KeyVersionsSinceBackup the key versions it does not hold; ' +
    'BackupAdvice (also a "warning:" line on stderr) says when there is no backup or keys were created since.',
  async run(flags, io) {
    return withVault(flags, io, async (vault) => {
      let unlockError: { Code: string; Message: string } | undefined;
      try {
        await vault.ensureUnlocked();
      } catch (error) {
        unlockError = toKmsError(error).toWire();
      }
      const status = { ...vault.status(keychainBackend()), ...(unlockError ? { UnlockError: unlockError } : {}) };
      io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      // LastBackup / KeyVersionsSinceBackup are in the JSON; the advice (no verified backup, or
      // key versions made since the last one: they would be lost with this machine) is said too.
      if (status.BackupAdvice) io.stderr.write(`warning: ${status.BackupAdvice}\n`);
      return EXIT_OK;
    });
  },
};

export const auditCommand: Command = {
  name: 'audit',
  usage:
    'deskkms audit list|verify|acknowledge-break [--key-id ID] [--action NAME] [--kind KIND] [--caller WHO] [--search TEXT] [--since ISO] [--until ISO] [--limit N] ' +
    '[--format json|table|csv|jsonl] [-o FILE [--force]]',
  flags: {
    ...VAULT_FLAGS,
    'key-id': { type: 'string', value: 'ID', description: 'list: only entries for this KeyId' },
    action: { type: 'string', value: 'NAME', description: 'list: only entries for this Action' },
    since: { type: 'string', value: 'ISO', description: 'list: entries at or after this time' },
    until: { type: 'string', value: 'ISO', description: 'list: entries at or before this time' },
    limit: { type: 'string', value: 'N', description: 'list: at most N entries' },
    kind: { type: 'string', value: 'KIND', description: `list: only entries of this kind: ${AUDIT_KINDS.join(', ')}` },
    caller: { type: 'string', value: 'WHO', description: 'list: only entries of this caller, exactly as recorded (cli, app, ui, api:<AccessKeyId>, ...)' },
    search: { type: 'string', value: 'TEXT', description: 'list: only entries whose RequestId, Action, KeyId, KeyVersionId, Caller or Code holds TEXT (case ignored)' },
    format: {
      type: 'string',
      value: 'FORMAT',
      description: `list: json (default), table, or an export: ${AUDIT_EXPORT_FORMATS.join(' or ')} (one entry a row/line, the chain hashes included)`,
    },
    output: { type: 'string', value: 'FILE', short: 'o', description: 'list: write to FILE (mode 0600) instead of stdout; an existing FILE only with --force' },
    force: { type: 'boolean', description: 'list: replace an existing --output FILE' },
  },
  positionals: ['list|verify|acknowledge-break'],
  details:
    'audit verify exits 0 when the chain and its anchor are intact, 1 naming the first broken entry. A vault whose log is broken refuses every call (Vault.AuditBroken); ' +
    'after keeping a copy of the vault directory for investigation, audit acknowledge-break accepts the log as it stands: the break is recorded (verify keeps reporting it) and calls work again. ' +
    'The subcommands are the Actions ListAuditEntries, VerifyAuditChain and AcknowledgeAuditBreak: they need the vault unlocked, and a refused one is audited with its Code; a successful list or verify records nothing.',
  async run(flags, io, positionals = []) {
    const sub = positionals[0];
    if (sub !== 'list' && sub !== 'verify' && sub !== 'acknowledge-break') throw invalidParameter('audit', 'give "list", "verify" or "acknowledge-break"');
    const format = flags.format ?? 'json';
    const formats = ['json', 'table', ...AUDIT_EXPORT_FORMATS];
    if (typeof format !== 'string' || !formats.includes(format)) throw invalidParameter('--format', `must be one of ${formats.join(', ')}`);
    if (flags.kind !== undefined && !isAuditKind(flags.kind)) throw invalidParameter('--kind', `must be one of ${AUDIT_KINDS.join(', ')}`);
    const listOnly = ['kind', 'caller', 'search', 'output', 'force'].filter((flag) => flags[flag] !== undefined);
    if (sub !== 'list' && listOnly.length > 0) throw invalidParameter(`--${listOnly[0]!}`, `is for audit list, not audit ${sub}`);
    const target = typeof flags.output === 'string' ? resolve(io.cwd, flags.output) : undefined;
    const refuseExisting = (path: string) => invalidParameter('--output', `${path} already exists; give --force to replace it`);
    if (target !== undefined && flags.force !== true && existsSync(target)) throw refuseExisting(target); // before the vault opens
    // Each subcommand is its Action (AcknowledgeAuditBreak, VerifyAuditChain, ListAuditEntries):
    // validated, refusals audited. Reading the log records nothing in it, so a broken log can
    // still be listed and verified; the verdict needs the vault unlocked (its anchor is MACed).
    return withVault(flags, io, async (vault) => {
      if (sub === 'acknowledge-break') {
        io.stdout.write(`${JSON.stringify(await callAction(io, vault, 'AcknowledgeAuditBreak', {}), null, 2)}\n`);
        return EXIT_OK;
      }
      if (sub === 'verify') {
        // The verdict as it always printed (a successful verify records no entry: no RequestId to show).
        const { Verdict: verdict } = (await callAction(io, vault, 'VerifyAuditChain', {})) as { Verdict: { ok: boolean } };
        io.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
        return verdict.ok ? EXIT_OK : EXIT_NEGATIVE;
      }
      const listed = await callAction(io, vault, 'ListAuditEntries', {
        ...(typeof flags['key-id'] === 'string' ? { KeyId: flags['key-id'] } : {}),
        ...(typeof flags.action === 'string' ? { Action: flags.action } : {}),
        ...(typeof flags.since === 'string' ? { Since: flags.since } : {}),
        ...(typeof flags.until === 'string' ? { Until: flags.until } : {}),
        ...(typeof flags.limit === 'string' ? { Limit: flags.limit } : {}),
        ...(typeof flags.kind === 'string' ? { Kind: flags.kind } : {}),
        ...(typeof flags.caller === 'string' ? { Caller: flags.caller } : {}),
        ...(typeof flags.search === 'string' ? { Search: flags.search } : {}),
      });
      const entries = listed.Entries as AuditEntryInfo[];
      // json and table show bidi and other invisible characters escaped (a row may have been
      // edited); the exports are data for other tools (CSV cells formula-guarded).
      const text =
        format === 'table'
          ? formatAuditTable(entries)
          : format === 'json'
            ? `${escapeJsonText(JSON.stringify({ Entries: entries, Truncated: listed.Truncated }, null, 2))}\n`
            : formatAuditExport(entries, format as AuditExportFormat);
      if (target === undefined) io.stdout.write(text);
      else {
        await writeFileAtomically(target, text, { mode: 0o600, replace: flags.force === true, exists: refuseExisting });
        io.stderr.write(`${entries.length} entries written to ${escapeText(target, 4096)}${listed.Truncated === true ? ' (truncated: more matched; raise --limit)' : ''}\n`);
      }
      return EXIT_OK;
    });
  },
};

/** Four of the key worker's groups of signatures (sign-batch.ts): one being signed while the main thread audits another. */
const MAX_IN_FLIGHT = 512;

export const batchCommand: Command = {
  name: 'batch',
  usage: 'deskkms batch [--vault DIR] [--passphrase-file FILE] < requests.jsonl',
  flags: VAULT_FLAGS,
  details: `Requests are pipelined (up to ${MAX_IN_FLIGHT} in flight) with one unlock for the whole batch. A failed request prints {"Code","Message","RequestId"} on its line. Exit status: 0 all succeeded, 1 some failed.`,
  async run(flags, io) {
    // The requests come on stdin: a passphrase file '-' would have to share it.
    claimStdin(io, 'batch (its requests on stdin)');
    return withVault(flags, io, async (vault) => {
      let failures = 0;
      let slotFreed: (() => void) | undefined;
      // Responses are written in request order, each as soon as it and those before it are done,
      // so a co-process that waits for each answer before sending the next is served at once.
      // Answers ready in the same turn of the event loop go out in one write (one syscall for a
      // group, not one per line); a lone answer is written at the end of its turn.
      // Each line's answer waits in its slot (line i in i mod MAX_IN_FLIGHT: no more are in flight).
      const answers = new Array<{ text: string; ok: boolean } | undefined>(MAX_IN_FLIGHT);
      /** Lines started, and lines answered: those in flight are the difference. */
      let issued = 0;
      let nextAnswer = 0;
      const inFlight = (): number => issued - nextAnswer;
      let allWritten: (() => void) | undefined;
      /** A line that could not be answered at all (a defect): nothing more is written, and the batch fails with it. */
      let broken: { error: unknown } | undefined;
      let out = '';
      const flush = (): void => {
        if (out === '') return;
        io.stdout.write(out);
        out = '';
      };
      const settled = (at: number, answer: { text: string; ok: boolean }): void => {
        answers[at % MAX_IN_FLIGHT] = answer;
        for (let next = answers[nextAnswer % MAX_IN_FLIGHT]; next !== undefined && !broken; next = answers[nextAnswer % MAX_IN_FLIGHT]) {
          answers[nextAnswer++ % MAX_IN_FLIGHT] = undefined;
          if (!next.ok) failures++;
          if (out === '') setImmediate(flush);
          out += `${next.text}\n`;
        }
        slotFreed?.();
        if (inFlight() === 0) allWritten?.();
      };
      const fail = (error: unknown): void => {
        broken ??= { error };
        slotFreed?.();
        allWritten?.();
      };
      // Every request comes on stdin: another process's changes are looked for once per chunk read
      // (each request in it arrived before then), not once per request.
      let lineNumber = 0;
      for await (const lines of jsonLineChunks(io.stdin, () => vault.requestsArrived())) {
        for (const line of lines) {
          lineNumber++;
          if (line.trim() === '' || broken) continue;
          const at = issued++;
          runLine(vault, line, lineNumber, io).then((answer) => settled(at, answer), fail);
          while (inFlight() >= MAX_IN_FLIGHT && !broken) await new Promise<void>((resolve) => (slotFreed = resolve));
        }
      }
      if (inFlight() > 0 && !broken) await new Promise<void>((resolve) => (allWritten = resolve));
      flush();
      if (broken) throw broken.error;
      return failures === 0 ? EXIT_OK : EXIT_NEGATIVE;
    });
  },
};

/**
 * The lines of JSON Lines input as they arrive, one array per chunk read (its complete lines):
 * split at "\n" only, a "\r" before it dropped. (readline also splits at U+2028 and U+2029, which
 * a JSON string may hold unescaped: a request holding one would have been cut in two.) `arrived`
 * is called for each chunk before its lines are given.
 */
async function* jsonLineChunks(input: NodeJS.ReadableStream, arrived: () => void): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  const line = (text: string): string => (text.endsWith('\r') ? text.slice(0, -1) : text);
  let rest = '';
  for await (const chunk of input) {
    arrived();
    rest += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (let at = rest.indexOf('\n'); at >= 0; at = rest.indexOf('\n', start)) {
      lines.push(line(rest.slice(start, at)));
      start = at + 1;
    }
    rest = rest.slice(start);
    if (lines.length > 0) yield lines;
  }
  rest += decoder.end();
  if (rest !== '') yield [line(rest)];
}

// Every non-blank line is a call, answered on its line and audited: a well-formed one by
// dispatch, one that is not a JSON object here. Answers are JSON with bidi and other invisible
// characters written as \u escapes, so echoed input cannot reorder a terminal's line.
async function runLine(vault: Vault, line: string, lineNumber: number, io: CliIO): Promise<{ text: string; ok: boolean }> {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return refuseLine(vault, { placeholder: '(not JSON)' }, `line ${lineNumber}: not valid JSON`);
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return refuseLine(vault, { placeholder: '(none)' }, `line ${lineNumber}: must be a JSON object with "Action"`);
  }
  const { Action, ...params } = request as Record<string, unknown>;
  const outcome = await dispatch(vault, Action, params, CLI_CALLER, { onInternalError: internalErrorReporter(io) });
  return { text: escapeJsonText(JSON.stringify(outcome.ok ? outcome.body : outcome.error)), ok: outcome.ok };
}

/** A line that is no call at all, audited by dispatch's refuseCall under a placeholder Action. */
async function refuseLine(vault: Vault, action: RefusedAction, message: string): Promise<{ text: string; ok: false }> {
  const failure = await refuseCall(vault, action, new KmsError('InvalidParameter', message), CLI_CALLER);
  return { text: JSON.stringify(failure), ok: false };
}
