// `make lint` checks the JavaScript with ESLint's recommended rules: they catch real bugs
// (undefined names, unused variables, unreachable code, duplicate keys) in plain ES modules
// without a build step or type annotations, where `tsc --checkJs` would want JSDoc types in
// every file. The published package's JS is generated (wasm-bindgen) and not linted here.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: [".venv/**", "client-wasm/pkg/**", "node_modules/**", "target/**", "tests/.artifacts/**", "vendor/**"] },
  js.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2024, sourceType: "module" },
    rules: { "no-unused-vars": ["error", { argsIgnorePattern: "^_", caughtErrors: "none" }] },
  },
  // Node: tests, benchmarks, scripts and the command-line tool.
  {
    files: ["tests/**", "bench/**", "scripts/**", "client-wasm/cli/**", "eslint.config.js"],
    languageOptions: { globals: { ...globals.node } },
  },
  // Terminal output is matched with its control codes (ESC [ K), on purpose.
  { files: ["tests/**"], rules: { "no-control-regex": "off" } },
  // Pages and the client's IO: browsers, workers and Node alike; and the suites and the
  // benchmark that run functions inside pages.
  {
    files: ["www/**", "client-wasm/js/**", "tests/**", "bench/pages.mjs"],
    languageOptions: { globals: { ...globals.browser } },
  },
];
