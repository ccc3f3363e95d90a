// The part of the WebAssembly JavaScript API that core uses (p256-inverse.ts). Node and Electron
// have it as a global; core's TypeScript library (ES2023 + @types/node) does not declare it, and
// the DOM library, which does, is not for core.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}
