// The remote provider where node:crypto has no SM3 (Electron's BoringSSL): a connection signing
// with ACS3-HMAC-SM3 is refused with UnsupportedOperation naming the scheme, before any request,
// instead of failing inside @alicloud/openapi-client; the other schemes still make their request.
// node:crypto is mocked here to list no 'sm3', as BoringSSL's getHashes does.
import { createServer } from 'node:http';
import type * as NodeCrypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SignatureAlgorithm } from '../contract/api-signatures.ts';
import { RemoteKmsProvider } from './remote.ts';

vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof NodeCrypto>();
  return { ...crypto, getHashes: () => crypto.getHashes().filter((h) => h.toLowerCase() !== 'sm3') };
});

let requests = 0;
const server = createServer((req, res) => {
  requests++;
  req.resume();
  req.on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ RequestId: 'r', Code: 'Rejected.Disabled', Message: 'reached' })));
});
let endpoint: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const provider = (signatureAlgorithm: SignatureAlgorithm) =>
  new RemoteKmsProvider({ name: 'gm', endpoint, regionId: 'cn-hangzhou', protocol: 'http', accessKeyId: 'LTAIexample', signatureAlgorithm }, 'secret');

describe('a runtime without SM3', () => {
  it('refuses an ACS3-HMAC-SM3 connection before any request, naming the scheme and the way out', async () => {
    requests = 0;
    await expect(provider('ACS3-HMAC-SM3').describeKey({ KeyId: 'k' }, { caller: 'test', requestId: 'r' })).rejects.toMatchObject({
      code: 'UnsupportedOperation',
      message: expect.stringMatching(/^DescribeKey is not supported by remote KMS "gm" \(http:\/\/127\.0\.0\.1:\d+\) here: the connection signs with ACS3-HMAC-SM3, .*no SM3/) as unknown,
    });
    expect(requests).toBe(0);
  });

  it.each(['ACS3-HMAC-SHA256', 'HMAC-SHA1'] as const)('%s still reaches the remote (its answer comes back as its Code)', async (algorithm) => {
    requests = 0;
    await expect(provider(algorithm).describeKey({ KeyId: 'k' }, { caller: 'test', requestId: 'r' })).rejects.toMatchObject({ code: 'Rejected.Disabled', message: expect.stringMatching(/: reached$/) as unknown });
    expect(requests).toBe(1);
  });
});
