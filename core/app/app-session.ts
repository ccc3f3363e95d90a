// The desktop app's side of the typed API (core/contract/app-api.ts): one vault per app process,
// its lifecycle (create, unlock, lock), and the methods the renderer calls. Electron's IPC handler
// and the browser host both hand every request to AppSession.call, which validates it before
// anything reaches the vault and answers `{ ok, value } | { ok: false, error: { Code, Message } }`;
// a stack, a passphrase or key material never crosses back. KMS operations go through dispatch,
// the handler table every other transport uses; so do the audit views (ListAuditEntries,
// VerifyAuditChain), Digest.Begin's public key (GetPublicKey), Sign.*'s key and signature
// (core/actions/format-signing.ts: audited as "<caller>:<format>"), a malformed Kms.Call's refusal
// (refuseCall) and the audit entries of the app's own events (recordEvent): nothing here writes
// the audit log itself. The agent (Agent.*) runs in this process while the app does, if the user
// turns it on: it serves this session's vault as it stands (nothing while it is locked) and asks
// for confirmations through a ConfirmQueue the renderer polls (Agent.Pending) and answers.
// Across the air gap (Request.*), the unlocked vault is the station: core/airgap/station.ts reviews,
// approves (signing through core/actions/format-signing.ts) and rejects a signing request the
// renderer pasted, read from a file or scanned (Request.Frames reassembles the QR codes' parts).
import { dispatch, type DispatchOptions, recordEvent, refuseCall } from '../actions/dispatch.ts';
import {
  AGENT_CONFIRM_SECONDS_DEFAULT,
  APP_METHOD_SCHEMAS,
  appRequestSchema,
  RESPONSE_QR_FRAMES_MAX,
  isAppMethod,
  type AppMethod,
  type AppParsed,
  type AppResult,
  type AppResults,
  type AgentStatusView,
  type PickedFileView,
  type VaultStatusView,
} from '../contract/app-api.ts';
import { decodeBase64, encodeBase64 } from '../contract/base64.ts';
import type { ActionName, ActionParams } from '../contract/actions.ts';
import type { ActionResponse } from '../contract/responses.ts';
import { KmsError, toKmsError, type ErrorCode, type WireError } from '../contract/errors.ts';
import { escapeText } from '../contract/escape-text.ts';
import { parseParams } from '../contract/validate.ts';
import { keyInventory } from '../vault/inventory.ts';
import { keychainBackend, keychainProblem } from '../vault/keychain-status.ts';
import { Store } from '../vault/store.ts';
import { Vault, type VaultOptions } from '../vault/vault.ts';
import { importPublicKey } from '../crypto/public-key.ts';
import { inspectBackup, restoreBackup, verifyBackup, type RecoverySecret } from '../custody/backup.ts';
import { formatShareFile } from '../custody/share-file.ts';
import { renderSharePage, shareQrSvg } from '../custody/share-page.ts';
import type { Signer } from '../actions/format-signing.ts';
import { startAgentServer } from '../hosts/agent/agent-server.ts';
import { defaultAgentSocket } from '../hosts/agent/agent-socket.ts';
import type { RunningAgent } from '../hosts/agent/agent-types.ts';
import { assembleParts, qrPng, urFrames } from '../airgap/qr.ts';
import { encodeRequest, parseRequest } from '../airgap/request-file.ts';
import { MAX_REQUEST_BYTES } from '../contract/signing-requests.ts';
import { approveRequest, rejectRequest, reviewRequest, type StationOptions } from '../airgap/station.ts';
import { ConfirmQueue } from './agent-confirm.ts';
import { keyDetail } from './key-detail.ts';
import { DigestSessions } from './digest-sessions.ts';
import { FileGrants } from './file-grants.ts';
import type { HostFolder } from './host-folder.ts';
import type { StreamSessions, StreamState } from './stream-sessions.ts';
import { formatsFor, SignSessions } from './sign-sessions.ts';
import { startSweeper, sweepDue } from '../actions/key-rotation.ts';

