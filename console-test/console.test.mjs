// Browser test of the admin console (/console): the real `wa-dev` binary (webapp, coreapp, SQLite
// and the bundled network simulator) on free ports with a fresh data directory, a real webhook
// receiver, and Debian's headless Chromium driven by playwright-core. It goes through the console
// as a person would, keyboard included, takes the screenshots in docs/console/, and fails on any
// browser console error that the flow did not expect.
//
// Run from the repository root after `cargo build --bins`: `cd console-test && npm ci && npm test`.
// WA_DEV_BIN and CHROMIUM_PATH override the binary and browser locations.

import { chromium } from "playwright-core";
import { phonesSteps } from "./phones.mjs";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WA_DEV = process.env.WA_DEV_BIN || path.join(ROOT, "target/debug/wa-dev");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SHOTS = path.join(ROOT, "docs/console");
const NEW_PASSWORD = "Console-Test-1!";
const BUSINESS_CC = "44";
const BUSINESS_NUMBER = "7400900123";
const CUSTOMER = "447400900999";
/** A number that never wrote to the business. */
const STRANGER = "447400900998";
const ABOUT = "Open 9–17, Monday to Friday";
const STEP_TIMEOUT_MS = 60000;

const results = { passed: 0, failed: 0 };
const cleanups = [];

// ---- helpers -----------------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** GET over HTTPS to our own self-signed webapp; resolves with the status, or 0 when refused. */
function probe(url) {
  return new Promise((resolve) => {
    const req = https.get(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => { req.destroy(); resolve(0); });
  });
}

async function waitFor(what, check, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function startStack(extraEnv = {}) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "wa-console-data-"));
  const webPort = await freePort();
  const controlPort = await freePort();
  const child = spawn(WA_DEV, [
    "--data-dir", dataDir,
    "--listen", `127.0.0.1:${webPort}`,
    "--wanet-control-listen", `127.0.0.1:${controlPort}`,
  ], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn", ...extraEnv } });
  let output = "";
  child.stdout.on("data", (d) => { output += d; });
  child.stderr.on("data", (d) => { output += d; });
  let exited = null;
  child.on("exit", (code) => { exited = code; });
  cleanups.push(() => { child.kill("SIGTERM"); rmSync(dataDir, { recursive: true, force: true }); });
  const base = `https://127.0.0.1:${webPort}`;
  try {
    await waitFor("wa-dev to listen", async () => {
      if (exited !== null) {
        throw new Error(`wa-dev exited with ${exited}`);
      }
      return (await probe(`${base}/console`)) === 200;
    });
  } catch (err) {
    console.error(output);
    throw err;
  }
  return { base, control: `http://127.0.0.1:${controlPort}`, log: () => output };
}

/** A webhook receiver that answers 200 and keeps every body. It answers a Cloud subscription's
 * verification GET with the challenge when the verify token is `receiver.verifyToken`. */
