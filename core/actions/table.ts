// The handler table: one entry per Action of core/contract/actions.ts. tsc refuses a table that
// misses an Action or gives one the wrong request type.
import { KEY_HANDLERS } from './key-handlers.ts';
import { CRYPTO_HANDLERS } from './crypto-handlers.ts';
import { TRANSFER_HANDLERS } from './transfer-handlers.ts';
import { X509_HANDLERS } from './x509-handlers.ts';
import { IMPORT_HANDLERS } from './import-handlers.ts';
import type { HandlerTable } from './operation.ts';

export const HANDLERS: HandlerTable = { ...KEY_HANDLERS, ...CRYPTO_HANDLERS, ...TRANSFER_HANDLERS, ...IMPORT_HANDLERS, ...X509_HANDLERS };