export interface AppSessionOptions {
  readonly vaultDir: string;
  /** Recorded as the audit caller: 'app' (Electron) or 'ui' (browser host). */
  readonly caller: string;
  readonly vault?: Pick<VaultOptions, 'now' | 'worker'>;
  /** Logs internal failures (their detail never goes to the renderer). */
  readonly onInternalError?: (method: string, error: unknown) => void;
  /** The app's log: the agent's lines (a refused peer, a refused request). Default: stderr. */
  readonly log?: (line: string) => void;
  /**
   * The browser host's shared folder (`deskkms ui --files DIR`): the page may list it and choose a
   * file in it for the host to read (Files.*). Absent (Electron, and by default), Files.* are refused.
   */
  readonly files?: HostFolder;
  /** Where the agent's default socket is looked up ($DESKKMS_AGENT_SOCK, $XDG_RUNTIME_DIR). Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

type MethodTable = { readonly [M in AppMethod]: (params: AppParsed<M>) => Promise<AppResults[M]> };

/** Entries per Audit.List page when the renderer names no Limit. */
const AUDIT_LIST_DEFAULT = 1000;

/** A KMS Action the handler table refused: its RequestId ties the message to its audit entry. */
class ActionRefused extends KmsError {
  readonly requestId: string;

  constructor(code: ErrorCode, message: string, requestId: string) {
    super(code, message);
    this.requestId = requestId;
  }
}

export class AppSession {
  private readonly options: AppSessionOptions;
  private vault: Vault | undefined;
  /** Vault.Create is running: the directory holds a vault that is not complete yet. */
  private creating = false;
  private readonly digests = new DigestSessions();
  private readonly signatures = new SignSessions();
  /** Files the user chose in the host's own dialog (Electron), read here for *.UpdateFile. */
  private readonly files = new FileGrants();
  /** Sessions fed from a chosen file, and which (see updateFromFile). */
  private readonly fileFed = new Map<string, string>();
  /** Serializes lifecycle changes (create, unlock, lock, close) against each other. */
  private lifecycle: Promise<unknown> = Promise.resolve();
  /** The agent while it runs, and the confirmations it waits for. */
  private agent: RunningAgent | undefined;
  private agentError: WireError | undefined;
  private confirmSeconds = AGENT_CONFIRM_SECONDS_DEFAULT;
  private readonly confirms: ConfirmQueue;
  /** Serializes Agent.Start, Agent.Stop and close against each other. */
  private agentChanges: Promise<unknown> = Promise.resolve();

  constructor(options: AppSessionOptions) {
    this.options = options;
    this.confirms = new ConfirmQueue({ log: (line) => this.log(line) });
  }

  /** Validates and runs one request from the renderer; never throws. */
  async call(raw: unknown): Promise<AppResult<unknown>> {
    try {
      const envelope = appRequestSchema.safeParse(raw);
      if (!envelope.success) throw new KmsError('InvalidParameter', 'request: must be { method, params }');
      const { method } = envelope.data;
      if (!isAppMethod(method)) throw new KmsError('InvalidParameter', `method: "${escapeText(method, 64)}" is not a method of the DeskKMS app API`);
      let params: unknown;
      try {
        params = parseParams(APP_METHOD_SCHEMAS[method], method, envelope.data.params ?? {});
      } catch (error) {
        if (method !== 'Kms.Call') throw error;
        throw await this.refuseKmsCall(envelope.data.params, toKmsError(error));
      }
      const handler = this.methods[method] as (p: unknown) => Promise<unknown>;
      return { ok: true, value: await handler(params) };
    } catch (error) {
      if (!(error instanceof KmsError)) this.options.onInternalError?.(typeof raw === 'object' && raw ? String((raw as { method?: unknown }).method) : '?', error);
      const wire = toKmsError(error).toWire();
      return { ok: false, error: error instanceof ActionRefused ? { ...wire, RequestId: error.requestId } : wire };
    }
  }

  async close(): Promise<void> {
    await this.agentSerial(() => this.stopAgent());
    await this.serial(async () => {
      this.clearStreams();
      await this.vault?.close();
      this.vault = undefined;
    });
  }

