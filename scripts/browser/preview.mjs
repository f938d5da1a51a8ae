// Drives Debian's Chromium (headless, offline) over delibird's card preview page.
//
//   node preview.mjs check PAGE BODIES.jsonl OUT_DIR
//       Opens PAGE and fails (exit 1, one line per failure) unless: it renders with no request
//       beyond itself, no script, dialog or console error; it shows one message per body and one
//       card per cardsV2 entry, titled as the bodies say; and every collapsible section hides its
//       folded widgets, shows them after a click on "Show more" and hides them again after "Show
//       less". Saves OUT_DIR/preview.png (a section expanded). Then proves the check can fail: it
//       runs again on three broken copies of PAGE (cut short, the expand rule removed, a card
//       removed) and fails unless each of them fails for its reason.
//
//   node preview.mjs screenshot PAGE OUT.png LABEL_PART [--thread] [--expand]
//       Saves a picture of the message whose label contains LABEL_PART (or of its whole thread).
//
// Chromium: /usr/bin/chromium, or $DELIBIRD_CHROMIUM.
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const EXECUTABLE = process.env.DELIBIRD_CHROMIUM || '/usr/bin/chromium';
// Without the background-networking flags Chromium tries to reach Google at every start.
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

let browser;

/// Opens `file` offline in a new context of the one browser and runs `body` on it.
async function withPage(file, body, viewport = { width: 900, height: 1200 }, scale = 1) {
  browser ??= await chromium.launch({ executablePath: EXECUTABLE, args: ARGS, headless: true });
  const context = await browser.newContext({ viewport, deviceScaleFactor: scale });
  try {
    const page = await context.newPage();
    const url = pathToFileURL(resolve(file)).href;
    const events = { requests: [], errors: [], dialogs: [] };
    await context.route('**/*', (route) => {
      const requested = route.request().url();
      if (requested === url) return route.continue();
      events.requests.push(requested);
      return route.abort();
    });
    page.on('console', (message) => {
      if (message.type() === 'error') events.errors.push(message.text());
    });
    page.on('pageerror', (error) => events.errors.push(String(error)));
    page.on('dialog', (dialog) => {
      events.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      dialog.dismiss().catch(() => {});
    });
    await page.goto(url, { waitUntil: 'load' });
    return await body(page, events);
  } finally {
    await context.close();
  }
}

function readBodies(path) {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line));
}

/// Every failure of the page against the bodies it should show, as sentences. With `quick`, the
/// sections are no longer clicked once something has failed.
async function failuresOf(file, bodies, { screenshot = null, quick = false } = {}) {
  return withPage(file, async (page, events) => {
    const failures = [];
    const cards = bodies.flatMap((body) => body.cardsV2 ?? []);

    // It renders: one message per body, one visible card per cardsV2 entry, the titles the bodies hold.
    const messages = await page.locator('article.message').count();
    if (messages !== bodies.length) failures.push(`the page shows ${messages} messages for ${bodies.length} bodies`);
    const shown = await page.locator('.card').evaluateAll((nodes) =>
      nodes.map((node) => ({
        title: node.querySelector('.card-title')?.textContent ?? '',
        height: node.getBoundingClientRect().height,
        visible: node.checkVisibility(),
      })));
    if (shown.length !== cards.length) failures.push(`the page shows ${shown.length} cards for ${cards.length} in the bodies`);
    const expected = cards.map((item) => item.card?.header?.title ?? '').sort();
    const titles = shown.map((card) => card.title).sort();
    const missing = expected.filter((title) => !titles.includes(title));
    if (missing.length) failures.push(`cards missing from the page: ${missing.slice(0, 5).join(' | ')}`);
    const flat = shown.filter((card) => !card.visible || card.height < 60);
    if (flat.length) failures.push(`${flat.length} cards are not drawn (hidden or flat)`);
    if (shown.length && !(await page.locator('.card .section').first().isVisible())) {
      failures.push('the first card has no visible section');
    }

    // Collapsible sections: folded, then expanded by "Show more", then folded by "Show less".
    const sections = page.locator('.section.collapsible');
    const count = await sections.count();
    if (count === 0 && bodies.some((body) => JSON.stringify(body).includes('"collapsible":true'))) {
      failures.push('no collapsible section on the page although the bodies have some');
    }
    const states = (section) => section.evaluate((node) => ({
      name: node.querySelector(':scope > .section-header')?.textContent || 'a section without a header',
      expected: Number(node.getAttribute('data-hidden-widgets')),
      hidden: [...node.querySelectorAll(':scope > .more > *')].map((child) => child.checkVisibility()),
      more: node.querySelector(':scope > .show-more .closed')?.checkVisibility() ?? false,
      less: node.querySelector(':scope > .show-more .open')?.checkVisibility() ?? false,
    }));
    let expandedOne = false;
    for (let i = 0; i < count && !(quick && failures.length); i++) {
      const section = sections.nth(i);
      const folded = await states(section);
      const name = folded.name;
      if (folded.hidden.length !== folded.expected) {
        failures.push(`"${name}" folds ${folded.hidden.length} widgets, not ${folded.expected}`);
      }
      if (folded.hidden.some(Boolean)) failures.push(`"${name}" shows its folded widgets before "Show more"`);
      if (!folded.more || folded.less) failures.push(`"${name}" does not offer "Show more" when folded`);
      await section.locator(':scope > .show-more').click();
      const open = await states(section);
      if (!open.hidden.length || !open.hidden.every(Boolean)) {
        failures.push(`"${name}" does not expand: ${open.hidden.filter((v) => !v).length} widgets still hidden after "Show more"`);
      }
      if (!open.less) failures.push(`"${name}" does not offer "Show less" when expanded`);
      if (screenshot && !expandedOne && open.hidden.every(Boolean)) {
        expandedOne = true;
        await section.scrollIntoViewIfNeeded();
        await page.screenshot({ path: screenshot, fullPage: false });
      }
      await section.locator(':scope > .show-more').click();
      const closed = await states(section);
      if (closed.hidden.some(Boolean)) failures.push(`"${name}" stays expanded after "Show less"`);
    }

    // Offline and inert: nothing fetched, no script ran, nothing complained.
    for (const request of events.requests) failures.push(`the page requested ${request}`);
    for (const dialog of events.dialogs) failures.push(`a script opened a dialog (${dialog})`);
    for (const error of events.errors) failures.push(`console error: ${error}`);
    const scripts = await page.locator('script').count();
    if (scripts) failures.push(`the page holds ${scripts} script elements`);
    return failures;
  });
}

