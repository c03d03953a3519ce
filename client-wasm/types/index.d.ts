/// <reference lib="esnext.disposable" />
// The package's types: wasm-bindgen's declarations (video_translation_client.d.ts, as it wrote
// them), made to compile without the DOM library too, as in a Node service with
// `"lib": ["es2022"], "types": ["node"]`.
//
// wasm-bindgen's `init`/`initSync` types name three things that only the DOM library
// declares: `RequestInfo`, `BufferSource` and the `WebAssembly` namespace (@types/node
// declares fetch's and AbortSignal's types, which the rest of the API uses, but not these).
// They are declared here in ways that agree with the DOM library where it is present:
// - `WebAssembly`'s interfaces merge with the DOM library's (interfaces merge; these add
//   nothing to them);
// - `RequestInfo` and `BufferSource` are type aliases in the DOM library, which cannot be
//   declared twice globally, so they are declared in the module itself (an augmentation),
//   where its declarations find them first; each is the DOM library's definition.
// The classes declare `[Symbol.dispose]` (for `using`), which type-checks only with the
// esnext.disposable lib (TypeScript 5.2+): the reference above spares every consumer's
// tsconfig.

import type { InitInput, SyncInitInput } from "./video_translation_client.js";

export * from "./video_translation_client.js";

// wasm-bindgen types the module's raw exports (what `init` resolves to) with `any`. They are
// externrefs and pointers for its glue alone, so the public API says `unknown`: these three
// declarations take the place of the generated ones (a module's own exports hide the names
// `export *` brings), describing the same functions of video_translation_client.js.

/** The module's raw exports, for wasm-bindgen's glue alone: nothing a caller should touch. */
export interface InitOutput {
  readonly memory: WebAssembly.Memory;
  readonly [name: string]: unknown;
}

/** Instantiates the module from its bytes or a compiled `WebAssembly.Module` (Node, Deno, Bun, workers). */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/** Fetches and instantiates the module: from beside the glue by default, or from `module_or_path`. */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;

declare module "./video_translation_client.js" {
  /** What `fetch` takes as its first argument (as the DOM library has it). */
  type RequestInfo = Request | string;
  /** An `ArrayBuffer` or a view of one (as the DOM library has it). */
  type BufferSource = ArrayBufferView | ArrayBuffer;
}

declare global {
  namespace WebAssembly {
    interface Module {}
    interface Instance {}
    interface Memory {}
    interface Table {}
  }
}
