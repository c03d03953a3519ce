// The documentation's links: every relative link and anchor in the README, CONTRIBUTING.md,
// bench/README.md and docs/ leads somewhere that exists, the README's layout names only paths
// that exist, and the npm package's README (docs/client.md, as scripts/npm-files.mjs writes
// it) has no link that works only inside the repository.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import { REPO } from "./helpers.mjs";

const DOCUMENTS = [
  "README.md",
  "CONTRIBUTING.md",
  "bench/README.md",
  ...fs.readdirSync(path.join(REPO, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`),
];

/** The links of a Markdown text, code blocks and code spans left out (they show syntax, not links). */
function linksOf(markdown) {
  const prose = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((match) => match[1]);
}

/** The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown) {
  const headings = markdown.replace(/```[\s\S]*?```/g, "").matchAll(/^#{1,6} (.+)$/gm);
  return new Set(
    [...headings].map(([, text]) =>
      text
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\- _]/gu, "")
        .replace(/ /g, "-"),
    ),
  );
}

/** Why a link from `document` to `target` leads nowhere, or null when it leads somewhere. */
function brokenReason(document, target) {
  if (/^[a-z]+:/.test(target)) return null; // another site: not fetched (the tests stay on loopback)
  const [file, anchor] = target.split("#");
  const resolved = file ? path.join(path.dirname(path.join(REPO, document)), file) : path.join(REPO, document);
  if (!fs.existsSync(resolved)) return `${file} does not exist`;
  if (anchor === undefined) return null;
  if (!resolved.endsWith(".md")) return `#${anchor} points into ${file}, which has no headings`;
  return anchorsOf(fs.readFileSync(resolved, "utf8")).has(anchor) ? null : `${file || document} has no heading #${anchor}`;
}

test("every relative link and anchor in the documentation leads somewhere", () => {
  const broken = [];
  let checked = 0;
  for (const document of DOCUMENTS) {
    for (const target of linksOf(fs.readFileSync(path.join(REPO, document), "utf8"))) {
      checked += 1;
      const reason = brokenReason(document, target);
      if (reason) broken.push(`${document}: (${target}) ${reason}`);
    }
  }
  assert.ok(checked > 30, `only ${checked} links found: is the link pattern still right?`);
  assert.deepEqual(broken, []);
});

test("a link to a missing file or heading is caught", () => {
  assert.match(brokenReason("README.md", "docs/nothing-here.md"), /does not exist/);
  assert.match(brokenReason("README.md", "docs/client.md#no-such-heading"), /no heading/);
  assert.equal(brokenReason("docs/polling.md", "../CONTRIBUTING.md"), null);
  assert.equal(brokenReason("README.md", "https://example.com/x"), null);
});

/** Whether a path exists in the repository; a `*` in its last part matches any characters. */
function exists(relative) {
  const name = path.basename(relative);
  if (!name.includes("*")) return fs.existsSync(path.join(REPO, relative));
  const pattern = new RegExp(`^${name.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  const folder = path.join(REPO, path.dirname(relative));
  return fs.existsSync(folder) && fs.readdirSync(folder).some((file) => pattern.test(file));
}

test("the README's layout names only paths that exist", () => {
  const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
  const layout = readme.match(/## Layout\n\n```\n([\s\S]*?)```/);
  assert.ok(layout, "README.md has a ## Layout code block");
  let parent = "";
  const missing = [];
  for (const line of layout[1].split("\n")) {
    // An entry starts a line (a top-level path) or is indented two spaces under one; deeper
    // indentation continues the description on the line above.
    const entry = line.match(/^( {2})?([^\s]+)/);
    if (!entry) continue;
    const [, child, name] = entry;
    if (!/[/.]/.test(name)) continue; // a word of a description, not a path
    const relative = child ? path.join(parent, name) : name;
    if (!child) parent = name;
    if (!exists(relative)) missing.push(relative);
  }
  assert.deepEqual(missing, []);
});

test("the npm README is docs/client.md, with every link pointing at the repository's pages", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "vtc-readme-"));
  try {
    execFileSync(process.execPath, [path.join(REPO, "scripts", "npm-files.mjs"), out]);
    const readme = fs.readFileSync(path.join(out, "README.md"), "utf8");
    assert.match(readme, /^# video-translation-client\n/);
    assert.doesNotMatch(readme, /<!--/, "no comment meant for the repository's readers");
    const links = linksOf(readme);
    const repository = JSON.parse(fs.readFileSync(path.join(out, "package.json"), "utf8")).repository.url.replace(/^git\+|\.git$/g, "");
    const relative = links.filter((target) => !/^[a-z]+:/.test(target) && !target.startsWith("#"));
    assert.deepEqual(relative, [], "links that work only inside the repository");
    const intoRepository = links.filter((target) => target.startsWith(`${repository}/blob/main/`));
    assert.ok(intoRepository.length > 0, "docs/client.md links into the repository, so some links are rewritten");
    for (const target of intoRepository) {
      const file = target.slice(`${repository}/blob/main/`.length).split("#")[0];
      assert.ok(fs.existsSync(path.join(REPO, file)), `${target}: ${file} is not in the repository`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
