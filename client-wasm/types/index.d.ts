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

export * from "./video_translation_client.js";
export { default } from "./video_translation_client.js";

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