  private readonly methods: MethodTable = {
    'Vault.Status': () => this.status(),
    'Vault.Create': (p) =>
      this.serial(async () => {
        if (this.vault || Store.exists(this.options.vaultDir)) {
          throw new KmsError('InvalidParameter', `Vault.Create: ${this.options.vaultDir} already holds a vault`);
        }
        const passphrase = p.Protection === 'passphrase' ? new TextEncoder().encode(p.Passphrase) : undefined;
        this.creating = true;
        try {
          const vault = await Vault.init(this.options.vaultDir, { ...this.options.vault, caller: this.options.caller, ...(passphrase ? { passphrase } : {}) });
          this.vault = vault;
          // The vault reads (and then wipes) the passphrase when it unlocks, not before.
          await vault.ensureUnlocked();
        } finally {
          passphrase?.fill(0);
          this.creating = false;
        }
        startSweeper(this.vault);
        return this.status();
      }),
    'Vault.Unlock': (p) =>
      this.serial(async () => {
        const vault = this.openVault();
        // Same instance, explicit unlock: calls in flight keep the vault they hold.
        const passphrase = p.Passphrase === undefined ? undefined : new TextEncoder().encode(p.Passphrase);
        try {
          await vault.unlockWith(passphrase);
        } catch (error) {
          await this.audit('UnlockVault', toKmsError(error).code, vault);
          throw error;
        } finally {
          passphrase?.fill(0);
        }
        await this.audit('UnlockVault', 'OK', vault);
        startSweeper(vault);
        return this.status();
      }),
    'Vault.Lock': () =>
      this.serial(async () => {
        if (this.vault) {
          // Latched first: a call in flight cannot unlock it again (not even from the keychain).
          const locking = this.vault.lock();
          this.clearStreams();
          // The agent keeps running (it serves nothing while the vault is locked); what it waits for is refused.
          this.confirms.clear();
          await locking;
          await this.audit('LockVault', 'OK', this.vault);
        }
        return this.status();
      }),
    'Keys.Inventory': async () => {
      const vault = await this.unlockedVault();
      await sweepDue(vault);
      const keys = keyInventory(vault.store.db);
      await this.audit('ListKeyDetails', 'OK', vault);
      return { Keys: keys };
    },
    // The key detail pane in one call: the Actions' handlers, audited as one DescribeKeyDetail read.
    'Keys.Detail': async (p) => {
      const vault = await this.unlockedVault();
      const outcome = await keyDetail(vault, p.KeyId, this.options.caller, this.dispatchOptions);
      if (!outcome.ok) throw new ActionRefused(outcome.error.Code, outcome.error.Message, outcome.error.RequestId);
      return outcome.body;
    },
    // The audit views are Actions like any other (validated, refusals audited); the vault must be
    // unlocked, as for every Action: a locked one answers Vault.Locked (the app shows its unlock
    // screen then, and no audit view).
    'Audit.List': async (p) => {
      const listed = await this.action('ListAuditEntries', {
        ...(p.KeyId !== undefined ? { KeyId: p.KeyId } : {}),
        ...(p.Action !== undefined ? { Action: p.Action } : {}),
        ...(p.Since !== undefined ? { Since: p.Since } : {}),
        ...(p.Until !== undefined ? { Until: p.Until } : {}),
        ...(p.BeforeSeq !== undefined ? { BeforeSeq: p.BeforeSeq } : {}),
        ...(p.Kind !== undefined ? { Kind: p.Kind } : {}),
        ...(p.Caller !== undefined ? { Caller: p.Caller } : {}),
        ...(p.Search !== undefined ? { Search: p.Search } : {}),
        Limit: p.Limit ?? AUDIT_LIST_DEFAULT,
        NewestFirst: true,
      });
      return { Entries: listed.Entries, Truncated: listed.Truncated };
    },
    'Audit.Verify': async () => {
      return (await this.action('VerifyAuditChain', {})).Verdict;
    },
    // The public key comes from GetPublicKey (validated, policy-checked, audited; a remote key's
    // from its KMS), and the session hashes for that PEM.
    'Digest.Begin': async (p) => {
      const since = this.digests.epoch; // a Lock while GetPublicKey runs refuses the session
      const { PublicKey } = await this.action('GetPublicKey', { KeyId: p.KeyId, KeyVersionId: p.KeyVersionId });
      return this.digests.begin(importPublicKey(PublicKey, 'PublicKey'), p.Algorithm, since);
    },
    'Digest.Update': (p) => {
      this.assertUnlocked();
      this.assertNotFileFed(p.SessionId);
      return Promise.resolve(this.digests.update(p.SessionId, chunkBytes(p.Chunk)));
    },
    'Digest.UpdateFile': (p) => this.updateFromFile(this.digests, p),
    'Files.List': async (p) => {
      const folder = this.sharedFolder();
      this.assertUnlocked();
      return folder.list(p.Path);
    },
    'Files.Choose': async (p) => {
      const folder = this.sharedFolder();
      this.assertUnlocked();
      return this.grantWith(() => folder.openFile(p.Path).then(({ handle, name }) => this.files.grantOpened(handle, name)));
    },
    'Digest.Finish': (p) => {
      this.assertUnlocked();
      this.endFileFed(p.SessionId);
      return Promise.resolve(this.digests.finish(p.SessionId));
    },
    'Digest.Abort': (p) => {
      this.endFileFed(p.SessionId);
      return Promise.resolve({ Aborted: this.digests.abort(p.SessionId) });
    },
    // Release-format signatures: the formats' own answer for a spec, and the streamed signature.
    'Sign.Formats': (p) => Promise.resolve({ Formats: formatsFor(p.KeySpec) }),
    'Sign.Begin': async (p) => {
      // The epoch before any await: a Lock from here on refuses the session (see SignSessions.begin).
      const since = this.signatures.epoch;
      return this.signatures.begin(await this.signer(), p, since);
    },
    'Sign.Update': (p) => {
      this.assertUnlocked();
      this.assertNotFileFed(p.SessionId);
      return Promise.resolve(this.signatures.update(p.SessionId, chunkBytes(p.Chunk)));
    },
    'Sign.UpdateFile': (p) => this.updateFromFile(this.signatures, p),
    'Sign.Finish': async (p) => {
      this.endFileFed(p.SessionId);
      const signer = await this.signer();
      return this.signatures.finish(signer, p.SessionId);
    },
    'Sign.Abort': (p) => {
      this.endFileFed(p.SessionId);
      return Promise.resolve({ Aborted: this.signatures.abort(p.SessionId) });
    },
    // Custody without an open vault: a backup file is read (and opened, for Verify) on its own, and
    // nothing of this vault is touched; Restore makes the vault on first run, as Vault.Create does.
    // Creating a backup and changing the protection are Actions (Kms.Call) on the unlocked vault.
    'Backup.Inspect': (p) => inspectBackup(p.Path),
    'Backup.Verify': async (p) => {
      const secret = recoverySecret(p);
      try {
        return await verifyBackup(p.Path, secret);
      } finally {
        wipe(secret);
      }
    },
    'Vault.Restore': (p) =>
      this.serial(async () => {
        if (this.vault || Store.exists(this.options.vaultDir)) {
          throw new KmsError('InvalidParameter', `Vault.Restore: ${this.options.vaultDir} already holds a vault`);
        }
        const secret = recoverySecret(p);
        // restoreBackup wipes the new passphrase it is given; the vault is unlocked with a second copy.
        const encode = () => (p.NewPassphrase === undefined ? undefined : new TextEncoder().encode(p.NewPassphrase));
        const newPassphrase = encode();
        const unlockPassphrase = encode();
        this.creating = true;
        let restored;
        try {
          restored = await restoreBackup({
            path: p.Path,
            secret,
            vaultDir: this.options.vaultDir,
            protection: p.Protection,
            ...(newPassphrase ? { newPassphrase } : {}),
            caller: this.options.caller,
          });
          this.vault = Vault.open(this.options.vaultDir, { ...this.options.vault, startLocked: true });
          await this.vault.unlockWith(unlockPassphrase);
        } finally {
          wipe(secret);
          newPassphrase?.fill(0);
          unlockPassphrase?.fill(0);
          this.creating = false;
        }
        startSweeper(this.vault);
        return { ...(await this.status()), Restored: restored };
      }),
    'Backup.SharePages': async (p) => ({
      Pages: await Promise.all(
        p.Shares.map(async (share) => ({
          Index: share.index,
          Html: await renderSharePage(share),
          QrSvg: await shareQrSvg(share.mnemonic),
          Text: formatShareFile(share),
          FileStem: `share-${share.index}-of-${share.count}`,
        })),
      ),
    }),
    'Kms.Call': async (p) => {
      const vault = await this.unlockedVault();
      const outcome = await dispatch(vault, p.Action, p.Params, this.options.caller, this.dispatchOptions);
      if (!outcome.ok) throw new ActionRefused(outcome.error.Code, outcome.error.Message, outcome.error.RequestId);
      return outcome.body;
    },
    // The agent: its identities are Actions (AddAgentIdentity, RemoveAgentIdentity,
    // ListAgentIdentities through Kms.Call); these run it and answer its confirmations.
    'Agent.Status': () => Promise.resolve(this.agentStatus()),
    'Agent.Start': (p) =>
      this.agentSerial(async () => {
        // Turned on from the unlocked window (the renderer starts it again after an unlock).
        this.assertUnlocked();
        const socketPath = p.Socket ?? defaultAgentSocket(this.options.env ?? process.env);
        const seconds = p.ConfirmTimeoutSeconds ?? AGENT_CONFIRM_SECONDS_DEFAULT;
        if (this.agent?.socketPath === socketPath && this.confirmSeconds === seconds) return this.agentStatus();
        await this.stopAgent();
        try {
          this.agent = await startAgentServer({
            socketPath,
            vault: () => this.vault,
            confirm: this.confirms.prompt,
            confirmTimeoutMs: seconds * 1000,
            log: (line) => this.log(line),
          });
        } catch (error) {
          this.agentError = toKmsError(error).toWire();
          throw error;
        }
        this.confirmSeconds = seconds;
        this.agentError = undefined;
        // When the agent served this vault is part of its record, as its unlocks and locks are.
        if (this.vault) await this.audit('StartAgent', 'OK', this.vault);
        return this.agentStatus();
      }),
    'Agent.Stop': () =>
      this.agentSerial(async () => {
        await this.stopAgent();
        return this.agentStatus();
      }),
    'Agent.Pending': () => Promise.resolve({ Requests: this.confirms.pending() }),
    'Agent.Answer': (p) => {
      // Only the unlocked window approves; a denial is always taken.
      if (p.Approve) this.assertUnlocked();
      this.confirms.answer(p.Id, p.Approve);
      return Promise.resolve({ Answered: true });
    },
    // Across the air gap (issue 15): this vault is the station. A request is reviewed (nothing
    // signed: its Problems listed), approved (only with none, and only the bytes that review
    // showed: RequestSha256), or rejected; core/airgap/station.ts signs through the one signing
    // route and audits as "<caller>:request:<RequestId>".
    'Request.Review': async (p) => reviewRequest(await this.unlockedVault(), await carriedRequest(p.Text), this.stationOptions(p.MaxAgeHours)),
    'Request.Approve': async (p) => {
      const vault = await this.unlockedVault();
      const approved = await approveRequest(vault, await carriedRequest(p.Text), {
        ...this.stationOptions(p.MaxAgeHours),
        reviewedSha256: p.RequestSha256,
        // Absent: the review showed no version (so a version that resolves now was not shown).
        reviewedKeyVersionId: p.KeyVersionId ?? null,
      });
      const frames = urFrames(approved.bytes);
      const pngs = frames.length <= RESPONSE_QR_FRAMES_MAX ? await Promise.all(frames.map((frame) => qrPng(frame))) : [];
      return {
        RequestId: approved.response.RequestId,
        // The station's own encoding: JSON, ASCII-safe UTF-8.
        Response: new TextDecoder().decode(approved.bytes),
        FileName: `${approved.response.RequestId}.response.json`,
        Frames: frames,
        FramePngs: pngs.map((png) => encodeBase64(png)),
        Review: approved.review,
      };
    },
    'Request.Reject': async (p) => ({
      Rejected: true as const,
      Review: await rejectRequest(await this.unlockedVault(), await carriedRequest(p.Text), this.stationOptions(p.MaxAgeHours)),
    }),
    // Stateless: the renderer sends every distinct part its camera read, until they make the request.
    'Request.Frames': (p) => assembleRequestParts(p.Parts, 'Parts'),
  };

