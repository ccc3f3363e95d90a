// The slice of sm-crypto 0.5.8 (CommonJS, untyped) that the SM2 library benchmark calls.
declare module 'sm-crypto' {
  interface Sm2 {
    generateKeyPairHex(): { privateKey: string; publicKey: string };
    doSignature(msg: string | number[], privateKey: string, options?: { hash?: boolean; der?: boolean; publicKey?: string }): string;
    doVerifySignature(msg: string | number[], signature: string, publicKey: string, options?: { hash?: boolean; der?: boolean }): boolean;
  }
  const smCrypto: { sm2: Sm2; sm3(input: string | number[]): string };
  export default smCrypto;
}
