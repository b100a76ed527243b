// The admin console, part 4 of 4: test messages and their statuses, the webhook inbox, the
// wiring of forms and buttons, and the start. Loaded last (after core.js, pages.js, phones.js).
"use strict";

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "patch"]);

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
        // A failure says why: the code, title and details the failed webhook carries.
        (message.errors || []).forEach((error) => {
          item.append(element("div", describeError(error), "status-error"));
        });
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

function stopWebhookPoll() {
  clearTimeout(webhookPoll);
  webhookPoll = null;
}

/** The simulated network's webhook inbox, newest first, polled while the page is open. */
async function loadWebhooks() {
  stopWebhookPoll();
  const list = $("#webhook-list");
  list.replaceChildren();
  let last = 0;
  const poll = async () => {
    if (!session || currentPage() !== "webhooks") {
      return;
    }
    try {
      const answer = await api("GET", `/console/webhooks?after=${last}`);
      (answer.webhooks || []).forEach((hook) => list.prepend(webhookItem(hook)));
      last = answer.last_seq || last;
      $("#webhook-count").textContent = String(list.children.length);
      showError($("#page-webhooks"), null);
    } catch (err) {
      showError($("#page-webhooks"), err);
    }
    webhookPoll = setTimeout(poll, WEBHOOK_POLL_MS);
  };
  await poll();
}

function webhookItem(hook) {
  const item = element("li", undefined, "card webhook");
  const when = new Date(Number(hook.received_at)).toLocaleTimeString();
  item.append(element("strong", webhookSummary(hook.body)), ` at ${when} on ${hook.path}`,
    element("pre", JSON.stringify(hook.body, null, 2)));
  return item;
}

function webhookSummary(body) {
  if (body && Array.isArray(body.messages) && body.messages.length) {
    return `message from +${body.messages[0].from} (${body.messages[0].type})`;
  }
  if (body && Array.isArray(body.statuses) && body.statuses.length) {
    return `status ${body.statuses[0].status} of ${body.statuses[0].id}`;
  }
  return body && body.test ? "test webhook" : "webhook";
}

const LOADERS = {
  dashboard: loadDashboard,
  registration: loadRegistration,
  settings: loadSettings,
  profile: loadProfile,
  business: loadBusiness,
  templates: loadTemplates,
  webhooks: loadWebhooks,
  phones: loadPhones,
  cloud: loadCloud,
  reference: loadReference,
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
  onClick("webhooks-clear", () => { $("#webhook-list").replaceChildren(); $("#webhook-count").textContent = "0"; });
  onSubmit("message-form", sendTestMessage);
  onSubmit("phone-new-form", startConsumer);
  onSubmit("phone-profile-form", switchProfile);
  onSubmit("phone-reply-form", sendPhoneText);
  onSubmit("phone-location-form", sendPhoneLocation);
  onSubmit("phone-contact-form", sendPhoneContact);
  onSubmit("phone-file-form", sendPhoneFile);
  onClick("cloud-secret-toggle", toggleCloudSecret);
  onClick("cloud-secret-copy", copyCloudSecret);
  // The switch saves at once, as its hint says; no separate button to forget.
  $("#cloud-sign-onprem").addEventListener("change", () => {
    const form = $("#cloud-signing-form");
    busy(form, () => saveCloudSigning(form));
  });
  onSubmit("cloud-subscription-form", subscribeCloudWebhooks);
  onClick("cloud-unsubscribe", unsubscribeCloudWebhooks);
  onSubmit("cloud-token-form", createCloudToken);
  onClick("cloud-token-copy", copyCloudToken);
  $("#logout").addEventListener("click", logout);
  window.addEventListener("hashchange", () => route(true));
}

wire();
restoreSession();
route(false);