  private stationOptions(maxAgeHours: number | undefined): StationOptions {
    return {
      host: this.options.caller,
      ...(maxAgeHours !== undefined ? { maxAgeMs: Math.round(maxAgeHours * 3600 * 1000) } : {}),
      dispatchOptions: this.dispatchOptions,
    };
  }

  private agentStatus(): AgentStatusView {
    return {
      Running: this.agent !== undefined,
      ...(this.agent ? { Socket: this.agent.socketPath } : {}),
      ConfirmTimeoutSeconds: this.confirmSeconds,
      ...(this.agentError ? { Error: this.agentError } : {}),
    };
  }

  /** Stops the agent if it runs: its connections end, the confirmations it waits for are denied, its socket goes. */
  private async stopAgent(): Promise<void> {
    const agent = this.agent;
    this.agent = undefined;
    this.confirms.clear();
    await agent?.close();
    if (agent && this.vault) await this.audit('StopAgent', 'OK', this.vault).catch((error: unknown) => this.log(`could not audit StopAgent: ${toKmsError(error).message}`));
  }

  private agentSerial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.agentChanges.then(run, run);
    this.agentChanges = next.catch(() => undefined);
    return next;
  }

  private log(line: string): void {
    if (this.options.log) this.options.log(line);
    else process.stderr.write(`deskkms agent: ${line}\n`);
  }

