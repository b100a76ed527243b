// The admin console, part 2 of 4: the pages (dashboard, registration, settings, profile,
// business, users, templates, Cloud API, API reference). Loaded after core.js.
"use strict";

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

/** Tests the URL in the field, saved or not, so a URL can be tried before it is saved. */
async function testWebhook() {
  const typed = $("#set-url").value.trim();
  const answer = await api("POST", "/v1/settings/application/webhooks/test", {
    body: typed ? { url: typed } : {},
  });
  const test = answer.webhook_test;
  const rows = [
    ["URL", test.url],
    ["Result", webhookTestVerdict(test)],
    ["HTTP status", test.status === null ? "no answer" : String(test.status)],
    ["Answer body", test.body === null || test.body === "" ? "(empty)" : test.body],
    ["Time", `${test.elapsed_ms} ms`],
  ];
  if (test.error) {
    rows.splice(3, 0, ["Connection error", test.error]);
  }
  const list = $("#webhook-test-details");
  list.replaceChildren(...rows.flatMap(([term, value]) => [element("dt", term), element("dd", value)]));
  $("#webhook-test-result").hidden = false;
}

/** Only HTTP 200 counts as delivered, for the test as for real webhooks. */
function webhookTestVerdict(test) {
  if (test.status === 200) {
    return "Delivered: the receiver answered 200.";
  }
  if (test.status === null) {
    return "Not delivered: no answer from the receiver.";
  }
  const kind = test.status >= 500 ? "a server error" : "not 200";
  return `Not delivered: the receiver answered ${test.status} (${kind}); webhooks are retried until it answers 200.`;
}

