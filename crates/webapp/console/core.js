// The admin console, part 1 of 4: the API client, showing results, the session and routing.
// The console uses only the public /v1 API, with the bearer token it obtained at login, exactly
// as any integration would (the Webhooks and Phones pages, for the simulator, the console-only
// /console/webhooks and /console/consumers). No framework and no build step: four classic
// scripts loaded in order (core.js, pages.js, phones.js, app.js) share one global scope; app.js
// starts the page.
"use strict";

const SESSION_KEY = "wa-console-session";
const PAGES = ["dashboard", "registration", "settings", "profile", "business", "users",
  "templates", "message", "webhooks", "phones", "cloud", "reference"];
const ADMIN_PAGES = new Set(["registration", "settings", "profile", "business", "users", "webhooks",
  "phones", "cloud"]);
const WEBHOOK_POLL_MS = 1000;
/** Statuses after which a message does not change any more. */
const FINAL_STATUSES = new Set(["read", "failed", "deleted"]);
const STATUS_POLL_MS = 1000;
const STATUS_POLL_LIMIT_MS = 120000;
/** setTimeout cannot wait longer than this. */
const MAX_TIMER_MS = 2147483647;

let session = null;
let expiryTimer = null;
let statusPoll = null;
let webhookPoll = null;
/** The photo preview's object URL, released when replaced. */
let photoUrl = null;

const $ = (selector, root = document) => root.querySelector(selector);

/** An answer of the API that is not a success: the HTTP status and the On-Prem error objects. */
class ApiFailure extends Error {
  constructor(status, errors) {
    super(errors.map(describeError).join("; "));
    this.status = status;
    this.errors = errors;
  }
}

/** A Cloud API answer's error (`{"error": {"message", "error_data": {"details"}}}`) in the
 * shape of the On-Prem errors; null for any other body. */
function cloudErrors(json) {
  const error = json && json.error;
  if (!error || typeof error.message !== "string") {
    return null;
  }
  return [{ code: error.code, title: error.message, details: error.error_data?.details || "" }];
}

function describeError(error) {
  const code = error.code === undefined ? "" : `Error ${error.code}`;
  const title = error.title ? ` (${error.title})` : "";
  const details = error.details ? `: ${error.details}` : "";
  return `${code}${title}${details}` || "Unknown error";
}

// ---- the API ---------------------------------------------------------------------------------

/**
 * Calls the API and returns the parsed JSON body. `body` is JSON unless `raw` gives the bytes
 * and their type. Throws ApiFailure for error answers; a 401 on a signed-in call ends the session.
 */
async function api(method, path, { body, raw, auth, blob } = {}) {
  const headers = { Accept: "application/json" };
  if (auth) {
    headers.Authorization = auth;
  } else if (session) {
    headers.Authorization = `Bearer ${session.token}`;
  }
  let payload;
  if (raw) {
    headers["Content-Type"] = raw.type;
    payload = raw.data;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, cache: "no-store" });
  } catch (err) {
    throw new ApiFailure(0, [{ title: "Network error", details: "The API could not be reached" }]);
  }
  if (response.ok && blob) {
    return response.blob();
  }
  const json = await response.json().catch(() => ({}));
  if (response.ok) {
    return json;
  }
  const errors = Array.isArray(json.errors) && json.errors.length
    ? json.errors
    : cloudErrors(json) || [{ title: `HTTP ${response.status}`, details: response.statusText }];
  if (response.status === 401 && !auth && session) {
    endSession("Your session has ended (the token expired or was revoked). Please log in again.");
  }
  throw new ApiFailure(response.status, errors);
}

// ---- showing results ---------------------------------------------------------------------------

function showError(scope, err) {
  const box = $(".error", scope);
  if (!box) {
    return;
  }
  if (!err) {
    box.textContent = "";
    return;
  }
  box.textContent = err instanceof ApiFailure ? err.message : String(err);
  if (!(err instanceof ApiFailure)) {
    console.warn(err);
  }
}

function showResult(scope, text) {
  const box = $(".result", scope);
  if (box) {
    box.textContent = text;
  }
}

/** Runs `work` for a form: clears old messages, disables the buttons meanwhile, shows errors. */
async function busy(scope, work) {
  showError(scope, null);
  showResult(scope, "");
  const buttons = [...scope.querySelectorAll("button")];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await work();
  } catch (err) {
    showError(scope, err);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

function onSubmit(formId, work) {
  const form = document.getElementById(formId);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form, () => work(form));
  });
}

function onClick(buttonId, work) {
  const button = document.getElementById(buttonId);
  button.addEventListener("click", () => busy(button.closest("form, section"), work));
}

/** True while a notice waits for the page it was meant for (it survives one navigation). */
let noticePending = false;