async function startReceiver() {
  const bodies = [];
  const receiver = { bodies, verifyToken: null };
  const server = http.createServer((req, res) => {
    if (req.method === "GET") {
      const query = new URL(req.url, "http://receiver").searchParams;
      const verified = query.get("hub.mode") === "subscribe"
        && receiver.verifyToken !== null && query.get("hub.verify_token") === receiver.verifyToken;
      res.writeHead(verified ? 200 : 403, { "Content-Type": "text/plain" });
      res.end(verified ? query.get("hub.challenge") : "wrong verify token");
      return;
    }
    let text = "";
    req.on("data", (d) => { text += d; });
    req.on("end", () => {
      try {
        bodies.push(JSON.parse(text));
      } catch {
        bodies.push({ unparsable: text });
      }
      if (req.url.startsWith("/fail")) {
        res.writeHead(500, { "Content-Type": "text/plain" });
        res.end("receiver broken on purpose");
        return;
      }
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("received by the console test");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}`;
  return Object.assign(receiver, { url: `${base}/hook`, failing: `${base}/fail` });
}

/**
 * A call to the webapp from outside the browser, as an integration makes it: status and JSON.
 * `body` is sent as JSON, or as it is with `type` when it is a Buffer.
 */
function webappCall(stack, method, route, auth, body, type = "application/json") {
  return new Promise((resolve, reject) => {
    const headers = { Authorization: auth };
    let payload;
    if (body !== undefined) {
      payload = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      headers["Content-Type"] = type;
      headers["Content-Length"] = String(payload.length);
    }
    const req = https.request(`${stack.base}${route}`, {
      method, rejectUnauthorized: false, headers,
    }, (res) => {
      let text = "";
      res.on("data", (d) => { text += d; });
      res.on("end", () => {
        try {
          resolve({ status: res.statusCode, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode, body: text });
        }
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

async function control(stack, method, route, body) {
  const response = await fetch(`${stack.control}${route}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`${method} ${route}: HTTP ${response.status} ${await response.text()}`);
  }
  return response.json();
}

async function step(name, work) {
  const started = Date.now();
  try {
    await work();
    results.passed += 1;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    results.failed += 1;
    console.log(`FAIL ${name}: ${err.stack || err}`);
    throw err;
  }
}

function expect(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function visibleText(page, selector) {
  const locator = page.locator(selector);
  await locator.waitFor({ state: "visible", timeout: STEP_TIMEOUT_MS });
  return locator.innerText();
}

async function waitForText(page, selector, pattern) {
  await page.waitForFunction(
    ([sel, source]) => {
      const node = document.querySelector(sel);
      return node && new RegExp(source).test(node.textContent);
    },
    [selector, pattern.source],
    { timeout: STEP_TIMEOUT_MS },
  );
}

async function goTo(page, hash, heading) {
  await page.click(`#nav a[href="#${hash}"]`);
  await page.locator(`#page-${hash} h1`).waitFor({ state: "visible" });
  expect((await page.innerText(`#page-${hash} h1`)) === heading, `${hash} heading`);
  // Loading finished: the page's buttons are enabled again.
  await page.waitForFunction((id) => ![...document.querySelectorAll(`#page-${id} button`)]
    .some((b) => b.disabled), hash);
}

// ---- the browser ---------------------------------------------------------------------------------

/** Console errors the flow causes on purpose: the API's error answers it shows to the user. */
const expectedFailures = [];

function expectFailure(urlPart, status) {
  expectedFailures.push({ urlPart, status });
}

async function openBrowser() {
  const profile = mkdtempSync(path.join(os.tmpdir(), "wa-console-chromium-"));
  cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
  });
  cleanups.unshift(() => context.close());
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const consoleErrors = [];
  const failedResponses = [];
  page.on("response", (response) => {
    if (response.status() >= 400) {
      failedResponses.push({ url: response.url(), status: response.status() });
    }
  });
  page.on("console", (msg) => {
    if (msg.type() === "error") {
      consoleErrors.push({ text: msg.text(), url: msg.location().url || "" });
    }
  });
  page.on("pageerror", (err) => consoleErrors.push({ text: `uncaught: ${err.message}`, url: "" }));
  return { page, consoleErrors, failedResponses };
}

/** Every console error must be the browser's note about an API error answer the flow expected. */
function unexpectedConsoleErrors(consoleErrors) {
  const allowance = [...expectedFailures];
  return consoleErrors.filter((error) => {
    const status = /status of (\d+)/.exec(error.text);
    const index = allowance.findIndex((allowed) => status
      && Number(status[1]) === allowed.status && error.url.includes(allowed.urlPart));
    if (index >= 0) {
      allowance.splice(index, 1);
      return false;
    }
    return true;
  });
}

// ---- the flow ----------------------------------------------------------------------------------