  /** Runs an Action for one of the app's own methods; a refusal keeps the RequestId of its audit entry. */
  private async action<A extends ActionName>(action: A, params: ActionParams<A>): Promise<ActionResponse<A>> {
    const vault = await this.unlockedVault();
    const outcome = await dispatch(vault, action, params, this.options.caller, this.dispatchOptions);
    if (!outcome.ok) throw new ActionRefused(outcome.error.Code, outcome.error.Message, outcome.error.RequestId);
    return outcome.body;
  }

  /** Signs through core/actions/format-signing.ts on the unlocked vault, as this host's caller. */
  private async signer(): Promise<Signer> {
    return { vault: await this.unlockedVault(), caller: this.options.caller, dispatchOptions: this.dispatchOptions };
  }

  /** Streams in progress, and the files chosen for them, end when the vault locks or the session closes. */
  private clearStreams(): void {
    this.digests.clear();
    this.signatures.clear();
    this.files.clear();
    this.fileFed.clear();
  }

  /** A session fed from a chosen file takes nothing else (Offset is then the file's offset too). */
  private assertNotFileFed(sessionId: string): void {
    if (this.fileFed.has(sessionId)) throw new KmsError('InvalidParameter', 'SessionId: this session reads a chosen file (UpdateFile); it takes no other bytes');
  }