function notice(text) {
  $("#notice").textContent = text;
  noticePending = Boolean(text);
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) {
    node.textContent = text;
  }
  if (className) {
    node.className = className;
  }
  return node;
}

// ---- session -----------------------------------------------------------------------------------

/** "2026-11-30 10:00:00+00:00" → milliseconds since the epoch. */
function parseExpiry(text) {
  const ms = Date.parse(String(text).replace(" ", "T"));
  return Number.isNaN(ms) ? Date.now() + 3600000 : ms;
}

function startSession(next) {
  session = next;
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  scheduleExpiry();
  $("#session-user").textContent = `${session.username}${session.admin ? " (admin)" : ""}`;
  $("#session").hidden = false;
  $("#nav").hidden = false;
  document.querySelectorAll("#nav [data-admin]").forEach((link) => {
    link.parentElement.hidden = !session.admin;
  });
}

function scheduleExpiry() {
  clearTimeout(expiryTimer);
  const wait = session.expiresAt - Date.now();
  if (wait <= 0) {
    endSession("Your session has expired. Please log in again.");
    return;
  }
  expiryTimer = setTimeout(scheduleExpiry, Math.min(wait, MAX_TIMER_MS));
}

function endSession(message) {
  session = null;
  clearTimeout(expiryTimer);
  stopStatusPoll();
  sessionStorage.removeItem(SESSION_KEY);
  $("#session").hidden = true;
  $("#nav").hidden = true;
  notice(message);
  if (location.hash !== "#login") {
    location.hash = "#login";
  } else {
    route();
  }
}

function restoreSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (saved && saved.token && saved.expiresAt > Date.now()) {
      startSession(saved);
    }
  } catch (err) {
    sessionStorage.removeItem(SESSION_KEY);
  }
}

function basicAuth(username, password) {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = "";
  bytes.forEach((b) => { binary += String.fromCharCode(b); });
  return `Basic ${btoa(binary)}`;
}

async function login(form) {
  const username = $("#login-username").value.trim();
  const password = $("#login-password").value;
  const changing = !$("#new-password-fields").hidden;
  let body;
  if (changing) {
    const next = $("#login-new-password").value;
    if (next !== $("#login-new-password-again").value) {
      throw new Error("The two new passwords differ.");
    }
    body = { new_password: next };
  }
  let answer;
  try {
    answer = await api("POST", "/v1/users/login", { body, auth: basicAuth(username, password) });
  } catch (err) {
    if (err instanceof ApiFailure && err.errors.some((e) => e.code === 1024)) {
      // The normal first step of a new installation, not a failure.
      askForNewPassword();
      return;
    }
    throw err;
  }
  const user = answer.users[0];
  startSession({ username, token: user.token, expiresAt: parseExpiry(user.expires_after), admin: false });
  const info = await api("GET", `/v1/users/${encodeURIComponent(username)}`);
  session.admin = info.users[0].ROLES === "ROLE_ADMIN";
  startSession(session);
  form.reset();
  $("#new-password-fields").hidden = true;
  $("#login-new-password").required = false;
  notice(changing ? "Password changed; you are logged in." : "");
  location.hash = "#dashboard";
}

function askForNewPassword() {
  showResult($("#login-form"), "First login: choose a new password for this account.");
  $("#new-password-fields").hidden = false;
  $("#login-new-password").required = true;
  $("#login-submit").textContent = "Change password and log in";
  $("#login-new-password").focus();
}

async function logout() {
  try {
    await api("POST", "/v1/users/logout");
  } finally {
    endSession("You are logged out.");
  }
}

// ---- routing -----------------------------------------------------------------------------------

function currentPage() {
  const name = location.hash.replace(/^#/, "");
  if (!session) {
    return "login";
  }
  if (!PAGES.includes(name) || (ADMIN_PAGES.has(name) && !session.admin)) {
    return "dashboard";
  }
  return name;
}

/** Shows the page of the URL's hash; `moveFocus` puts the keyboard on its heading (not on load). */
function route(moveFocus = true) {
  const page = currentPage();
  if (!noticePending) {
    notice("");
  }
  noticePending = false;
  document.querySelectorAll(".page").forEach((section) => {
    section.hidden = section.id !== `page-${page}`;
  });
  document.querySelectorAll("#nav a").forEach((link) => {
    if (link.getAttribute("href") === `#${page}`) {
      link.setAttribute("aria-current", "page");
    } else {
      link.removeAttribute("aria-current");
    }
  });
  const heading = $(`#page-${page} h1`);
  document.title = `${heading.textContent} · WhatsApp Business API`;
  if (moveFocus) {
    heading.focus();
  }
  const loader = LOADERS[page];
  if (loader) {
    const section = $(`#page-${page}`);
    busy(section, () => loader(section));
  }
}
