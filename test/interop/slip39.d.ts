// The slice of slip39 0.1.9 (ilap/slip39-js; CommonJS, untyped) that the SLIP-0039 interop test calls.
declare module 'slip39' {
  interface Slip39Node {
    readonly mnemonics: string[];
  }
  interface Slip39Split {
    fromPath(path: string): Slip39Node;
  }
  const slip39: {
    fromArray(
      secret: number[],
      options: { passphrase: string; threshold: number; groups: number[][]; extendableBackupFlag: number; iterationExponent: number },
    ): Slip39Split;
    recoverSecret(mnemonics: string[], passphrase: string): number[];
    validateMnemonic(mnemonic: string): boolean;
  };
  export default slip39;
}