  /** The session ended: the file it read keeps its grant, not what was read ahead for it. */
  private endFileFed(sessionId: string): void {
    const handle = this.fileFed.get(sessionId);
    if (handle === undefined) return;
    this.fileFed.delete(sessionId);
    this.files.dropReadAhead(handle);
  }

  /**
   * A file the user chose in the host's own dialog (Electron's main process calls this with the
   * dialog's path; the renderer never names one): the handle that Digest.UpdateFile and
   * Sign.UpdateFile take. Only while the vault is unlocked; a lock drops every grant.
   */
  async grantFile(path: string): Promise<PickedFileView> {
    this.assertUnlocked();
    return this.grantWith(() => this.files.grant(path));
  }

  /** The browser host's shared folder; refused where the host shares none. */
  private sharedFolder(): HostFolder {
    if (!this.options.files) {
      throw new KmsError('UnsupportedOperation', 'this host shares no folder: start the browser host with `deskkms ui --files DIR` to choose files in DIR that the host reads itself');
    }
    return this.options.files;
  }

  /** A grant made by `grant`, dropped again if the vault locked meanwhile. */
  private async grantWith(grant: () => Promise<PickedFileView>): Promise<PickedFileView> {
    const since = this.digests.epoch;
    const picked = await grant();
    if (since !== this.digests.epoch) {
      this.files.release(picked.Handle);
      throw new KmsError('Vault.Locked', 'the vault was locked while the file was being opened; unlock and choose it again');
    }
    return picked;
  }

