// The admin console. It uses only the public /v1 API, with the bearer token it obtained at
// login, exactly as any integration would. No framework and no build step.
"use strict";

const SESSION_KEY = "wa-console-session";
const PAGES = ["dashboard", "registration", "settings", "profile", "business", "users",
  "templates", "message"];
const ADMIN_PAGES = new Set(["registration", "settings", "profile", "business", "users"]);
/** Statuses after which a message does not change any more. */
const FINAL_STATUSES = new Set(["read", "failed", "deleted"]);
const STATUS_POLL_MS = 1000;
const STATUS_POLL_LIMIT_MS = 120000;
/** setTimeout cannot wait longer than this. */
const MAX_TIMER_MS = 2147483647;

let session = null;
let expiryTimer = null;
let statusPoll = null;

const $ = (selector, root = document) => root.querySelector(selector);

/** An answer of the API that is not a success: the HTTP status and the On-Prem error objects. */
class ApiFailure extends Error {
  constructor(status, errors) {
    super(errors.map(describeError).join("; "));
    this.status = status;
    this.errors = errors;
  }
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
async function api(method, path, { body, raw, auth } = {}) {
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
  const json = await response.json().catch(() => ({}));
  if (response.ok) {
    return json;
  }
  const errors = Array.isArray(json.errors) && json.errors.length
    ? json.errors
    : [{ title: `HTTP ${response.status}`, details: response.statusText }];
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
      askForNewPassword();
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

// ---- pages -------------------------------------------------------------------------------------

function statTotal(stats, name) {
  const stat = stats && stats[name];
  if (!stat || !Array.isArray(stat.data)) {
    return undefined;
  }
  return stat.data.reduce((sum, sample) => sum + Number(sample.value || 0), 0);
}

async function settle(promise) {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

async function loadDashboard(section) {
  const [health, app, db, settings] = await Promise.all([
    settle(api("GET", "/v1/health")),
    settle(api("GET", "/v1/stats/app")),
    settle(api("GET", "/v1/stats/db")),
    session.admin ? settle(api("GET", "/v1/settings/application")) : Promise.resolve({}),
  ]);
  const gateway = health.value ? health.value.health.gateway_status : undefined;
  const appStats = app.value ? app.value.stats.app : undefined;
  const dbStats = db.value ? db.value.stats.db : undefined;
  const waId = settings.value ? settings.value.settings.application.wa_id : undefined;
  const cards = [
    ["Gateway status", gateway],
    ["Registered number", registrationText(gateway, waId)],
    ["Pending messages", statTotal(dbStats, "db_pending_messages")],
    ["Pending callbacks", statTotal(dbStats, "db_pending_callbacks")],
    ["Messages stored", statTotal(dbStats, "db_messages")],
    ["Messages sent (since start)", statTotal(appStats, "out_message_persisted")],
    ["Messages received (since start)", statTotal(appStats, "in_message_persisted")],
    ["Callbacks in flight", statTotal(appStats, "pending_callbacks")],
  ];
  const box = $("#dashboard-cards");
  box.replaceChildren(...cards.map(([label, value]) => {
    const card = element("div", undefined, "stat");
    card.append(element("span", label, "stat-label"),
      element("span", value === undefined ? "—" : String(value), "stat-value"));
    return card;
  }));
  renderStats($("#dashboard-stats"), { ...appStats, ...dbStats });
  const failed = [health, app, db, settings].find((r) => r.error);
  if (failed) {
    throw failed.error;
  }
}

function registrationText(gateway, waId) {
  if (waId) {
    return `+${waId}`;
  }
  if (gateway === undefined) {
    return undefined;
  }
  return gateway === "unregistered" ? "not registered" : "registered";
}

function renderStats(box, stats) {
  const table = element("table");
  table.append(element("caption", "Every statistic of /v1/stats/app and /v1/stats/db", "visually-hidden"));
  const head = element("tr");
  ["Statistic", "Labels", "Value"].forEach((h) => {
    const th = element("th", h);
    th.scope = "col";
    head.append(th);
  });
  table.createTHead().append(head);
  const body = element("tbody");
  Object.keys(stats).sort().forEach((name) => {
    (stats[name].data || []).forEach((sample) => {
      const row = element("tr");
      const labels = Object.entries(sample.labels || {}).map(([k, v]) => `${k}=${v}`).join(", ");
      row.append(element("td", name), element("td", labels), element("td", String(sample.value)));
      body.append(row);
    });
  });
  table.append(body);
  const wrap = element("div", undefined, "table-wrap");
  wrap.append(table);
  box.replaceChildren(wrap);
}

async function loadRegistration() {
  const answer = await api("GET", "/v1/settings/application");
  const waId = answer.settings.application.wa_id;
  $("#registration-state").textContent = waId ? `registered as +${waId}` : "not registered";
}

async function requestCode(form) {
  const body = {
    cc: $("#reg-cc").value.trim(),
    phone_number: $("#reg-phone").value.trim(),
    method: $("input[name=method]:checked", form).value,
    cert: $("#reg-cert").value.trim(),
  };
  const pin = $("#reg-pin").value.trim();
  if (pin) {
    body.pin = pin;
  }
  const answer = await api("POST", "/v1/account", { body });
  if (answer.account && answer.account[0]) {
    showResult(form, `A code was sent (display name "${answer.account[0].vname}"). Enter it below.`);
    $("#reg-code").focus();
  } else {
    showResult(form, "This number is already registered here; nothing else to do.");
  }
}

async function verifyCode(form) {
  await api("POST", "/v1/account/verify", { body: { code: $("#reg-code").value.trim() } });
  showResult(form, "Registered. The gateway connects in a few seconds.");
  await loadRegistration();
}

async function loadSettings() {
  const answer = await api("GET", "/v1/settings/application");
  const app = answer.settings.application;
  const webhooks = app.webhooks || {};
  const message = webhooks.message || {};
  $("#set-url").value = webhooks.url || "";
  $("#set-backoff").value = app.callback_backoff_delay_ms ?? "";
  $("#set-max-backoff").value = app.max_callback_backoff_delay_ms ?? "";
  $("#set-concurrency").value = String(webhooks.max_concurrent_requests || 6);
  $("#set-sent").checked = message.sent !== false;
  $("#set-delivered").checked = message.delivered !== false;
  $("#set-read").checked = message.read !== false;
  $("#set-persist").checked = app.callback_persist !== false;
  return app;
}

async function saveSettings(form) {
  const body = {
    webhooks: {
      url: $("#set-url").value.trim(),
      max_concurrent_requests: Number($("#set-concurrency").value),
      message: {
        sent: $("#set-sent").checked,
        delivered: $("#set-delivered").checked,
        read: $("#set-read").checked,
      },
    },
    callback_persist: $("#set-persist").checked,
  };
  const backoff = $("#set-backoff").value;
  const maxBackoff = $("#set-max-backoff").value;
  if (backoff !== "") {
    body.callback_backoff_delay_ms = Number(backoff);
  }
  if (maxBackoff !== "") {
    body.max_callback_backoff_delay_ms = Number(maxBackoff);
  }
  await api("PATCH", "/v1/settings/application", { body });
  const saved = await loadSettings();
  const url = saved.webhooks && saved.webhooks.url;
  showResult(form, url ? `Saved. Webhooks go to ${url}` : "Saved. Webhooks are off.");
}

async function testWebhook() {
  const answer = await api("POST", "/v1/settings/application/webhooks/test");
  const test = answer.webhook_test;
  const rows = [
    ["URL", test.url],
    ["HTTP status", test.status === null ? "no answer" : String(test.status)],
    ["Answer body", test.body === null || test.body === "" ? "(empty)" : test.body],
    ["Error", test.error || "none"],
    ["Time", `${test.elapsed_ms} ms`],
  ];
  const list = $("#webhook-test-details");
  list.replaceChildren(...rows.flatMap(([term, value]) => [element("dt", term), element("dd", value)]));
  $("#webhook-test-result").hidden = false;
}

async function loadProfile() {
  const [about, photo] = await Promise.all([
    settle(api("GET", "/v1/settings/profile/about")),
    settle(api("GET", "/v1/settings/profile/photo?format=link")),
  ]);
  if (about.value) {
    $("#about-text").value = about.value.settings.profile.about.text || "";
  }
  const link = photo.value && photo.value.settings.profile.photo.link;
  $("#photo-preview").hidden = !link;
  $("#photo-none").hidden = Boolean(link);
  if (link) {
    $("#photo-preview").src = link;
  }
  if (about.error) {
    showError($("#about-form"), about.error);
  }
  const noPhoto = photo.error && photo.error.status === 404
    && photo.error.errors.some((e) => e.code === 1006 && /picture/i.test(e.details || ""));
  if (noPhoto) {
    $("#photo-none").textContent = "No photo set.";
  } else if (photo.error) {
    showError($("#photo-form"), photo.error);
  }
}

async function saveAbout(form) {
  await api("PATCH", "/v1/settings/profile/about", { body: { text: $("#about-text").value } });
  const answer = await api("GET", "/v1/settings/profile/about");
  showResult(form, `Saved: "${answer.settings.profile.about.text}"`);
}

async function uploadPhoto(form) {
  const file = $("#photo-file").files[0];
  if (!file) {
    throw new Error("Choose an image first.");
  }
  await api("POST", "/v1/settings/profile/photo", { raw: { type: file.type || "image/jpeg", data: file } });
  showResult(form, "Photo uploaded.");
  await loadProfile();
}

async function loadBusiness() {
  const answer = await api("GET", "/v1/settings/business/profile");
  const profile = answer.settings.business.profile;
  $("#biz-description").value = profile.description || "";
  $("#biz-address").value = profile.address || "";
  $("#biz-email").value = profile.email || "";
  $("#biz-vertical").value = profile.vertical || "";
  const websites = profile.websites || [];
  $("#biz-website1").value = websites[0] || "";
  $("#biz-website2").value = websites[1] || "";
}

async function saveBusiness(form) {
  const body = {
    description: $("#biz-description").value,
    address: $("#biz-address").value,
    email: $("#biz-email").value.trim(),
    websites: [$("#biz-website1").value.trim(), $("#biz-website2").value.trim()].filter(Boolean),
  };
  if ($("#biz-vertical").value) {
    body.vertical = $("#biz-vertical").value;
  }
  await api("POST", "/v1/settings/business/profile", { body });
  await loadBusiness();
  showResult(form, "Business profile saved.");
}

async function createUser(form) {
  const username = $("#user-new-name").value.trim();
  await api("POST", "/v1/users", { body: { username, password: $("#user-new-password").value } });
  form.reset();
  showResult(form, `User ${username} created.`);
}

function userPath() {
  const name = $("#user-find-name").value.trim();
  if (!name) {
    throw new Error("Enter a username.");
  }
  return [name, `/v1/users/${encodeURIComponent(name)}`];
}

async function findUser(form) {
  const [, path] = userPath();
  const answer = await api("GET", path);
  const user = answer.users[0];
  showResult(form, `${user.username}: ${user.ROLES === "ROLE_ADMIN" ? "administrator" : "user"}`);
}

async function changeUserPassword() {
  const [name, path] = userPath();
  await api("PUT", path, { body: { password: $("#user-find-password").value } });
  $("#user-find-password").value = "";
  showResult($("#user-find-form"), `Password of ${name} changed.`);
}

async function deleteUser() {
  const [name, path] = userPath();
  if (!window.confirm(`Delete the user ${name}?`)) {
    return;
  }
  await api("DELETE", path);
  showResult($("#user-find-form"), `User ${name} deleted.`);
}

async function loadTemplates() {
  const body = $("#templates-table tbody");
  body.replaceChildren();
  const answer = await api("GET", "/v1/templates");
  const templates = answer.templates || [];
  if (!templates.length) {
    const row = element("tr");
    const cell = element("td", "No templates.");
    cell.colSpan = 6;
    row.append(cell);
    body.append(row);
    return;
  }
  templates.forEach((t) => {
    const bodyComponent = (t.components || []).find((c) => String(c.type).toUpperCase() === "BODY");
    const row = element("tr");
    [t.name, t.language, t.category, t.status, t.namespace, bodyComponent ? bodyComponent.text : ""]
      .forEach((value) => row.append(element("td", value === undefined ? "" : String(value))));
    body.append(row);
  });
}

function stopStatusPoll() {
  clearTimeout(statusPoll);
  statusPoll = null;
}

async function sendTestMessage() {
  stopStatusPoll();
  const body = {
    recipient_type: "individual",
    to: $("#msg-to").value.trim(),
    type: "text",
    text: { body: $("#msg-body").value },
  };
  const answer = await api("POST", "/v1/messages", { body });
  const id = answer.messages[0].id;
  $("#message-id").textContent = id;
  $("#message-statuses").replaceChildren();
  $("#message-status-card").hidden = false;
  followStatus(id, Date.now(), null);
}

/** Polls GET /v1/messages/{id} (an extension) and lists each status as it is reached. */
function followStatus(id, startedAt, lastStatus) {
  statusPoll = setTimeout(async () => {
    let status = lastStatus;
    try {
      const answer = await api("GET", `/v1/messages/${encodeURIComponent(id)}`);
      const message = answer.messages[0];
      status = message.status;
      if (status !== lastStatus) {
        const when = new Date(Number(message.timestamp) * 1000).toLocaleTimeString();
        const item = element("li");
        item.append(element("strong", status, `status status-${status}`), ` at ${when}`);
        $("#message-statuses").append(item);
      }
    } catch (err) {
      showError($("#page-message"), err);
    }
    const done = FINAL_STATUSES.has(status) || Date.now() - startedAt > STATUS_POLL_LIMIT_MS;
    if (session && !done && statusPoll !== null) {
      followStatus(id, startedAt, status);
    }
  }, STATUS_POLL_MS);
}

const LOADERS = {
  dashboard: loadDashboard,
  registration: loadRegistration,
  settings: loadSettings,
  profile: loadProfile,
  business: loadBusiness,
  templates: loadTemplates,
};

function wire() {
  onSubmit("login-form", login);
  onSubmit("request-code-form", requestCode);
  onSubmit("verify-form", verifyCode);
  onSubmit("settings-form", saveSettings);
  onClick("webhook-test", testWebhook);
  onSubmit("about-form", saveAbout);
  onSubmit("photo-form", uploadPhoto);
  onSubmit("business-form", saveBusiness);
  onSubmit("user-create-form", createUser);
  onSubmit("user-find-form", findUser);
  onClick("user-change-password", changeUserPassword);
  onClick("user-delete", deleteUser);
  onClick("dashboard-refresh", () => loadDashboard($("#page-dashboard")));
  onClick("templates-refresh", loadTemplates);
  onSubmit("message-form", sendTestMessage);
  $("#logout").addEventListener("click", logout);
  window.addEventListener("hashchange", () => route(true));
}

wire();
restoreSession();
route(false);
