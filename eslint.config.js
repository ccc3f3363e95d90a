// ESLint flat config: typescript-eslint (type-aware) plus the layering rules of DESIGN.md section 2.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ELECTRON_OR_RENDERER = {
  regex: '(^electron$|^electron/|(^|/)electron/|(^|/)renderer/)',
  message: 'core/ is runtime-neutral engine code: it must not import electron/, renderer/ or the electron package (DESIGN.md section 2).',
};

// Every import path below is relative (core has no path aliases): `^\.{1,2}/(.*/)?X/` is "a module in
// a directory named X", which neither `node:crypto` nor a package can match.
const inDir = (dir) => `^\\.{1,2}/(.*/)?${dir}/`;

/**
 * Worker-only modules: the private key material and the vault data key exist only inside the key
 * worker (DESIGN.md section 4), so only core/worker/** may import the modules that parse, hold or
 * use them. (core/crypto implements the key classes and the three worker-only modules outside
 * core/worker are themselves worker-side; tests import them directly.)
 */
const WORKER_ONLY_MESSAGE =
  'worker-only: private keys and the vault data key exist only in the key worker, so only core/worker/** imports ' +
  'core/worker/{worker-core,key-worker,key-material,seal}.ts (unsealing, private-key use), ' +
  'core/keychain/data-key.ts (loading/storing the data key), core/keychain/passphrase.ts (wrapping the data key), ' +
  'core/x509/pkcs8-pbes2.ts (PKCS#8 decryption/encryption), core/crypto/{rsa,ecdsa,sm2}.ts (private key classes), ' +
  "core/crypto/engine.ts's generateKey/importPrivateKey/signDigest/decrypt and core/crypto/ec-encoding.ts's " +
  'parseEcPkcs8/encodeEcPkcs8 (private-key parsing and use). Ask the vault (core/vault) or dispatch instead.';
const WORKER_ONLY_OUTSIDE_CRYPTO = [
  { regex: `${inDir('worker')}(worker-core|key-worker|key-material|seal)(\\.ts)?$`, message: WORKER_ONLY_MESSAGE },
  { regex: `${inDir('keychain')}(data-key|passphrase)(\\.ts)?$`, message: WORKER_ONLY_MESSAGE },
  { regex: `${inDir('x509')}pkcs8-pbes2(\\.ts)?$`, message: WORKER_ONLY_MESSAGE },
];
const WORKER_ONLY = [
  ...WORKER_ONLY_OUTSIDE_CRYPTO,
  { regex: `${inDir('crypto')}(rsa|ecdsa|sm2)(\\.ts)?$`, message: WORKER_ONLY_MESSAGE },
  {
    regex: `${inDir('crypto')}engine(\\.ts)?$`,
    importNames: ['generateKey', 'importPrivateKey', 'signDigest', 'decrypt'],
    message: WORKER_ONLY_MESSAGE,
  },
  { regex: `${inDir('crypto')}ec-encoding(\\.ts)?$`, importNames: ['parseEcPkcs8', 'encodeEcPkcs8'], message: WORKER_ONLY_MESSAGE },
];

/** The engine below the table (vault, audit, crypto, worker, keychain, providers, x509) knows no caller. */
const NO_TABLE_OR_HOST = {
  regex: inDir('(actions|hosts|app|airgap)'),
  message:
    'core/{vault,audit,crypto,worker,keychain,providers,x509} sit below the handler table: they import neither ' +
    'core/actions (the table) nor a host (core/hosts, core/app, core/airgap); the table calls them, never the reverse.',
};

/** The table serves every host alike. */
const NO_HOST = {
  regex: inDir('(hosts|app|airgap)'),
  message: 'core/actions (the handler table) imports no host (core/hosts, core/app, core/airgap): hosts call the table, never the reverse.',
};

/** Hosts parse their wire format and render output; everything else goes through the table (dispatch) or the vault. */
const HOST_MESSAGE = 'hosts (core/hosts, core/app, electron) only transport: they reach the vault through dispatch (core/actions) or core/vault';
const HOST_ARROWS = [
  ...WORKER_ONLY,
  {
    regex: `${inDir('crypto')}(?!public-key(\\.ts)?$)`,
    message: `${HOST_MESSAGE}, and import no core/crypto except core/crypto/public-key.ts (public-key-only: verify, digest, public key parsing, for the offline commands).`,
  },
  {
    regex: inDir('keychain'),
    message: `${HOST_MESSAGE}, and import no core/keychain: the keychain backend's status is core/vault/keychain-status.ts.`,
  },
  {
    regex: inDir('audit'),
    message: `${HOST_MESSAGE}, and import no core/audit: listing, verifying and acknowledging the log are Actions, and lifecycle events are recorded by the vault or dispatch.`,
  },
];

