// GraphiQL as a person uses it, in headless Chromium with every host but 127.0.0.1 unreachable:
// the page loads (everything from the Reunify binary), the editor renders, a token typed into the
// Headers tab and a query typed into the editor return the demo LA's cases — the same answer the
// API gives the same token directly — and a subscription typed there replays the demo's events
// over graphql-transport-ws.
//
//   node graphiql.mjs http://127.0.0.1:8080 "$TOKEN" /usr/bin/chromium [screenshot.png]
import puppeteer from 'puppeteer-core';

const [base, token, chromium, screenshot] = process.argv.slice(2);
if (!base || !token || !chromium) {
  console.error('usage: node graphiql.mjs <base url> <bearer token> <chromium> [screenshot.png]');
  process.exit(2);
}

const QUERY = '{ cases(first: 50) { totalCount nodes { id stage status child { laChildId } } } }';
const SUBSCRIPTION = 'subscription { caseEvents(after: "0") { position type } }';

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    // Nothing but the server under test can be reached, by name or otherwise.
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  ],
});
const page = await browser.newPage();
await page.setViewport({ width: 1400, height: 900 });
const outside = [];
const failedLoads = [];
await page.setRequestInterception(true);
page.on('request', (request) => {
  const url = new URL(request.url());
  if (url.protocol === 'data:' || url.hostname === '127.0.0.1') {
    request.continue();
  } else {
    outside.push(request.url());
    request.abort();
  }
});
page.on('requestfailed', (r) => failedLoads.push(`${r.url()}: ${r.failure()?.errorText}`));
page.on('pageerror', (e) => console.error(`page error: ${e.message}`));

async function fail(message) {
  console.error(`GraphiQL check failed: ${message}`);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
  await browser.close();
  process.exit(1);
}

// Types into the CodeMirror editor under `selector`, replacing what it holds.
async function typeInto(selector, text) {
  await page.click(`${selector} .CodeMirror`);
  await page.keyboard.down('Control');
  await page.keyboard.press('KeyA');
  await page.keyboard.up('Control');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text);
}

async function shown() {
  return page.$eval('.graphiql-response .CodeMirror', (el) => el.CodeMirror.getValue());
}

// Runs what the editor holds and waits for a new answer that matches `until` (a regular
// expression's source: the page's Content-Security-Policy allows no `eval`, rightly).
async function run(until, what) {
  const before = await shown();
  await page.click('.graphiql-execute-button');
  try {
    await page.waitForFunction(
      (test, before) => {
        const el = document.querySelector('.graphiql-response .CodeMirror');
        const text = el && el.CodeMirror.getValue();
        return text && text !== before && new RegExp(test).test(text);
      },
      { timeout: 15000 },
      until,
      before,
    );
  } catch {
    await fail(`${what}: the response pane shows ${JSON.stringify((await shown()).slice(0, 400))}`);
  }
  return shown();
}

const response = await page.goto(`${base}/`, { waitUntil: 'networkidle0', timeout: 30000 });
if (!response || response.status() !== 200) await fail(`GET / answered ${response?.status()}`);
try {
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 15000 });
} catch {
  await fail(`the editor did not render: ${(await page.content()).slice(0, 300)}`);
}
const HEADERS = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';
const hint = await page.$eval(`${HEADERS} .CodeMirror`, (el) => el.CodeMirror.getValue()).catch(() => '');
if (!/Authorization[\s\S]*reunify token/.test(hint)) await fail(`the Headers tab holds no token hint: ${hint}`);

// The token as a person would give it: typed into the Headers tab.
await typeInto(HEADERS, `{"Authorization": "Bearer ${token}"}`);
await typeInto('.graphiql-query-editor', QUERY);
const text = await run('"cases"[\\s\\S]*\\}\\s*$', 'the query');
const viaGraphiql = JSON.parse(text);

const direct = await fetch(`${base}/graphql`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  body: JSON.stringify({ query: QUERY }),
}).then((r) => r.json());
const cases = viaGraphiql?.data?.cases;
if (!cases || cases.totalCount < 1) await fail(`no cases shown: ${text.slice(0, 400)}`);
if (JSON.stringify(viaGraphiql.data) !== JSON.stringify(direct.data)) {
  await fail(`GraphiQL shows ${JSON.stringify(viaGraphiql.data).slice(0, 200)}, the API answers ${JSON.stringify(direct.data).slice(0, 200)}`);
}

await typeInto('.graphiql-query-editor', SUBSCRIPTION);
const events = await run('"caseEvents"[\\s\\S]*"position"[\\s\\S]*"type"', 'the subscription');
if (!/"caseEvents"/.test(events)) await fail(`the subscription shows ${events.slice(0, 300)}`);

if (outside.length > 0) await fail(`requests left the machine: ${outside.join(', ')}`);
if (failedLoads.length > 0) await fail(`loads failed: ${failedLoads.join(', ')}`);
console.log(`GraphiQL: the editor rendered; a typed query showed the demo LA's ${cases.totalCount} cases, as the API answers them; a typed subscription replayed the demo's events over the WebSocket; no request left 127.0.0.1`);
if (screenshot) await page.screenshot({ path: screenshot });
await browser.close();
