// Alibaba Cloud's generic OpenAPI client, @alicloud/openapi-client (CommonJS): the Darabonba client
// every current Alibaba SDK is generated on. It signs with V3 (ACS3-HMAC-SHA256 by default,
// ACS3-HMAC-SM3 when asked) and, with signatureAlgorithm 'v2', takes its older RPC path, which
// signs with V1 (HMAC-SHA1). Loaded through require so that Node and test runners resolve it the
// same way (their ESM interop of its default export differs).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/* eslint-disable @typescript-eslint/consistent-type-imports -- require() yields module.exports */
/** module.exports of @alicloud/openapi-client: `.default` is the client, `Config`, `Params`, `OpenApiRequest` its models. */
const openApi = require('@alicloud/openapi-client') as typeof import('@alicloud/openapi-client');
/* eslint-enable @typescript-eslint/consistent-type-imports */

export const { Config: OpenApiConfig, Params: OpenApiParams, OpenApiRequest } = openApi;
export const OpenApiClient = openApi.default;
export type OpenApiClient = InstanceType<typeof openApi.default>;
/** What callApi reads of its runtime options (a plain object does: it reads fields only). */
export type OpenApiRuntime = Parameters<OpenApiClient['callApi']>[2];
