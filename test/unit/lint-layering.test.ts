// The layering arrows of DESIGN.md section 2 and issue 11 item 5 are enforced by ESLint; this proves
// each arrow fires on a virtual file of the layer it guards, and that the imports a layer needs pass.
import { existsSync } from 'node:fs';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import config, { layering } from '../../eslint.config.js';
import * as engine from '../../core/crypto/engine.ts';
import * as ecEncoding from '../../core/crypto/ec-encoding.ts';
import * as publicKey from '../../core/crypto/public-key.ts';

const eslint = new ESLint({
  cwd: new URL('../..', import.meta.url).pathname,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts', '**/*.tsx'], languageOptions: { parser: tseslint.parser } }, ...layering],
});

async function layeringErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering lint rule', () => {
  it.each([
    ['core/crypto/x.ts', "import { app } from 'electron';", /must not import electron/],
    ['core/crypto/x.ts', "import type { BrowserWindow } from 'electron';", /must not import electron/],
    ['core/hosts/cli/x.ts', "import { main } from '../../electron/main.ts';", /must not import electron/],
    ['core/store/x.ts', "import { App } from '../../renderer/src/App.tsx';", /must not import electron\/, renderer/],
    ['core/contract/x.ts', "import { createHash } from 'node:crypto';", /no node:\* imports/],
    ['core/contract/x.ts', "import { sign } from '../crypto/engine.ts';", /only other contract modules/],
    ['renderer/src/x.ts', "import { generateKey } from '../../core/crypto/engine.ts';", /only core\/contract/],
    ['renderer/src/x.tsx', "import { readFile } from 'node:fs';", /no node:\* imports/],
    ['renderer/src/x.ts', "import { ipcRenderer } from 'electron';", /preload API/],
    ['electron/main.ts', "import { App } from '../renderer/src/App.tsx';", /over IPC only/],
    // Signature formats are pure: they reach no table, vault, worker or host (issue 13).
    ['core/formats/x.ts', "import { dispatch } from '../actions/dispatch.ts';", /core\/formats\/ is pure format code/],
    ['core/formats/x.ts', "import { Vault } from '../vault/vault.ts';", /core\/formats\/ is pure format code/],
    ['core/formats/x.ts', "import { runCli } from '../hosts/cli/run.ts';", /core\/formats\/ is pure format code/],
    ['core/formats/x.ts', "import { signDigest } from '../crypto/engine.ts';", /worker-only/],
    // Signing requests across the air gap are host-side (issue 15): the table never imports them, they import no engine crypto.
    ['core/actions/x.ts', "import { approveRequest } from '../airgap/station.ts';", /imports no host/],
    ['core/airgap/x.ts', "import { signDigest } from '../crypto/engine.ts';", /worker-only|hosts .* only transport/],
    ['core/airgap/x.ts', "import { appendAuditEntries } from '../audit/audit-log.ts';", /import no core\/audit/],
  ])('%s: %s is refused', async (file, code, message) => {
    const errors = await layeringErrors(file, code);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(message);
  });

  it.each([
    ['core/crypto/x.ts', "import { KEY_SPECS } from '../contract/specs.ts';"],
    ['core/crypto/x.ts', "import { createHash } from 'node:crypto';"],
    ['core/contract/x.ts', "import { KmsError } from './errors.ts';"],
    ['renderer/src/x.ts', "import { KEY_SPECS } from '../../core/contract/specs.ts';"],
    ['electron/main.ts', "import { runCli } from '../core/hosts/cli/run.ts';"],
    ['core/formats/x.ts', "import { importPublicKey } from '../crypto/public-key.ts';"],
    ['core/formats/x.ts', "import { decodeRsSignature } from '../crypto/der.ts';"],
    ['core/actions/x.ts', "import { signatureFormat } from '../formats/registry.ts';"],
    ['core/airgap/x.ts', "import { call } from '../actions/format-signing.ts';"],
    ['core/hosts/cli/x.ts', "import { createRequest } from '../../airgap/online.ts';"],
  ])('%s: %s is allowed', async (file, code) => {
    expect(await layeringErrors(file, code)).toEqual([]);
  });

  // 1. Only core/worker imports the worker-only modules (private keys, the data key, PKCS#8 decryption).
  const WORKER_ONLY = /worker-only/;
  it.each([
    ['core/actions/x.ts', "import { unwrapKeyMaterial } from '../worker/key-material.ts';"],
    ['core/vault/x.ts', "import { seal } from '../worker/seal.ts';"],
    ['core/vault/x.ts', "import { KeyWorkerCore } from '../worker/worker-core.ts';"],
    ['core/app/x.ts', "import '../worker/key-worker.ts';"],
    ['core/vault/x.ts', "import { loadDataKey } from '../keychain/data-key.ts';"],
    ['core/providers/x.ts', "import { unwrapDataKey } from '../keychain/passphrase.ts';"],
    ['core/actions/x.ts', "import { decryptPkcs8 } from '../x509/pkcs8-pbes2.ts';"],
    ['core/actions/x.ts', "export { encryptPkcs8 } from '../x509/pkcs8-pbes2.ts';"],
    ['core/x509/x.ts', "import { importPrivateKey } from '../crypto/engine.ts';"],
    ['core/actions/x.ts', "import { generateKey, verifyDigest } from '../crypto/engine.ts';"],
    ['core/actions/x.ts', "import { signDigest } from '../crypto/engine.ts';"],
    ['core/audit/x.ts', "import { decrypt } from '../crypto/engine.ts';"],
    ['core/x509/x.ts', "import { parseEcPkcs8 } from '../crypto/ec-encoding.ts';"],
    ['core/actions/x.ts', "import { RsaPrivateKey } from '../crypto/rsa.ts';"],
    ['core/vault/x.ts', "import { EcdsaPrivateKey } from '../crypto/ecdsa.ts';"],
    ['core/x509/x.ts', "import { Sm2PrivateKey } from '../crypto/sm2.ts';"],
    ['core/crypto/x.ts', "import { seal } from '../worker/seal.ts';"],
    ['core/hosts/cli/x.ts', "import { loadDataKey } from '../../keychain/data-key.ts';"],
    ['electron/x.ts', "import { decryptPkcs8 } from '../core/x509/pkcs8-pbes2.ts';"],
  ])('worker-only: %s: %s is refused', async (file, code) => {
    expect((await layeringErrors(file, code)).join('\n')).toMatch(WORKER_ONLY);
  });

  it.each([
    ['core/worker/x.ts', "import { unwrapKeyMaterial } from './key-material.ts';"],
    ['core/worker/x.ts', "import { loadDataKey, storeDataKey } from '../keychain/data-key.ts';"],
    ['core/worker/x.ts', "import { unwrapDataKey } from '../keychain/passphrase.ts';"],
    ['core/worker/x.ts', "import { decryptPkcs8 } from '../x509/pkcs8-pbes2.ts';"],
    ['core/worker/x.ts', "import { generateKey, importPrivateKey, signDigest, decrypt } from '../crypto/engine.ts';"],
    ['core/x509/pkcs8-pbes2.ts', "import { importPrivateKey, signDigest } from '../crypto/engine.ts';"],
    ['core/keychain/data-key.ts', "import { entry } from './keychain.ts';"],
    ['core/crypto/x.ts', "import { RsaPrivateKey } from './rsa.ts';"],
    ['core/vault/x.ts', "import { KeyWorkerClient } from '../worker/client.ts';"],
    ['core/vault/x.ts', "import type { Protection } from '../worker/protocol.ts';"],
    ['core/actions/x.ts', "import { importPublicKey, verifyDigest } from '../crypto/engine.ts';"],
    ['core/x509/x.ts', "import { parseSpki } from '../crypto/ec-encoding.ts';"],
    ['core/actions/x.ts', "import { readEncryptedPkcs8 } from '../x509/pkcs8-export.ts';"],
  ])('worker-only: %s: %s is allowed', async (file, code) => {
    expect(await layeringErrors(file, code)).toEqual([]);
  });

  it("names every worker-only module in its message, and each exists with the names it refuses", async () => {
    const [message] = await layeringErrors('core/actions/x.ts', "import { seal } from '../worker/seal.ts';");
    const modules = [
      'core/worker/worker-core.ts',
      'core/worker/key-worker.ts',
      'core/worker/key-material.ts',
      'core/worker/seal.ts',
      'core/keychain/data-key.ts',
      'core/keychain/passphrase.ts',
      'core/x509/pkcs8-pbes2.ts',
      'core/crypto/rsa.ts',
      'core/crypto/ecdsa.ts',
      'core/crypto/sm2.ts',
    ];
    for (const module of modules) {
      expect(existsSync(new URL(`../../${module}`, import.meta.url)), module).toBe(true);
      const [dir, file] = module.replace(/^core\//, '').replace(/\.ts$/, '').split('/') as [string, string];
      expect(message).toMatch(new RegExp(`core/${dir}/(\\{[^}]*\\b${file}\\b[^}]*\\}|${file})\\.ts`));
    }
    for (const name of ['generateKey', 'importPrivateKey', 'signDigest', 'decrypt']) {
      expect(engine).toHaveProperty(name);
      expect(message).toContain(name);
    }
    for (const name of ['parseEcPkcs8', 'encodeEcPkcs8']) {
      expect(ecEncoding).toHaveProperty(name);
      expect(message).toContain(name);
    }
  });

  // 2. Hosts import no core/crypto (but the public-key-only module), no core/keychain, no core/audit.
  it.each([
    ['core/hosts/cli/commands/x.ts', "import { importPublicKey } from '../../../crypto/engine.ts';", /no core\/crypto except core\/crypto\/public-key\.ts/],
    ['core/hosts/cli/commands/x.ts', "import { createDigester } from '../../../crypto/hash.ts';", /no core\/crypto except/],
    ['core/hosts/http/x.ts', "import { randomBase62 } from '../../crypto/random-text.ts';", /no core\/crypto except/],
    ['core/app/x.ts', "import type { PublicKey } from '../crypto/keys.ts';", /no core\/crypto except/],
    ['electron/x.ts', "import { encodePem } from '../core/crypto/pem.ts';", /no core\/crypto except/],
    ['core/hosts/cli/commands/x.ts', "import { keychainBackendName } from '../../../keychain/keychain.ts';", /no core\/keychain/],
    ['core/app/x.ts', "import { loadSecretText } from '../keychain/keychain.ts';", /no core\/keychain/],
    ['electron/x.ts', "import { keychainBackendName } from '../core/keychain/keychain.ts';", /no core\/keychain/],
    ['core/hosts/cli/commands/x.ts', "import { listAuditEntries } from '../../../audit/audit-log.ts';", /no core\/audit/],
    ['core/hosts/cli/commands/x.ts', "import { RefusalLog } from '../../../audit/refusal-log.ts';", /no core\/audit/],
    ['core/app/x.ts', "import type { AuditEntry } from '../audit/audit-log.ts';", /no core\/audit/],
    ['electron/x.ts', "import { appendAuditEntries } from '../core/audit/audit-log.ts';", /no core\/audit/],
  ])('hosts: %s: %s is refused', async (file, code, message) => {
    expect((await layeringErrors(file, code)).join('\n')).toMatch(message);
  });

  it.each([
    ['core/hosts/cli/commands/x.ts', "import { digestMessage, importPublicKey, verifyDigest } from '../../../crypto/public-key.ts';"],
    ['core/app/x.ts', "import { assertAlgorithmFor, type Digester, type PublicKey } from '../crypto/public-key.ts';"],
    ['electron/x.ts', "import { importPublicKey } from '../core/crypto/public-key.ts';"],
    ['core/hosts/cli/commands/x.ts', "import { keychainBackend } from '../../../vault/keychain-status.ts';"],
    ['core/hosts/cli/x.ts', "import { readPassphrase } from '../../vault/secrets.ts';"],
    ['core/hosts/cli/x.ts', "import { dispatch } from '../../actions/dispatch.ts';"],
    ['core/hosts/cli/x.ts', "import { createHash } from 'node:crypto';"],
    ['core/app/x.ts', "import { writeBundle } from '../x509/bundle-writer.ts';"],
  ])('hosts: %s: %s is allowed', async (file, code) => {
    expect(await layeringErrors(file, code)).toEqual([]);
  });

  it('the public-key-only module offers no private-key operation', () => {
    for (const name of ['generateKey', 'importPrivateKey', 'signDigest', 'decrypt']) expect(publicKey).not.toHaveProperty(name);
    for (const name of ['importPublicKey', 'verifyDigest', 'digestMessage', 'createDigester']) expect(publicKey).toHaveProperty(name);
  });

  // 3. The table imports no host; the engine below the table imports neither the table nor a host.
  it.each([
    ['core/actions/x.ts', "import { rpcStringToSign } from '../hosts/http/rpc-signature.ts';", /core\/actions \(the handler table\) imports no host/],
    ['core/actions/x.ts', "import { runCli } from '../hosts/cli/run.ts';", /imports no host/],
    ['core/actions/x.ts', "import { AppSession } from '../app/app-session.ts';", /imports no host/],
    ['core/vault/x.ts', "import { dispatch } from '../actions/dispatch.ts';", /sit below the handler table/],
    ['core/audit/x.ts', "import { HANDLERS } from '../actions/table.ts';", /sit below the handler table/],
    ['core/crypto/x.ts', "import { dispatch } from '../actions/dispatch.ts';", /sit below the handler table/],
    ['core/worker/x.ts', "import { dispatch } from '../actions/dispatch.ts';", /sit below the handler table/],
    ['core/keychain/x.ts', "import { runCli } from '../hosts/cli/run.ts';", /sit below the handler table/],
    ['core/providers/x.ts', "import type { CallContext } from '../actions/operation.ts';", /sit below the handler table/],
    ['core/providers/x.ts', "import { serve } from '../hosts/http/http-server.ts';", /sit below the handler table/],
    ['core/x509/x.ts', "import { callAction } from '../hosts/cli/actions-cli.ts';", /sit below the handler table/],
    ['core/x509/pkcs8-pbes2.ts', "import { dispatch } from '../actions/dispatch.ts';", /sit below the handler table/],
  ])('table and engine: %s: %s is refused', async (file, code, message) => {
    expect((await layeringErrors(file, code)).join('\n')).toMatch(message);
  });

  it.each([
    ['core/actions/x.ts', "import { Vault } from '../vault/vault.ts';"],
    ['core/actions/x.ts', "import { appendAuditEntries } from '../audit/audit-log.ts';"],
    ['core/actions/x.ts', "import { buildCsr } from '../x509/csr.ts';"],
    ['core/actions/x.ts', "import type { KmsProvider } from '../providers/provider.ts';"],
    ['core/actions/x.ts', "import { keyPolicy } from './key-policy.ts';"],
    ['core/hosts/cli/x.ts', "import { callAction } from './actions-cli.ts';"],
    ['core/vault/x.ts', "import { appendAuditEntries } from '../audit/audit-log.ts';"],
    ['core/providers/x.ts', "import { loadSecretText } from '../keychain/keychain.ts';"],
  ])('table and engine: %s: %s is allowed', async (file, code) => {
    expect(await layeringErrors(file, code)).toEqual([]);
  });

  it('is part of the project configuration that `npm run lint` uses', () => {
    for (const entry of layering) expect(config).toContain(entry);
  });
});
