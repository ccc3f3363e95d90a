// ESLint flat config: typescript-eslint (type-aware) plus the layering rules of DESIGN.md section 2.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ELECTRON_OR_RENDERER = {
  regex: '(^electron$|^electron/|(^|/)electron/|(^|/)renderer/)',
  message: 'core/ is runtime-neutral engine code: it must not import electron/, renderer/ or the electron package (DESIGN.md section 2).',
};

/** The layering arrows, one entry per layer; the build fails when one is broken. */
export const layering = [
  {
    files: ['core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ELECTRON_OR_RENDERER] }] },
  },
  {
    files: ['core/contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ELECTRON_OR_RENDERER,
            { regex: '^node:', message: 'core/contract/ is shared with the renderer: no node:* imports.' },
            { regex: '^\\.\\./', message: 'core/contract/ may import only other contract modules.' },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^node:', message: 'renderer/ runs in a sandboxed browser: no node:* imports.' },
            { regex: '^electron$|^electron/', message: 'renderer/ reaches the main process only through the preload API.' },
            {
              regex: '(^|/)core/(?!contract/)',
              message: 'renderer/ may import only core/contract/ (runtime-neutral types and tables), never the store or crypto.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '(^|/)renderer/', message: 'electron/ talks to renderer/ over IPC only.' }] },
      ],
    },
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
    files: ['test/**/*.ts'],
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
