// Browser test of the Vigil web UI against a real `vigil serve`, seeded
// through its API and webhooks by internal/web/e2e_test.go, which runs this
// script with the facts of the seed in the environment:
//
//   VIGIL_URL          base URL of the server
//   ADMIN_TOKEN        an admin token of tenant A; READ_TOKEN a read token of A
//   REGISTRY_NAME      the registry the image was pushed to
//   REPOSITORY         repository of the image; IMAGE_DIGEST its digest
//   CI_WORKFLOW        the workflow name the CI publish carried
//   VULN_ID, PACKAGE   a finding of the image to drill down to and except
//   EVIL_DIGEST        an image whose package names and advisory text are HTML
//   OTHER_DIGEST       an image of tenant B (must be 404 for A)
//   SCREENSHOTS        directory for the PNGs ("" = none)
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (v === undefined) throw new Error(`missing env ${k}`);
  return v;
};
const base = env('VIGIL_URL');
const shots = process.env.SCREENSHOTS || '';
const digest = env('IMAGE_DIGEST');
const vulnID = env('VULN_ID');
// SKIP_PUBLISH=true: the server has no POST /api/v1/scans yet, so no CI run
// and no hostile report were published.
const published = process.env.SKIP_PUBLISH !== 'true';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
let failed = false;
const steps = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    steps.push(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed = true;
    steps.push(`FAIL ${name}: ${e.stack || e}`);
  }
}

const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, baseURL: base });
const page = await context.newPage();
const dialogs = [];
page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
const foreign = [];
page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) foreign.push(r.url()); });
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });

async function shot(name) {
  if (!shots) return;
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: false });
}

// pageWeight sums the HTML, CSS and JS bytes a page loads.
async function pageWeight(url) {
  let total = 0;
  // A fresh context (same session cookie) so nothing comes from the cache.
  const fresh = await browser.newContext({ storageState: await context.storageState() });
  const p = await fresh.newPage();
  const bodies = [];
  p.on('response', (r) => {
    const t = r.request().resourceType();
    if (['document', 'stylesheet', 'script'].includes(t)) {
      bodies.push(r.body().then((b) => { total += b.length; }, () => { /* redirects have no body */ }));
    }
  });
  const r = await p.goto(url, { waitUntil: 'load' });
  assert.equal(r.status(), 200, url);
  await Promise.all(bodies);
  await fresh.close();
  return total;
}

await step('unauthenticated visit goes to sign-in; a wrong token is refused', async () => {
  await page.goto('/');
  assert.match(page.url(), /\/signin\?next=/);
  await page.fill('#token', 'vgl_wrong');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('[role=alert]'), /not valid/);
});

await step('sign in with an admin token', async () => {
  await page.fill('#token', env('ADMIN_TOKEN'));
  await Promise.all([page.waitForURL(base + '/'), page.click('button[type=submit]')]);
  const cookies = await context.cookies();
  const s = cookies.find((c) => c.name === 'vigil_session');
  assert.ok(s, 'session cookie set');
  assert.equal(s.httpOnly, true);
  assert.equal(s.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie.includes('vigil_session')), false, 'cookie invisible to scripts');
});

await step('overview: recommendation, unhealthy registry, trend chart, DB status', async () => {
  await page.getByText('Container registry images should have vulnerability findings resolved').waitFor();
  await page.locator('#rec').locator('..').getByRole('link', { name: env('REGISTRY_NAME') }).waitFor();
  assert.ok(await page.locator('figure.chart svg path.line').count() === 1, 'trend line drawn');
  assert.match(await page.textContent('section[aria-labelledby=db]'), /Built/);
  await shot('overview');
});

await step('keyboard: the first Tab reaches the skip link, and focus is visible', async () => {
  await page.keyboard.press('Tab');
  const el = await page.evaluate(() => ({ cls: document.activeElement.className, outline: getComputedStyle(document.activeElement).outlineStyle }));
  assert.equal(el.cls, 'skip');
  assert.equal(el.outline, 'solid');
});

