// Hallway in a real browser: Debian's headless Chromium, driven by playwright-core, opens the docs
// page, finds every operation of the OpenAPI document there, runs "Try it out" on /healthz, and
// calls the API from pages on two other origins: one HALLWAY_CORS_ORIGINS allows, one it does not.
//
// Usage: node check.mjs PATH_TO_HALLWAY_BINARY (scripts/browser-check builds and passes it).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const binary = process.argv[2];
const chromiumPath = process.env.HALLWAY_CHROMIUM ?? '/usr/bin/chromium';
const STEP_TIMEOUT_MS = 20_000;

/** A port nothing listens on now (the OS picks it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Serves an empty page on `port`: another origin for the browser to call the API from. */
function servePage(port) {
  const server = http.createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>another origin</title><p>another origin</p>');
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

async function waitForHealth(api, server) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`hallway exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${api}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('hallway did not answer /healthz within 60 s');
}

const results = [];
async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    results.push(true);
    console.log(`ok     ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push(false);
    console.log(`FAILED ${name}: ${error.message}`);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const [apiPort, allowedPort, refusedPort] = [await freePort(), await freePort(), await freePort()];
const api = `http://127.0.0.1:${apiPort}`;
const allowed = `http://127.0.0.1:${allowedPort}`;
const refused = `http://127.0.0.1:${refusedPort}`;
const dir = mkdtempSync(join(tmpdir(), 'hallway-browser-'));
const server = spawn(binary, ['serve'], {
  env: {
    PATH: process.env.PATH,
    HALLWAY_LISTEN: `127.0.0.1:${apiPort}`,
    DATABASE_URL: `sqlite://${join(dir, 'hallway.db')}`,
    HALLWAY_MAIL: `file://${join(dir, 'outbox')}`,
    HALLWAY_CORS_ORIGINS: allowed,
    RUST_LOG: 'warn',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const pages = [await servePage(allowedPort), await servePage(refusedPort)];
let browser;
try {
  await waitForHealth(api, server);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext();
  context.setDefaultTimeout(STEP_TIMEOUT_MS);

  await check('the docs page lists every operation of the OpenAPI document', async () => {
    const spec = await (await fetch(`${api}/openapi.json`)).json();
    const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
    const operations = Object.values(spec.paths)
      .flatMap((item) => Object.keys(item).filter((key) => methods.includes(key))).length;
    const page = await context.newPage();
    await page.goto(`${api}/docs/`);
    await page.locator('.opblock').first().waitFor();
    const shown = await page.locator('.opblock').count();
    expect(shown === operations, `${shown} operations shown, the document has ${operations}`);
    const paths = await page.locator('.opblock-summary-path').allInnerTexts();
    for (const path of ['/healthz', '/v1/me', '/v1/events/{event_id}/badge-sheet']) {
      expect(paths.some((shownPath) => shownPath.replace(/\u200b/g, '') === path), `${path} is not shown`);
    }
    await page.close();
  });

  await check('"Try it out" on /healthz answers 200 with the status', async () => {
    const page = await context.newPage();
    await page.goto(`${api}/docs/`);
    const operation = page.locator('.opblock').filter({
      has: page.locator('.opblock-summary-path', { hasText: /^\/healthz$/ }),
    });
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    const status = operation.locator('.live-responses-table .response .response-col_status');
    await status.waitFor();
    const code = (await status.innerText()).trim();
    expect(code === '200', `status ${code}`);
    const body = await operation
      .locator('.live-responses-table .response .response-col_description')
      .innerText();
    expect(/"status":\s*"ok"/.test(body), `body ${body}`);
    await page.close();
  });

  // What a web app's page can do with the API: read an answer (a simple request) and make a
  // request that needs a preflight (a bearer token), whose 401 and X-Request-Id it can read.
  const callFrom = async (origin) => {
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    const outcome = await page.evaluate(async (base) => {
      const tryFetch = async (path, init) => {
        try {
          const response = await fetch(`${base}${path}`, init);
          return {
            status: response.status,
            body: await response.text(),
            requestId: response.headers.get('x-request-id'),
          };
        } catch (error) {
          return { error: String(error) };
        }
      };
      // A no-cors request reaches the server from any origin but gives the page nothing to
      // read: an opaque answer shows the API is there, so a failed fetch is CORS, not the network.
      const opaque = await fetch(`${base}/healthz`, { mode: 'no-cors' }).then(
        (response) => response.type,
        (error) => String(error),
      );
      return {
        simple: await tryFetch('/healthz'),
        preflighted: await tryFetch('/v1/me', { headers: { authorization: 'Bearer not-a-token' } }),
        opaque,
      };
    }, api);
    await page.close();
    return outcome;
  };

  await check('a page on an allowed origin reads answers, preflighted ones too', async () => {
    const { simple, preflighted } = await callFrom(allowed);
    expect(simple.status === 200 && simple.body.includes('"ok"'), `healthz: ${JSON.stringify(simple)}`);
    expect(preflighted.status === 401, `me: ${JSON.stringify(preflighted)}`);
    expect(preflighted.body.includes('"code"'), 'the problem+json body is readable');
    expect(preflighted.requestId, 'X-Request-Id is exposed to the page');
  });

  await check('a page on an origin not allowed is kept from every answer', async () => {
    const { simple, preflighted, opaque } = await callFrom(refused);
    expect(opaque === 'opaque', `the API answers that page, unreadably: ${opaque}`);
    expect(simple.error?.includes('Failed to fetch'), `healthz: ${JSON.stringify(simple)}`);
    expect(preflighted.error?.includes('Failed to fetch'), `me: ${JSON.stringify(preflighted)}`);
  });
} catch (error) {
  results.push(false);
  console.log(`FAILED the browser check could not run: ${error.message}`);
} finally {
  await browser?.close();
  for (const page of pages) page.close();
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

const passed = results.filter(Boolean).length;
console.log(`browser check: ${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length && passed > 0 ? 0 : 1);