async function run() {
  mkdirSync(SHOTS, { recursive: true });
  const stack = await startStack();
  const receiver = await startReceiver();
  const { page, consoleErrors } = await openBrowser();

  await step("the console is served at /console and / is unchanged", async () => {
    expect((await probe(`${stack.base}/`)) === 404, "/ must stay 404/1006");
    await page.goto(`${stack.base}/console`);
    await visibleText(page, "#login-title");
    await screenshot(page, "login");
  });

  await step("first login asks for a new password, then logs in", async () => {
    expectFailure("/v1/users/login", 401);
    // Keyboard only: the skip link comes first, then the form.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement.className === "skip"), "skip link first");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement.id === "login-username"), "then the username");
    await page.keyboard.type("admin");
    await page.keyboard.press("Tab");
    await page.keyboard.type("secret");
    await page.keyboard.press("Enter");
    // The normal first step is said as a notice, not shown as an error.
    await waitForText(page, "#login-form .result", /First login: choose a new password/);
    expect((await page.innerText("#login-form .error")) === "", "no error shown for the first-login step");
    expect(await page.evaluate(() => document.activeElement.id === "login-new-password"),
      "focus moves to the new password");
    await page.keyboard.type(NEW_PASSWORD);
    await page.keyboard.press("Tab");
    await page.keyboard.type(NEW_PASSWORD);
    await screenshot(page, "login-first-password");
    await page.keyboard.press("Enter");
    await visibleText(page, "#dashboard-title");
    await waitForText(page, "#dashboard-cards", /unregistered/);
    expect((await page.innerText("#session-user")).includes("admin (admin)"), "signed in as admin");
  });

  await step("registering a number with a code from the network", async () => {
    // Keyboard navigation: Tab from the header reaches the menu, Enter opens the page.
    await page.focus("#logout");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement.textContent);
    expect(focused === "Registration", `Tab order reaches the menu (got "${focused}")`);
    await page.keyboard.press("Enter");
    await page.locator("#registration-title").waitFor({ state: "visible" });
    expect(await page.evaluate(() => document.activeElement.id === "registration-title"),
      "focus moves to the page heading");
    const hint = await page.innerText("#registration-hint");
    expect(/WhatsApp Manager/.test(hint) && /\/control\/certs/.test(hint) && /\/control\/codes/.test(hint),
      `the page says where the certificate and the code come from: ${hint}`);
    const { cert } = await control(stack, "POST", "/control/certs", { vname: "Console Shop" });
    await page.fill("#reg-cc", BUSINESS_CC);
    await page.fill("#reg-phone", BUSINESS_NUMBER);
    await page.fill("#reg-cert", cert);
    await page.click("#request-code-form button[type=submit]");
    await waitForText(page, "#request-code-form .result", /A code was sent \(display name "Console Shop"\)/);
    const { code } = await control(stack, "GET", `/control/codes/${BUSINESS_CC}${BUSINESS_NUMBER}`);
    await page.fill("#reg-code", code);
    await page.click("#verify-form button[type=submit]");
    await waitForText(page, "#verify-form .result", /Registered/);
    await waitForText(page, "#registration-state", new RegExp(`registered as \\+${BUSINESS_CC}${BUSINESS_NUMBER}`));
    await screenshot(page, "registration");
  });

  await step("the dashboard shows the gateway connected", async () => {
    await goTo(page, "dashboard", "Dashboard");
    await waitFor("gateway connected", async () => {
      await page.click("#dashboard-refresh");
      await page.waitForFunction(() => !document.querySelector("#dashboard-refresh").disabled);
      return /connected/.test(await page.innerText("#dashboard-cards"))
        && !/unregistered|connecting/.test(await page.innerText("#dashboard-cards"));
    });
    await waitForText(page, "#dashboard-cards", new RegExp(`Registered number\\s*\\+${BUSINESS_CC}${BUSINESS_NUMBER}`));
  });

  await step("webhook URL saved, and the test webhook shows the receiver's answer", async () => {
    await goTo(page, "settings", "Application settings");
    await page.fill("#set-url", receiver.url);
    await page.click("#settings-form button[type=submit]");
    await waitForText(page, "#settings-form .result", /Saved\. Webhooks go to/);
    await page.reload();
    await page.locator("#settings-title").waitFor({ state: "visible" });
    await page.waitForFunction((url) => document.querySelector("#set-url").value === url, receiver.url);
    await page.click("#webhook-test");
    await waitForText(page, "#webhook-test-details", /received by the console test/);
    const details = await page.innerText("#webhook-test-details");
    expect(/HTTP status\s+200/.test(details), `test webhook status shown: ${details}`);
    expect(receiver.bodies.some((b) => b.test), "the receiver got the test callback");
    expect(/Delivered/.test(details), `verdict shown: ${details}`);
    expect(await page.locator("#set-persist").count() === 0, "no switch that changes nothing");
    expect(/retried until the receiver answers 200/.test(await page.innerText("#set-persist-hint")),
      "the page says undelivered webhooks are kept");
    await screenshot(page, "settings");
  });

  await step("the test webhook uses the URL typed, not the saved one; a 500 is reported as such", async () => {
    // Typed, not saved: the test goes to the typed URL and the saved one stays.
    await page.fill("#set-url", receiver.failing);
    await page.click("#webhook-test");
    await waitForText(page, "#webhook-test-details", /receiver broken on purpose/);
    const details = await page.innerText("#webhook-test-details");
    expect(details.includes(receiver.failing), `the typed URL was tested: ${details}`);
    expect(/Not delivered: the receiver answered 500 \(a server error\)/.test(details), details);
    expect(!/none/.test(details), `no "none" placeholder: ${details}`);
    await page.reload();
    await page.locator("#settings-title").waitFor({ state: "visible" });
    await page.waitForFunction((url) => document.querySelector("#set-url").value === url, receiver.url);
  });

  await step("a test message is sent and its statuses reach delivered", async () => {
    // The customer writes first, as in a real conversation.
    await control(stack, "POST", `/control/consumers/${CUSTOMER}/messages`,
      { type: "text", text: { body: "Do you ship to Leeds?" } });
    await goTo(page, "message", "Test message");
    await page.fill("#msg-to", CUSTOMER);
    await page.fill("#msg-body", "We do, from the console!");
    await page.click("#message-form button[type=submit]");
    await page.locator("#message-statuses .status-delivered").waitFor({ state: "visible" });
    await screenshot(page, "message");
    await waitFor("the receiver to get the delivered webhook too",
      async () => receiver.bodies.some((b) => b.statuses && b.statuses[0].status === "delivered"));
  });

  await step("a failed test message shows its code, title and details", async () => {
    // Free-form text to someone who never wrote: the network refuses it (470, 24-hour window).
    await page.fill("#msg-to", STRANGER);
    await page.fill("#msg-body", "Hello, stranger");
    await page.click("#message-form button[type=submit]");
    await page.locator("#message-statuses .status-failed").waitFor({ state: "visible" });
    const shown = await page.innerText("#message-statuses");
    expect(/Error 470 \(.+\)/.test(shown), `the failure's code and title shown: ${shown}`);
    expect(/24 hours/.test(shown), `the 24-hour window named: ${shown}`);
  });

  await step("the Webhooks page shows the simulator's inbox live", async () => {
    await goTo(page, "settings", "Application settings");
    await page.fill("#set-url", `${stack.control}/control/webhooks`);
    await page.click("#settings-form button[type=submit]");
    await waitForText(page, "#settings-form .result", /Saved\. Webhooks go to .*control\/webhooks/);
    await goTo(page, "webhooks", "Webhooks");
    // Written while the page is open: it appears without a reload.
    await control(stack, "POST", `/control/consumers/${CUSTOMER}/messages`,
      { type: "text", text: { body: "Is the shop open on Sunday?" } });
    await waitForText(page, "#webhook-list", /Is the shop open on Sunday\?/);
    await waitForText(page, "#webhook-list", new RegExp(`message from \\+${CUSTOMER} \\(text\\)`));
    await screenshot(page, "webhooks");
    await goTo(page, "settings", "Application settings");
    await page.fill("#set-url", receiver.url);
    await page.click("#settings-form button[type=submit]");
    await waitForText(page, "#settings-form .result", /Saved\. Webhooks go to .*\/hook/);
  });

  await step("Cloud API: ids, app secret, a long-lived token made, used and revoked, the switch", async () => {
    await goTo(page, "cloud", "Cloud API");
    await waitForText(page, "#cloud-phone-number-id", /^\d{15}$/);
    const phoneNumberId = await page.innerText("#cloud-phone-number-id");
    const wabaId = await page.innerText("#cloud-waba-id");
    expect(/^\d{15}$/.test(wabaId) && wabaId !== phoneNumberId, `WABA id: ${wabaId}`);
    expect(/^\d+$/.test(await page.innerText("#cloud-app-id")), "app id shown");
    expect((await page.innerText("#cloud-callback")) === "none subscribed", "no callback yet");
    // The secret is hidden until shown, by keyboard; it is the one the API reports.
    expect((await page.innerText("#cloud-app-secret")) === "hidden", "the app secret starts hidden");
    await page.focus("#cloud-secret-toggle");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector("#cloud-app-secret").textContent !== "hidden");
    const apiSecret = await page.evaluate(async () => {
      const { token } = JSON.parse(sessionStorage.getItem("wa-console-session"));
      const answer = await fetch("/v1/settings/cloud", { headers: { Authorization: `Bearer ${token}` } });
      return (await answer.json()).settings.cloud.app_secret;
    });
    expect((await page.innerText("#cloud-app-secret")) === apiSecret, "the shown secret is the app secret");
    expect(await page.getAttribute("#cloud-secret-toggle", "aria-pressed") === "true", "toggle pressed");
    await page.focus("#cloud-secret-toggle");
    await page.keyboard.press("Enter");
    await waitForText(page, "#cloud-app-secret", /^hidden$/);

    // A token created by keyboard is shown once, listed without its secret, and works.
    await page.focus("#cloud-token-name");
    await page.keyboard.type("Console CRM");
    await page.keyboard.press("Enter");
    await waitForText(page, "#cloud-token-form .result", /Token Console CRM created/);
    const token = await page.innerText("#cloud-token-value");
    expect(/^walt_[A-Za-z0-9_-]{43}$/.test(token), `token format: ${token}`);
    await page.waitForFunction(() => document.activeElement.id === "cloud-token-copy");
    await waitForText(page, "#cloud-tokens-table tbody", /Console CRM\s*user/);
    expect(!(await page.innerText("#cloud-tokens-table")).includes(token), "the list has no secret");
    const numbers = await webappCall(stack, "GET", `/v21.0/${wabaId}/phone_numbers`, `Bearer ${token}`);
    expect(numbers.status === 200 && numbers.body.data[0].id === phoneNumberId,
      `a Cloud call with the token: ${numbers.status} ${JSON.stringify(numbers.body)}`);

    // A callback subscribed from the page, as in Meta's app dashboard: the endpoint's check
    // refuses a verify token it does not know; the right one subscribes and is shown back.
    receiver.verifyToken = "console-verify-1";
    expect((await page.inputValue("#cloud-verify-input")).length === 32, "a verify token is proposed");
    await page.fill("#cloud-callback-url", receiver.url);
    expectFailure("/subscribed_apps", 400);
    await page.fill("#cloud-verify-input", "not-the-token");
    await page.focus("#cloud-verify-input");
    await page.keyboard.press("Enter");
    await waitForText(page, "#cloud-subscription-form .error", /131009.*verification failed/);
    await page.fill("#cloud-verify-input", "console-verify-1");
    await page.keyboard.press("Enter");
    await waitForText(page, "#cloud-subscription-form .result", /Verified and subscribed/);
    expect((await page.innerText("#cloud-callback")) === receiver.url, "the callback is shown");
    await waitForText(page, "#cloud-verify-token", /^console-verify-1$/);
    await page.focus("#cloud-unsubscribe");
    await page.keyboard.press("Enter");
    await waitForText(page, "#cloud-subscription-form .result", /Unsubscribed/);
    await waitForText(page, "#cloud-callback", /^none subscribed$/);

    // The switch saves at once (Space on it), and the saved state is what a reload shows.
    expect(!(await page.isChecked("#cloud-sign-onprem")), "On-Prem webhooks unsigned by default");
    await page.focus("#cloud-sign-onprem");
    await page.keyboard.press("Space");
    await waitForText(page, "#cloud-signing-form .result", /Saved: On-Prem webhooks are signed/);
    await screenshot(page, "cloud");
    await page.reload();
    await page.locator("#cloud-title").waitFor({ state: "visible" });
    await page.waitForFunction(() => document.querySelector("#cloud-sign-onprem").checked);
    await page.waitForFunction(() => ![...document.querySelectorAll("#page-cloud button")].some((b) => b.disabled));
    await page.click("#cloud-sign-onprem");
    await waitForText(page, "#cloud-signing-form .result", /Saved: On-Prem webhooks are not signed/);

    // At phone width the page does not scroll sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    const wide = await page.evaluate(() => [...document.querySelectorAll("#page-cloud *")]
      .filter((node) => node.getBoundingClientRect().right > window.innerWidth + 1)
      .map((node) => `${node.tagName}#${node.id}.${node.className}`));
    expect(wide.length === 0, `nothing wider than the phone: ${wide}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(!overflow, "no horizontal scrolling at phone width");
    const tableFits = await page.evaluate(() => {
      const wrap = document.querySelector("#cloud-tokens-form .table-wrap");
      return wrap.scrollWidth <= wrap.clientWidth + 1;
    });
    expect(tableFits, "the token list fits without scrolling");
    await screenshot(page, "phone-cloud");
    await page.setViewportSize({ width: 1280, height: 800 });

    // Revoked (after a confirmation): the token answers 190 at once.
    page.once("dialog", (dialog) => dialog.accept());
    await page.click('#cloud-tokens-table button[aria-label="Revoke the token Console CRM"]');
    await waitForText(page, "#cloud-tokens-form .result", /Token Console CRM revoked/);
    await waitForText(page, "#cloud-tokens-table tbody", /No long-lived tokens/);
    const refused = await webappCall(stack, "GET", `/v21.0/${wabaId}/phone_numbers`, `Bearer ${token}`);
    expect(refused.status === 401 && refused.body.error.code === 190,
      `the revoked token: ${refused.status} ${JSON.stringify(refused.body)}`);
  });

  await step("users: the admin creates a user and looks it up", async () => {
    await goTo(page, "users", "Users");
    await page.fill("#user-new-name", "operator1");
    await page.fill("#user-new-password", "Operator-Pass-1!");
    await page.click("#user-create-form button[type=submit]");
    await waitForText(page, "#user-create-form .result", /User operator1 created/);
    await page.fill("#user-find-name", "operator1");
    await page.click("#user-find-form button[type=submit]");
    await waitForText(page, "#user-find-form .result", /operator1: user/);
    await screenshot(page, "users");
  });

  await step("errors show the On-Prem code and details", async () => {
    await page.fill("#user-new-name", "operator1");
    await page.fill("#user-new-password", "short");
    expectFailure("/v1/users", 400);
    await page.click("#user-create-form button[type=submit]");
    await waitForText(page, "#user-create-form .error", /Error 1009 \(Parameter value is not valid\): \S/);
  });

  await step("the dashboard counts the messages, at phone width too", async () => {
    await goTo(page, "dashboard", "Dashboard");
    await waitForText(page, "#dashboard-cards", /Messages stored\s*4/);
    await screenshot(page, "dashboard");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.evaluate(() => window.scrollTo(0, 0));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(!overflow, "no horizontal scrolling at phone width");
    // Words break only when longer than the line ("anywhere" split ordinary words mid-word).
    const wraps = await page.evaluate(() => [...document.querySelectorAll(".stat-value, .stat-label, dd, code")]
      .map((node) => getComputedStyle(node).overflowWrap));
    expect(wraps.length > 0 && wraps.every((w) => w !== "anywhere"), `overflow-wrap: ${wraps}`);
    const labels = await page.evaluate(() => [...document.querySelectorAll(".stat-label, .stat-value")]
      .filter((node) => node.scrollWidth > node.clientWidth + 1).map((node) => node.textContent));
    expect(labels.length === 0, `cut text: ${labels}`);
    await screenshot(page, "phone-dashboard");
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await step("templates known to the network are listed", async () => {
    await goTo(page, "templates", "Templates");
    const error = await page.innerText("#page-templates > .error");
    expect(error === "", `templates: ${error}`);
    await screenshot(page, "templates");
    for (const width of [1280, 1600]) {
      await page.setViewportSize({ width, height: 800 });
      const body = await page.evaluate(() => {
        const cells = [...document.querySelectorAll("#templates-table tbody td:nth-child(6)")];
        return cells.length ? Math.min(...cells.map((c) => c.getBoundingClientRect().width)) : 0;
      });
      expect(body >= 250, `the Body column is ${body} px wide at ${width} px`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await phonesSteps({
    stack, page, step, expect, control, webappCall, screenshot, waitForText, waitFor, goTo,
    business: `${BUSINESS_CC}${BUSINESS_NUMBER}`, shotPath: (name) => path.join(SHOTS, `${name}.png`),
  });

  await step("the API reference lists every operation of the OpenAPI document", async () => {
    await goTo(page, "reference", "API reference");
    const error = await page.innerText("#page-reference > .error");
    expect(error === "", `reference: ${error}`);
    const served = await page.evaluate(async () => {
      const doc = await (await fetch("/v1/openapi.json")).json();
      return Object.values(doc.paths).flatMap((item) => Object.keys(item)
        .filter((m) => ["get", "put", "post", "delete", "patch"].includes(m))).length;
    });
    const shown = Number(await page.innerText("#reference-count"));
    expect(served > 50 && shown === served, `${shown} operations shown, ${served} in the document`);
    const rows = await page.$$eval("#reference-table tbody tr",
      (trs) => trs.map((tr) => `${tr.cells[0].textContent} ${tr.cells[1].textContent}`));
    expect(rows.includes("POST /v1/messages"), "POST /v1/messages is listed");
    await screenshot(page, "reference");
  });

  await step("business profile is saved", async () => {
    await goTo(page, "business", "Business profile");
    await page.fill("#biz-description", "Bikes and repairs");
    await page.fill("#biz-email", "shop@example.com");
    await page.click("#business-form button[type=submit]");
    await waitForText(page, "#business-form .result", /Business profile saved/);
    await screenshot(page, "business");
  });

  await step("the about text is updated", async () => {
    expectFailure("/v1/settings/profile/photo", 404); // no photo set yet
    await goTo(page, "profile", "Profile");
    await page.fill("#about-text", ABOUT);
    await page.click("#about-form button[type=submit]");
    await waitForText(page, "#about-form .result", new RegExp(`Saved: "${ABOUT}"`));
  });

  await step("an uploaded photo is previewed (fetched with the token)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "wa-console-photo-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, "photo.png");
    writeFileSync(file, await page.screenshot({ clip: { x: 0, y: 0, width: 96, height: 96 } }));
    await page.setInputFiles("#photo-file", file);
    await page.click("#photo-form button[type=submit]");
    await waitForText(page, "#photo-form .result", /Photo uploaded/);
    await page.waitForFunction(() => {
      const img = document.querySelector("#photo-preview");
      return !img.hidden && img.complete && img.naturalWidth === 96;
    });
    await screenshot(page, "profile");
  });

  await step("logout ends the session, and a revoked token does too", async () => {
    await page.click("#logout");
    await visibleText(page, "#login-title");
    await waitForText(page, "#notice", /logged out/);
    await page.fill("#login-username", "admin");
    await page.fill("#login-password", NEW_PASSWORD);
    await page.click("#login-submit");
    await visibleText(page, "#dashboard-title");
    // Another client revokes the console's token: the next call ends the session.
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("wa-console-session")).token);
    await page.evaluate((t) => fetch("/v1/users/logout",
      { method: "POST", headers: { Authorization: `Bearer ${t}` } }), token);
    expectFailure("/v1/", 401);
    expectFailure("/v1/", 401);
    expectFailure("/v1/", 401);
    expectFailure("/v1/", 401);
    await page.click("#dashboard-refresh");
    await visibleText(page, "#login-title");
    await waitForText(page, "#notice", /session has ended/);
  });

  await step("the session ends by itself when the token expires", async () => {
    const shortLived = await startStack({ ONPREM__WEBAPP__TOKEN_LIFETIME_SECS: "4" });
    expectFailure("/v1/users/login", 401);
    await page.goto(`${shortLived.base}/console`);
    await page.fill("#login-username", "admin");
    await page.fill("#login-password", "secret");
    await page.click("#login-submit");
    await page.locator("#login-new-password").waitFor({ state: "visible" });
    await page.fill("#login-new-password", NEW_PASSWORD);
    await page.fill("#login-new-password-again", NEW_PASSWORD);
    await page.click("#login-submit");
    await visibleText(page, "#dashboard-title");
    // No click, no call: the console's own timer notices the expiry.
    await visibleText(page, "#login-title");
    await waitForText(page, "#notice", /session has expired/);
  });

  await step("no unexpected browser console errors", async () => {
    const unexpected = unexpectedConsoleErrors(consoleErrors);
    console.log(`     ${consoleErrors.length} console errors, ${unexpected.length} unexpected`);
    expect(unexpected.length === 0,
      `console errors: ${unexpected.map((e) => `${e.text} (${e.url})`).join("; ")}`);
  });
}

async function cleanup() {
  for (const task of cleanups) {
    try {
      await task();
    } catch {
      // best effort
    }
  }
}

try {
  await run();
} catch {
  // step() reported it
} finally {
  await cleanup();
  console.log(`${results.passed} passed, ${results.failed} failed`);
  process.exitCode = results.failed === 0 ? 0 : 1;
}