  /** *.UpdateFile: the next part of a chosen file, read here and fed to the session. */
  private async updateFromFile<T extends StreamState>(sessions: StreamSessions<T>, p: { SessionId: string; Handle: string; Offset: number; Length: number }): Promise<{ BytesHashed: number }> {
    this.assertUnlocked();
    const at = sessions.position(p.SessionId);
    if (p.Offset !== at) throw new KmsError('InvalidParameter', `Offset: must be ${at}, where the session is (a part may be neither skipped nor sent twice)`);
    // One file per session, from its first byte: the session's position is the file's offset.
    const bound = this.fileFed.get(p.SessionId);
    if (bound === undefined && at > 0) throw new KmsError('InvalidParameter', 'SessionId: this session already took bytes (Update); a chosen file is read into a session of its own, from its start');
    if (bound !== undefined && bound !== p.Handle) throw new KmsError('InvalidParameter', 'Handle: this session reads another chosen file');
    return this.files.read(p.Handle, p.Offset, p.Length, (bytes) => {
      if (bytes.length === 0) throw new KmsError('InvalidParameter', `Offset: ${p.Offset} is at or past the end of the chosen file`);
      // Locked, aborted or fed by another call while the part was read: refused, nothing hashed.
      this.assertUnlocked();
      if (sessions.position(p.SessionId) !== at) throw new KmsError('InvalidParameter', `SessionId: another part reached the session while this one was read; send the parts one at a time`);
      const hashed = sessions.update(p.SessionId, bytes);
      this.fileFed.set(p.SessionId, p.Handle);
      return hashed;
    });
  }

