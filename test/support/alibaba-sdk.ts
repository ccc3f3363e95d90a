// The official Alibaba Cloud KMS SDK 1.x (CommonJS; it signs with V1, HMAC-SHA1), loaded through
// require so that Node and test runners resolve it the same way (their ESM interop of its default
// export differs). A test dependency only: remote connections speak through
// @alicloud/openapi-client (core/providers/openapi-sdk.ts). The tests and the bench drive
// "deskkms serve" with it as a client (test/integration/{api-sdk,api-policy,serve-cli}.test.ts,
// test/bench/api-load.ts).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/* eslint-disable @typescript-eslint/consistent-type-imports -- require() yields module.exports */
/** module.exports of @alicloud/kms20160120: `.default` is the client class, the rest request/response models. */
export const kmsSdk = require('@alicloud/kms20160120') as typeof import('@alicloud/kms20160120');
/** The SDK's client configuration model (from @alicloud/rpc-client). */
export const { Config: SdkConfig } = require('@alicloud/rpc-client') as typeof import('@alicloud/rpc-client');
/* eslint-enable @typescript-eslint/consistent-type-imports */

export const KmsClient = kmsSdk.default;
export type KmsClient = InstanceType<typeof kmsSdk.default>;