const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

/**
 * The layering arrows (DESIGN.md section 2, issue 11 item 5), one entry per layer; the build fails when
 * one is broken. ESLint takes a rule's options from the LAST entry matching a file, so every entry
 * lists all the patterns its files obey (the entries' files are disjoint, after the first).
 */
export const layering = [
  { files: ['core/**/*.ts'], rules: restrict(ELECTRON_OR_RENDERER) },
  {
    files: ['core/contract/**/*.ts'],
    rules: restrict(
      ELECTRON_OR_RENDERER,
      { regex: '^node:', message: 'core/contract/ is shared with the renderer: no node:* imports.' },
      { regex: '^\\.\\./', message: 'core/contract/ may import only other contract modules.' },
    ),
  },
  // The worker side: core/worker and the worker-only modules kept beside their subject.
  {
    files: ['core/worker/**/*.ts', 'core/x509/pkcs8-pbes2.ts', 'core/keychain/data-key.ts', 'core/keychain/passphrase.ts'],
    rules: restrict(ELECTRON_OR_RENDERER, NO_TABLE_OR_HOST),
  },
  { files: ['core/crypto/**/*.ts'], rules: restrict(ELECTRON_OR_RENDERER, NO_TABLE_OR_HOST, ...WORKER_ONLY_OUTSIDE_CRYPTO) },
  {
    files: ['core/vault/**/*.ts', 'core/audit/**/*.ts', 'core/keychain/**/*.ts', 'core/providers/**/*.ts', 'core/x509/**/*.ts'],
    ignores: ['core/x509/pkcs8-pbes2.ts', 'core/keychain/data-key.ts', 'core/keychain/passphrase.ts'],
    rules: restrict(ELECTRON_OR_RENDERER, NO_TABLE_OR_HOST, ...WORKER_ONLY),
  },
  // Signature formats are pure functions of public key facts and AsymmetricSign's answer: the table
  // (core/actions/format-signing.ts) and the hosts call them; they reach no vault, log or worker.
  {
    files: ['core/formats/**/*.ts'],
    // A format's test beside it drives the real handler table (test/support/action-vault.ts).
    ignores: ['core/formats/**/*.test.ts'],
    rules: restrict(ELECTRON_OR_RENDERER, ...WORKER_ONLY, {
      regex: inDir('(actions|hosts|app|airgap|vault|audit|keychain|providers|worker|custody)'),
      message: 'core/formats/ is pure format code over public keys and AsymmetricSign answers: it imports no table, host, vault, audit log, keychain, provider or worker.',
    }),
  },
  { files: ['core/actions/**/*.ts'], rules: restrict(ELECTRON_OR_RENDERER, NO_HOST, ...WORKER_ONLY) },
  // core/airgap (signing requests across an air gap) is host-side: it signs through the table's format route.
  { files: ['core/hosts/**/*.ts', 'core/app/**/*.ts', 'core/airgap/**/*.ts'], rules: restrict(ELECTRON_OR_RENDERER, ...HOST_ARROWS) },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: restrict(
      { regex: '^node:', message: 'renderer/ runs in a sandboxed browser: no node:* imports.' },
      { regex: '^electron$|^electron/', message: 'renderer/ reaches the main process only through the preload API.' },
      {
        regex: '(^|/)core/(?!contract/)',
        message: 'renderer/ may import only core/contract/ (runtime-neutral types and tables), never the store or crypto.',
      },
    ),
  },
  {
    files: ['electron/**/*.ts'],
    rules: restrict({ regex: '(^|/)renderer/', message: 'electron/ talks to renderer/ over IPC only.' }, ...HOST_ARROWS),
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.tsbuild/', 'dist/', 'renderer/dist/', 'playwright-report/', 'test-results/', 'build/output/', 'test/lint-fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
  {
    // Tests read JSON responses of the API, untyped by nature; they assert their shape instead.
    // Operation tests sit beside their operation (core/actions/<operation>.test.ts).
    files: ['test/**/*.ts', 'core/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  ...layering,
);