  /** A bug inside an Action reaches the app's log with the Action and its RequestId (the renderer sees InternalFailure). */
  private get dispatchOptions(): DispatchOptions {
    const log = this.options.onInternalError;
    return log ? { onInternalError: (action, requestId, error) => log(`Kms.Call ${action} (RequestId ${requestId})`, error) } : {};
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.lifecycle.then(run, run);
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  private openVault(): Vault {
    if (this.vault) return this.vault;
    if (this.creating) throw new KmsError('Vault.Locked', 'the vault is being created');
    if (!Store.exists(this.options.vaultDir)) {
      throw new KmsError('Vault.Locked', `no vault at ${this.options.vaultDir} yet: create one first`);
    }
    // The app opens its vault locked: the user unlocks it (even a keychain vault) explicitly.
    this.vault = Vault.open(this.options.vaultDir, { ...this.options.vault, startLocked: true });
    return this.vault;
  }

  private assertUnlocked(): void {
    if (!this.vault || this.vault.isLocked) throw new KmsError('Vault.Locked', 'the vault is locked: unlock it first');
  }

  private async unlockedVault(): Promise<Vault> {
    this.assertUnlocked();
    const vault = this.vault!;
    // A keychain vault whose worker restarted unlocks again from the keychain; after Lock this refuses.
    await vault.ensureUnlocked();
    return vault;
  }

  /**
   * A Kms.Call whose Action or Params are malformed is a refused KMS call like any other: audited
   * by dispatch's refuseCall (its Action escaped) when a vault is open, its RequestId in the answer.
   */
  private async refuseKmsCall(params: unknown, error: KmsError): Promise<KmsError> {
    const vault = this.vault;
    if (!vault) return error;
    const action = typeof params === 'object' && params !== null ? (params as { Action?: unknown }).Action : undefined;
    const refused = await refuseCall(vault, { sent: action }, error, this.options.caller);
    return new ActionRefused(refused.Code, refused.Message, refused.RequestId);
  }

  /** The app's own vault events (UnlockVault, LockVault, ListKeyDetails; DescribeKeyDetail in key-detail.ts), audited through dispatch's recordEvent. */
  private async audit(action: string, code: ErrorCode | 'OK', vault: Vault): Promise<void> {
    await recordEvent(vault, action, code, this.options.caller);
  }

  private async status(): Promise<VaultStatusView> {
    const backend = keychainBackend();
    const keychainError = await keychainProblem();
    const keychain = { KeychainBackend: backend, KeychainAvailable: keychainError === undefined, ...(keychainError ? { KeychainError: keychainError } : {}) };
    if (this.creating || (!this.vault && !Store.exists(this.options.vaultDir))) {
      return { Initialized: false, VaultPath: this.options.vaultDir, Locked: true, ...keychain };
    }
    const vault = this.openVault();
    const status = vault.status(backend);
    return {
      Initialized: true,
      VaultPath: status.VaultPath,
      VaultId: status.VaultId,
      KeyCount: status.KeyCount,
      ProtectionKind: vault.protectionKind,
      Protection: status.Protection,
      // What the worker holds, not a flag: locked by the user, or its keys not loaded (a restart).
      Locked: !vault.isUnlocked,
      ...(status.LastBackup ? { LastBackup: status.LastBackup } : {}),
      ...(status.KeyVersionsSinceBackup !== undefined ? { KeyVersionsSinceBackup: status.KeyVersionsSinceBackup } : {}),
      ...(status.BackupAdvice !== undefined ? { BackupAdvice: status.BackupAdvice } : {}),
      ...keychain,
    };
  }
}

/** The recovery secret a Backup.Verify or Vault.Restore names: its passphrase's bytes, or its shares by position. */
function recoverySecret(p: { readonly Passphrase?: string | undefined; readonly Shares?: readonly string[] | undefined }): RecoverySecret {
  if (p.Shares !== undefined) return { kind: 'shares', shares: p.Shares.map((text, i) => ({ text, where: `share ${i + 1}` })) };
  return { kind: 'passphrase', passphrase: new TextEncoder().encode(p.Passphrase ?? '') };
}

function wipe(secret: RecoverySecret): void {
  if (secret.kind === 'passphrase') secret.passphrase.fill(0);
}

/**
 * A signing request's bytes from the text the renderer sent (Request.Review, Approve, Reject): its
 * JSON text, or its QR codes' text (BC-UR parts, one per line, in any order). Pasted JSON may
 * have lost or gained whitespace around it: when the text is the request file's (encodeRequest)
 * but for that, the file's bytes are taken, so RequestSha256 is the one the online machine's file
 * has. Anything else is taken as it is, and station.ts parses (and refuses) it.
 */
async function carriedRequest(text: string): Promise<Uint8Array> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const exact = new TextEncoder().encode(text);
    if (exact.length > MAX_REQUEST_BYTES) throw new KmsError('Request.Malformed', `Text: the request is larger than ${MAX_REQUEST_BYTES} bytes`);
    let canonical: Uint8Array;
    try {
      canonical = encodeRequest(parseRequest(exact));
    } catch {
      return exact;
    }
    return new TextDecoder().decode(canonical).trim() === trimmed ? canonical : exact;
  }
  const parts = trimmed.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  if (!/^ur:/i.test(parts[0] ?? '')) {
    throw new KmsError('Request.Malformed', 'Text: must be a signing request: its JSON text ({"Type":"deskkms-signing-request",...}) or its QR codes\' text (lines "UR:BYTES/...")');
  }
  const assembled = await assembleRequestParts(parts, 'Text');
  if (!assembled.Complete) {
    throw new KmsError(
      'Request.Malformed',
      `Text: the QR codes' text is incomplete (${assembled.Frames} part${assembled.Frames === 1 ? '' : 's'}${assembled.Expected !== undefined ? ` of ${assembled.Expected}` : ''}): scan or paste the others`,
    );
  }
  return new TextEncoder().encode(assembled.Text);
}

/** BC-UR parts reassembled (core/airgap/qr.ts assembleParts); a part that is not a request's names its place. */
async function assembleRequestParts(parts: readonly string[], field: string): Promise<AppResults['Request.Frames']> {
  const state = await assembleParts(
    parts.map((part, i) => [`${field}[${i}]`, part.trim()] as const),
    MAX_REQUEST_BYTES,
  );
  const seen = { Frames: state.frames, ...(state.expected !== undefined ? { Expected: state.expected } : {}) };
  if (state.bytes === undefined) return { Complete: false, Progress: state.progress, ...seen };
  const bytes = state.bytes;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new KmsError('Request.Malformed', `${field}: the QR codes carry bytes that are not a request's JSON text (not UTF-8)`);
  }
  // The text round-trips to the same bytes (valid UTF-8, BOM kept): RequestSha256 is the file's.
  return { Complete: true, Progress: 1, ...seen, Text: text };
}

/** A streamed chunk as it came: base64 (JSON) or bytes (the browser host's binary route). */
function chunkBytes(chunk: string | Uint8Array): Uint8Array {
  return typeof chunk === 'string' ? decodeBase64(chunk, 'Chunk') : chunk;
}
