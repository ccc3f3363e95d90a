// PUBLIC-KEY-ONLY crypto for hosts: the one core/crypto module that core/hosts, core/app and
// electron may import (the layering lint refuses any other). It offers what works offline with a
// public key and no vault: reading a public key (SPKI PEM or DER), verifying a signature over a
// Digest, computing the Digest AsymmetricSign/AsymmetricVerify take (streamed), and checking that an
// algorithm fits a key spec. It re-exports the engine's functions (the contract's checks stay in
// one place) and nothing that touches private keys, which exist only in the key worker.
export { assertAlgorithmFor, digestMessage, feedDigester, importPublicKey, publicKeyPem, verifyDigest } from './engine.ts';
export type { PublicKey } from './engine.ts';
export { createDigester, type Digester } from './hash.ts';