await step('drill down: registry -> repository -> image with its CI bubble', async () => {
  await page.locator('#rec').locator('..').getByRole('link', { name: env('REGISTRY_NAME') }).click();
  await page.waitForURL(/\/registries\/[^/]+$/);
  await page.getByRole('link', { name: env('REPOSITORY'), exact: true }).waitFor();
  await shot('registry');
  await page.getByRole('link', { name: env('REPOSITORY'), exact: true }).click();
  await page.waitForURL(/\/repositories\//);
  await page.locator(`a[href="/images/${digest}"]`).first().click();
  await page.waitForURL(/\/images\/sha256/);
  const ci = await page.textContent('section.ci');
  if (published) {
    assert.match(ci, new RegExp(env('CI_WORKFLOW')));
    assert.match(ci, /Commit/);
    assert.match(ci, /Branch/);
  } else {
    assert.match(ci, /--publish/, 'the empty CI state gives the command');
    steps.push('     (CI bubble not checked: no CI publish endpoint yet)');
  }
  await shot('image');
});

await step('findings: paginated, filter and sort kept in the URL', async () => {
  const rows = () => page.locator('table.findings tbody tr');
  assert.equal(await rows().count(), 50, 'first page holds 50 findings');
  const firstPage = await rows().first().textContent();
  await page.getByRole('link', { name: 'Next page »' }).click();
  await page.waitForURL(/page=/);
  assert.notEqual(await rows().first().textContent(), firstPage);
  await page.selectOption('select[name=severity]', 'HIGH');
  await Promise.all([page.waitForURL(/severity=HIGH/), page.getByRole('button', { name: 'Apply' }).click()]);
  assert.ok(!page.url().includes('page='), 'a new filter starts at the first page');
  const sevs = await page.locator('table.findings tbody td .sev').allTextContents();
  assert.ok(sevs.length > 0 && sevs.every((s) => s === 'HIGH'), `only HIGH: ${sevs}`);
  await page.getByRole('link', { name: 'CVSS' }).click();
  await page.waitForURL(/sort=cvss/);
  assert.match(page.url(), /severity=HIGH/);
  // The filtered, sorted view is bookmarkable: load it fresh.
  const bookmark = page.url();
  await page.goto(bookmark);
  assert.equal(await page.locator('select[name=severity]').inputValue(), 'HIGH');
});

let findingPage = '';
await step('finding details: remediation, CVSS, references, other images', async () => {
  await page.goto(`/images/${encodeURIComponent(digest)}?q=${encodeURIComponent(vulnID)}`);
  await page.getByRole('link', { name: vulnID, exact: true }).first().click();
  await page.waitForURL(/\/findings\//);
  await page.locator('h1', { hasText: vulnID }).waitFor();
  assert.match(await page.textContent('main'), /Remediation/);
  assert.match(await page.textContent('section[aria-labelledby=other-h]'), new RegExp(`Other images with ${vulnID}`));
  await shot('finding');
  findingPage = page.url();
});

await step('forged and missing CSRF tokens are refused (403)', async () => {
  for (const token of [undefined, 'forged']) {
    const form = { digest, key: 'x', vuln_id: vulnID, reason: 'forged' };
    if (token) form.csrf_token = token;
    const r = await page.request.post('/exceptions', { form, maxRedirects: 0 });
    assert.equal(r.status(), 403);
  }
});

await step('search by CVE id, package and digest', async () => {
  await page.goto('/');
  await page.fill('#top-q', vulnID);
  await Promise.all([page.waitForURL(/\/search\?q=/), page.press('#top-q', 'Enter')]);
  assert.ok(await page.locator('section[aria-labelledby=sf-h] tbody tr').count() >= 1);
  await shot('search');
  await page.goto('/search?q=' + encodeURIComponent(env('PACKAGE')));
  assert.ok(await page.locator('section[aria-labelledby=sf-h] tbody tr').count() >= 1, 'package search');
  await page.goto('/search?q=' + encodeURIComponent(digest.slice(0, 20)));
  assert.ok(await page.locator('section[aria-labelledby=si-h] tbody tr').count() >= 1, 'digest search');
});

await step('an admin creates an exception from the finding; it is applied at the next evaluation', async () => {
  const findingURL = findingPage;
  await page.goto(findingURL);
  await page.fill('textarea[name=reason]', 'not reachable: e2e test');
  await Promise.all([page.waitForURL(/exception=created/), page.click('form.exception button[type=submit]')]);
  assert.match(await page.textContent('section[aria-labelledby=exc-h]'), /applies at the next evaluation|applied/);
  // Creating it queued a re-evaluation of the images it concerns: wait for it.
  let applied = false;
  for (let i = 0; i < 60 && !applied; i++) {
    await page.goto(findingURL);
    applied = /applied \d{4}-/.test(await page.textContent('section[aria-labelledby=exc-h]'));
    if (!applied) await page.waitForTimeout(500);
  }
  assert.ok(applied, 'exception applied by the evaluation');
  assert.match(await page.textContent('h1'), /suppressed/);
  await page.goto('/remediation');
  assert.match(await page.textContent('main'), /not reachable: e2e test/);
});

if (published) await step('HTML in package names and advisory text is shown as text, never run', async () => {
  await page.goto(`/images/${encodeURIComponent(env('EVIL_DIGEST'))}?state=all`);
  assert.match(await page.textContent('table.findings'), /<script>/);
  assert.equal(await page.locator('table.findings script').count(), 0);
  await page.locator('table.findings tbody a').first().click();
  await page.waitForURL(/\/findings\//);
  assert.match(await page.textContent('main'), /<img src=x onerror=/);
  assert.equal(await page.locator('main img').count(), 0);
  assert.deepEqual(dialogs, [], 'no script ran');
});

await step("another tenant's image is a 404", async () => {
  const r = await page.goto(`/images/${encodeURIComponent(env('OTHER_DIGEST'))}`);
  assert.equal(r.status(), 404);
});

await step('narrow window: no horizontal page scroll; layout holds', async () => {
  await page.setViewportSize({ width: 390, height: 800 });
  for (const u of ['/', `/images/${encodeURIComponent(digest)}`]) {
    await page.goto(u);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(over <= 0, `${u} scrolls sideways by ${over}px`);
  }
  await page.setViewportSize({ width: 1280, height: 860 });
});

await step('page weight (HTML + CSS + JS) under 150 KB', async () => {
  for (const u of ['/', '/registries', `/images/${encodeURIComponent(digest)}`, '/remediation', '/search?q=' + encodeURIComponent(vulnID)]) {
    const w = await pageWeight(base + u);
    steps.push(`     weight ${u.slice(0, 40)}: ${w} bytes`);
    assert.ok(w < 150 * 1024, `${u}: ${w} bytes`);
  }
});

await step('nothing loaded from another host; no console errors', async () => {
  assert.deepEqual(foreign, []);
  // 401, 403 and 404 answers are expected: the tests ask for them.
  assert.deepEqual(consoleErrors.filter((e) => !/40[134]/.test(e)), []);
});

await step('sign out ends the session', async () => {
  await page.goto('/');
  await Promise.all([page.waitForURL(/\/signin/), page.getByRole('button', { name: 'Sign out' }).click()]);
  await page.goto('/');
  assert.match(page.url(), /\/signin/);
});

await browser.close();
console.log(steps.join('\n'));
process.exit(failed ? 1 : 0);
