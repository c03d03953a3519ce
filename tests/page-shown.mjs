// What the demo page shows, as a person sees it rather than as the DOM has it: shared by the
// page suites in Chromium (Playwright) and Firefox (WebDriver). The checks run inside the page.
import assert from "node:assert/strict";

/** The widths the page is checked at: a phone's and a desktop's. */
export const VIEWPORTS = Object.freeze([
  Object.freeze({ name: "phone", width: 390, height: 844 }),
  Object.freeze({ name: "desktop", width: 1280, height: 800 }),
]);

/**
 * Runs in the page. Lists what a person would find wrong with the layout as drawn now: the
 * page scrolling sideways, a shown element reaching past the viewport's edges, text cut off
 * inside its box. A job's id is cut with an ellipsis on purpose (the whole id is its title),
 * and a scrolling box (the poll log) scrolls: both are left out. Empty when all is well.
 */
export function layoutProblems() {
  const viewport = document.documentElement.clientWidth;
  const shown = (element) => element.checkVisibility({ visibilityProperty: true }) && element.getClientRects().length > 0;
  const name = (element) =>
    `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ""}${element.className ? `.${String(element.className).trim().replace(/\s+/g, ".")}` : ""}` +
    ` "${(element.innerText ?? "").trim().slice(0, 40)}"`;
  const problems = [];
  if (document.documentElement.scrollWidth > viewport) {
    problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${viewport} px viewport`);
  }
  for (const element of document.body.querySelectorAll("*")) {
    if (!shown(element)) continue;
    const box = element.getBoundingClientRect();
    if (box.width > 0 && (box.left < -0.5 || box.right > viewport + 0.5)) {
      problems.push(`${name(element)} spans ${Math.round(box.left)}–${Math.round(box.right)} px of ${viewport}`);
    }
    const style = getComputedStyle(element);
    const cutsText = style.overflowX !== "visible" && !["auto", "scroll"].includes(style.overflowX);
    if (cutsText && !element.classList.contains("job-id") && element.scrollWidth > element.clientWidth + 1) {
      problems.push(`${name(element)} cuts its content: ${element.scrollWidth} px in ${element.clientWidth}`);
    }
  }
  return problems;
}

/**
 * Runs in the page. What a person reads of the element `selector` names: its rendered text,
 * or null when it is not shown (hidden, not displayed, or of no size).
 */
export function shownText(selector) {
  const element = document.querySelector(selector);
  if (!element || !element.checkVisibility({ visibilityProperty: true }) || element.getClientRects().length === 0) return null;
  return element.innerText.trim();
}

/**
 * Runs in the page. The newest job card as a person reads it, all at one moment: the state
 * it is in, its status badge's text, its Cancel button's (null when not shown).
 */
export function newestCardShown() {
  const text = (element) => (element.checkVisibility({ visibilityProperty: true }) && element.getClientRects().length > 0 ? element.innerText.trim() : null);
  const card = document.querySelector(".job");
  return { state: card.dataset.state, status: text(card.querySelector("[data-role=status]")), cancel: text(card.querySelector("[data-role=cancel]")) };
}

/** For WebDriver's executeScript, which takes a function's body: `layoutProblems()`. */
export const LAYOUT_PROBLEMS = `return (${layoutProblems})();`;
/** For WebDriver's executeScript: `shownText(arguments[0])`. */
export const SHOWN_TEXT = `return (${shownText})(arguments[0]);`;

/**
 * Asserts that a Playwright `page` as it is now lays out well at each of VIEWPORTS (nothing
 * past the edges, no text cut off: layoutProblems), then gives the page its size back.
 * `state` names what the page shows, for the message.
 */
export async function assertLaidOut(page, state) {
  const original = page.viewportSize();
  try {
    for (const { name, width, height } of VIEWPORTS) {
      await page.setViewportSize({ width, height });
      assert.deepEqual(await page.evaluate(layoutProblems), [], `${state}, at a ${name}'s width`);
    }
  } finally {
    await page.setViewportSize(original);
  }
}