async function loadProfile() {
  // The photo is fetched with the token (an <img> request would carry none) and shown from memory.
  const [about, photo] = await Promise.all([
    settle(api("GET", "/v1/settings/profile/about")),
    settle(api("GET", "/v1/settings/profile/photo", { blob: true })),
  ]);
  if (about.value) {
    $("#about-text").value = about.value.settings.profile.about.text || "";
  }
  if (photoUrl) {
    URL.revokeObjectURL(photoUrl);
    photoUrl = null;
  }
  if (photo.value) {
    photoUrl = URL.createObjectURL(photo.value);
    $("#photo-preview").src = photoUrl;
  }
  $("#photo-preview").hidden = !photoUrl;
  $("#photo-none").hidden = Boolean(photoUrl);
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

/** The API reference: every operation of the OpenAPI document the webapp serves. */
async function loadReference() {
  const body = $("#reference-table tbody");
  body.replaceChildren();
  const doc = await api("GET", "/v1/openapi.json");
  $("#reference-version").textContent = `${doc.info.title} ${doc.info.version}`;
  Object.entries(doc.paths || {}).forEach(([path, item]) => {
    Object.entries(item).filter(([method]) => HTTP_METHODS.has(method)).forEach(([method, op]) => {
      const row = element("tr");
      [method.toUpperCase(), path, op.summary || "", (op.tags || []).join(", ")]
        .forEach((value) => row.append(element("td", value)));
      row.firstChild.className = "method";
      body.append(row);
    });
  });
  $("#reference-count").textContent = String(body.rows.length);
}

// ---- Cloud API ----------------------------------------------------------------------------------

/** The app secret, shown only on request; kept here rather than in the page while hidden. */
let cloudSecret = null;
/** The business account id the subscription belongs to; null before registration. */
let cloudWaba = null;

async function loadCloud() {
  const [settings, tokens] = await Promise.all([
    settle(api("GET", "/v1/settings/cloud")),
    settle(api("GET", "/v1/settings/cloud/tokens")),
  ]);
  if (settings.value) {
    const cloud = settings.value.settings.cloud;
    $("#cloud-phone-number-id").textContent = cloud.phone_number_id || "— (no number registered)";
    $("#cloud-waba-id").textContent = cloud.waba_id || "— (no number registered)";
    $("#cloud-app-id").textContent = cloud.app_id || "— (no number registered)";
    $("#cloud-callback").textContent = cloud.callback_url || "none subscribed";
    $("#cloud-sign-onprem").checked = Boolean(cloud.sign_onprem_webhooks);
    $("#cloud-verify-token").textContent = cloud.verify_token || "—";
    $("#cloud-callback-url").value = cloud.callback_url || "";
    $("#cloud-verify-input").value = cloud.verify_token || randomToken();
    cloudWaba = cloud.waba_id;
    cloudSecret = cloud.app_secret;
    showCloudSecret(false);
  } else {
    showError($("#cloud-ids-form"), settings.error);
  }
  if (tokens.value) {
    renderCloudTokens(tokens.value.tokens || []);
  } else {
    showError($("#cloud-tokens-form"), tokens.error);
  }
}

/** A fresh verify token to start from: 16 random bytes in hex. */
function randomToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function subscriptionPath() {
  if (!cloudWaba) {
    throw new ApiFailure(0, [{ title: "No number registered",
      details: "the subscription belongs to the business account of a registered number" }]);
  }
  return `/v21.0/${encodeURIComponent(cloudWaba)}/subscribed_apps`;
}

async function subscribeCloudWebhooks(form) {
  const body = {
    override_callback_uri: $("#cloud-callback-url").value.trim(),
    verify_token: $("#cloud-verify-input").value,
  };
  await api("POST", subscriptionPath(), { body });
  await loadCloud();
  showResult(form, "Verified and subscribed: Cloud webhooks go to the callback.");
}

async function unsubscribeCloudWebhooks() {
  await api("DELETE", subscriptionPath());
  await loadCloud();
  showResult($("#cloud-subscription-form"), "Unsubscribed: no Cloud webhook is sent.");
}

function showCloudSecret(shown) {
  $("#cloud-app-secret").textContent = shown && cloudSecret ? cloudSecret : "hidden";
  const toggle = $("#cloud-secret-toggle");
  toggle.setAttribute("aria-pressed", String(shown));
  toggle.textContent = shown ? "Hide app secret" : "Show app secret";
}

async function toggleCloudSecret() {
  showCloudSecret($("#cloud-secret-toggle").getAttribute("aria-pressed") !== "true");
}

/** Copies `text`; where the browser refuses (no clipboard permission), selects it to copy by hand. */
async function copyText(form, text, node, what) {
  try {
    await navigator.clipboard.writeText(text);
    showResult(form, `${what} copied.`);
  } catch {
    const range = document.createRange();
    range.selectNodeContents(node);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    showResult(form, `${what} selected: press Ctrl+C (or ⌘C) to copy it.`);
  }
}

async function copyCloudSecret() {
  showCloudSecret(true);
  await copyText($("#cloud-ids-form"), cloudSecret || "", $("#cloud-app-secret"), "App secret");
}

async function saveCloudSigning(form) {
  const sign = $("#cloud-sign-onprem").checked;
  try {
    const answer = await api("PATCH", "/v1/settings/cloud", { body: { sign_onprem_webhooks: sign } });
    const saved = answer.settings.cloud.sign_onprem_webhooks;
    $("#cloud-sign-onprem").checked = saved;
    showResult(form, saved ? "Saved: On-Prem webhooks are signed." : "Saved: On-Prem webhooks are not signed.");
  } catch (err) {
    $("#cloud-sign-onprem").checked = !sign;
    throw err;
  }
}

function renderCloudTokens(tokens) {
  const body = $("#cloud-tokens-table tbody");
  if (!tokens.length) {
    const row = element("tr");
    const cell = element("td", "No long-lived tokens.");
    cell.colSpan = 3;
    row.append(cell);
    body.replaceChildren(row);
    return;
  }
  body.replaceChildren(...tokens.map((token) => {
    const row = element("tr");
    const created = new Date(token.created_timestamp * 1000)
      .toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
    const role = token.role === "ROLE_ADMIN" ? "administrator" : "user";
    // Name and role share a cell so that the list fits a phone's width.
    const named = element("td", token.name);
    named.append(element("div", role, "hint"));
    row.append(named, element("td", created));
    const revoke = element("button", "Revoke", "danger");
    revoke.type = "button";
    revoke.dataset.tokenId = token.id;
    revoke.setAttribute("aria-label", `Revoke the token ${token.name}`);
    revoke.addEventListener("click", () => busy($("#cloud-tokens-form"), () => revokeCloudToken(token)));
    const cell = element("td");
    cell.append(revoke);
    row.append(cell);
    return row;
  }));
}

async function reloadCloudTokens() {
  const answer = await api("GET", "/v1/settings/cloud/tokens");
  renderCloudTokens(answer.tokens || []);
}

async function createCloudToken(form) {
  const name = $("#cloud-token-name").value.trim();
  const role = $("#cloud-token-role").value;
  const answer = await api("POST", "/v1/settings/cloud/tokens", { body: { name, role } });
  const created = answer.tokens[0];
  $("#cloud-token-value").textContent = created.token;
  $("#cloud-token-new").hidden = false;
  $("#cloud-token-copy").hidden = false;
  $("#cloud-token-name").value = "";
  showResult(form, `Token ${created.name} created.`);
  await reloadCloudTokens();
  // After busy() has enabled the form's buttons again: a disabled button takes no focus.
  setTimeout(() => $("#cloud-token-copy").focus());
}

async function copyCloudToken() {
  await copyText($("#cloud-token-form"), $("#cloud-token-value").textContent,
    $("#cloud-token-value"), "Token");
}

async function revokeCloudToken(token) {
  if (!window.confirm(`Revoke the token ${token.name}? Integrations using it stop working.`)) {
    return;
  }
  await api("DELETE", `/v1/settings/cloud/tokens/${encodeURIComponent(token.id)}`);
  await reloadCloudTokens();
  showResult($("#cloud-tokens-form"), `Token ${token.name} revoked.`);
  // The row and its button are gone: the keyboard goes back to the list's heading.
  $("#cloud-tokens-title").focus();
}