/// The page with its text changed by `edit`, which must change it.
function broken(page, dir, name, edit) {
  const original = readFileSync(page, 'utf8');
  const changed = edit(original);
  if (changed === original) throw new Error(`could not break the page for "${name}": the page changed shape`);
  const path = join(dir, `broken-${name}.html`);
  writeFileSync(path, changed);
  return path;
}

async function check(page, bodiesPath, outDir) {
  mkdirSync(outDir, { recursive: true });
  const bodies = readBodies(bodiesPath);
  const started = Date.now();
  const failures = await failuresOf(page, bodies, { screenshot: join(outDir, 'preview.png') });
  for (const failure of failures) console.log(`FAIL ${failure}`);
  const sections = readFileSync(page, 'utf8').match(/class="section collapsible"/g)?.length ?? 0;
  console.log(`checked ${page}: ${bodies.length} bodies, ${sections} collapsible sections, ${failures.length} failures (${Date.now() - started} ms)`);

  // The check itself must fail on a broken page, each time for the right reason.
  const sabotage = [
    ['cut-short', (html) => html.slice(0, html.indexOf('<main>')), /the page shows 0 messages/],
    ['no-expand', (html) => html.replace('.toggle:checked ~ .more { display: block; }', ''), /does not expand/],
    ['card-missing', (html) => html.replace(/<article class="message"(?:(?!<\/article>)[\s\S])*<\/article>\n(?=<\/section>)/, ''), /cards? (missing|for)/],
  ];
  const results = [failures.length === 0];
  for (const [name, edit, expected] of sabotage) {
    const found = await failuresOf(broken(page, outDir, name, edit), bodies, { quick: true });
    const caught = found.find((failure) => expected.test(failure));
    console.log(caught
      ? `ok   a ${name} page fails the check (${found.length} failures, e.g. "${caught}")`
      : `FAIL a ${name} page passes the check: ${found.join('; ') || 'no failures'}`);
    results.push(Boolean(caught));
  }
  const passed = results.filter(Boolean).length;
  console.log(`preview: ${passed} passed, ${results.length - passed} failed`);
  return passed === results.length;
}

async function screenshot(page, out, labelPart, options) {
  return withPage(page, async (tab, events) => {
    const message = tab.locator('article.message').filter({ has: tab.locator('.sender .label', { hasText: labelPart }) }).first();
    if (!(await message.count())) throw new Error(`no message labelled like ${labelPart}`);
    if (options.includes('--expand')) {
      for (const toggle of await message.locator('.section.collapsible > .show-more').all()) await toggle.click();
    }
    const target = options.includes('--thread') ? message.locator('xpath=ancestor::section[contains(@class, "thread")]') : message;
    await target.evaluate((node) => node.querySelectorAll('details.json').forEach((d) => { d.style.display = 'none'; }));
    await target.screenshot({ path: out });
    if (events.requests.length || events.errors.length) throw new Error(`page not offline or not clean: ${JSON.stringify(events)}`);
    console.log(`${out}`);
    return true;
  }, { width: 760, height: 900 }, 2);
}

const [mode, ...rest] = process.argv.slice(2);
let ok = false;
try {
  if (mode === 'check' && rest.length === 3) {
    ok = await check(rest[0], rest[1], rest[2]);
  } else if (mode === 'screenshot' && rest.length >= 3) {
    ok = await screenshot(rest[0], rest[1], rest[2], rest.slice(3));
  } else {
    console.error('usage: preview.mjs check PAGE BODIES.jsonl OUT_DIR | screenshot PAGE OUT.png LABEL_PART [--thread] [--expand]');
    process.exitCode = 2;
  }
} finally {
  await browser?.close();
}
process.exit(process.exitCode ?? (ok ? 0 : 1));
