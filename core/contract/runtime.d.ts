// The few globals that Node (>= 16), Electron and every browser share, declared here so the
// runtime-neutral contract needs neither DOM nor Node type libraries.
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
