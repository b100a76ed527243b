// The admin console, part 3 of 4, the Phones page: the simulated network's consumers, one
// phone's chat as the customer sees it (the business's messages with their ticks, the
// customer's own), answering as the customer (text, a template's quick-reply button, an
// interactive reply button or list row), the phone's profile, and beside it the webhooks the
// business received for that conversation.
// Everything goes through the webapp's admin-only /console/consumers proxy of the simulator's
// control API. Loaded after pages.js, before app.js.
"use strict";

const PHONE_POLL_MS = 1000;
const PHONE_PROFILES = ["normal", "no_read_receipts", "offline", "blocked_business", "sanctioned",
  "old_app", "experiment", "multi_device", "no_template_buttons", "not_on_whatsapp"];

/** The open phone's wa_id, the last answers drawn (to redraw only on change), the poll, the
 * profile last shown in the switch. */
const phones = {
  open: null, drawnList: "", drawnChat: "", lastSeq: 0, timer: null, shownProfile: null,
};
/**
 * When the page first saw each message: the network's times are in seconds, so a tap and the
 * business's next message often share one; the order they appeared in breaks the tie.
 */
const phoneSeen = new Map();
/** Object URLs of media files fetched with the token, by media id, kept for the session. */
const phoneMedia = new Map();

async function loadPhones() {
  clearTimeout(phones.timer);
  const select = $("#phone-profile");
  if (!select.options.length) {
    PHONE_PROFILES.forEach((name) => select.append(new Option(name.replaceAll("_", " "), name)));
  }
  phones.drawnList = "";
  phones.drawnChat = "";
  await pollPhones();
}

/** One round: the list, the open phone and the new webhooks; then again while the page shows. */
async function pollPhones() {
  clearTimeout(phones.timer);
  if (!session || currentPage() !== "phones") {
    return;
  }
  const page = $("#page-phones");
  try {
    const list = await api("GET", "/console/consumers");
    drawPhoneList(list.consumers || []);
    if (phones.open) {
      const phone = await api("GET", `/console/consumers/${phones.open}`);
      drawChat(phone);
      await pollPhoneHooks();
    }
    showError(page, null);
  } catch (err) {
    showError(page, err);
  }
  phones.timer = setTimeout(pollPhones, PHONE_POLL_MS);
}

function drawPhoneList(consumers) {
  const drawn = JSON.stringify(consumers);
  if (drawn === phones.drawnList) {
    return;
  }
  phones.drawnList = drawn;
  const list = $("#phone-list");
  list.replaceChildren();
  if (!consumers.length) {
    list.append(element("li", "No consumer yet: start one above, or let one write."));
  }
  consumers.forEach((consumer) => {
    const button = element("button", `+${consumer.wa_id}`, "phone-open");
    button.type = "button";
    button.dataset.waId = consumer.wa_id;
    button.setAttribute("aria-pressed", String(consumer.wa_id === phones.open));
    const about = `${consumer.name} · ${consumer.profile.replaceAll("_", " ")} · `
      + `${consumer.received_count} received, ${consumer.sent_count} sent`;
    button.addEventListener("click", () => openPhone(consumer.wa_id));
    const item = element("li");
    item.append(button, element("span", about, "hint"));
    list.append(item);
  });
}

async function openPhone(waId) {
  phones.open = waId;
  phones.shownProfile = null;
  phones.drawnChat = "";
  phones.drawnList = "";
  phones.lastSeq = 0;
  $("#phone-hooks").replaceChildren();
  $("#phone-chat").hidden = false;
  $("#phone-hooks-card").hidden = false;
  $("#phone-title").textContent = `+${waId}`;
  await pollPhones();
  $("#phone-title").focus();
}

async function startConsumer(form) {
  const body = { wa_id: $("#phone-new-wa-id").value.trim() };
  const name = $("#phone-new-name").value.trim();
  if (name) {
    body.name = name;
  }
  const consumer = await api("POST", "/console/consumers", { body });
  form.reset();
  await openPhone(consumer.wa_id);
}

async function switchProfile(form) {
  const profile = $("#phone-profile").value;
  await api("POST", "/console/consumers", { body: { wa_id: phones.open, profile } });
  showResult(form, `Profile: ${profile.replaceAll("_", " ")}`);
  phones.drawnList = "";
}

/** The customer writes: `message` is the inbound message as the control API takes it. */
async function phoneSend(message) {
  await api("POST", `/console/consumers/${phones.open}/messages`, { body: message });
  await pollPhones();
}

async function sendPhoneText(form) {
  const text = $("#phone-text").value;
  await phoneSend({ type: "text", text: { body: text } });
  form.reset();
  $("#phone-text").focus();
}

async function sendPhoneLocation(form) {
  const location = {
    latitude: Number($("#phone-latitude").value),
    longitude: Number($("#phone-longitude").value),
  };
  const name = $("#phone-place").value.trim();
  if (name) {
    location.name = name;
  }
  await phoneSend({ type: "location", location });
  form.reset();
}

async function sendPhoneContact(form) {
  const name = $("#phone-contact-name").value.trim();
  const phone = $("#phone-contact-number").value.trim();
  await phoneSend({ type: "contacts", contacts: [{
    name: { formatted_name: name, first_name: name.split(" ")[0] },
    phones: [{ phone, type: "CELL" }],
  }] });
  form.reset();
}

/** Largest file sent from the page: the proxy takes JSON bodies of 256 KiB, base64 adds a third. */
const PHONE_FILE_MAX_BYTES = 150 * 1024;

/** A file from the phone: inline in the message, as the control API takes media. */
async function sendPhoneFile(form) {
  const file = $("#phone-file").files[0];
  if (file.size > PHONE_FILE_MAX_BYTES) {
    throw new ApiFailure(0, [{ title: "File too large", details:
      `${file.name} has ${file.size} bytes; the page sends up to ${PHONE_FILE_MAX_BYTES} (larger `
      + "ones through the control API's POST /control/media)" }]);
  }
  const type = ["image", "video", "audio"].find((kind) => file.type.startsWith(`${kind}/`)) || "document";
  const media = { mime_type: file.type || "application/octet-stream", data_b64: await base64Of(file) };
  const caption = $("#phone-file-caption").value.trim();
  if (caption && type !== "audio") {
    media.caption = caption;
  }
  if (type === "document") {
    media.filename = file.name;
  }
  await phoneSend({ type, [type]: media });
  form.reset();
}

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The customer reacts to one of the business's messages. */
function reactButtons(entry) {
  const box = element("div", undefined, "reactions");
  ["👍", "❤️"].forEach((emoji) => {
    const button = element("button", emoji, "react");
    button.type = "button";
    button.setAttribute("aria-label", `React with ${emoji}`);
    button.addEventListener("click", () => busy($("#phone-chat"), () => phoneSend({
      type: "reaction", reaction: { message_id: entry.id, emoji } })));
    box.append(button);
  });
  return box;
}

// ---- the chat ------------------------------------------------------------------------------------

function drawChat(phone) {
  const drawn = JSON.stringify([phone.received, phone.sent, phone.undelivered, phone.profile,
    phone.held, phone.read_receipts]);
  if (drawn === phones.drawnChat) {
    return;
  }
  phones.drawnChat = drawn;
  $("#phone-title").textContent = `+${phone.wa_id} · ${phone.name}`;
  // Only when the network's profile changed: a redraw for new ticks must not undo a choice
  // made in the list but not yet switched.
  if (phone.profile !== phones.shownProfile) {
    $("#phone-profile").value = phone.profile;
    phones.shownProfile = phone.profile;
  }
  const byId = new Map();
  const entries = [];
  (phone.received || []).forEach((m) => entries.push({ ...m, mine: false }));
  (phone.sent || []).forEach((m) => entries.push({ ...m, mine: true }));
  (phone.undelivered || []).forEach((m) => entries.push({ ...m, mine: false, undelivered: true }));
  entries.forEach((m) => {
    byId.set(m.id, m);
    if (!phoneSeen.has(m.id)) {
      phoneSeen.set(m.id, phoneSeen.size);
    }
  });
  entries.sort((a, b) => a.timestamp - b.timestamp || phoneSeen.get(a.id) - phoneSeen.get(b.id));
  const list = $("#phone-messages");
  list.replaceChildren();
  if (!entries.length) {
    list.append(element("li", "No messages yet.", "hint"));
  }
  // The customer's own ticks: the business read it (PUT /v1/messages/{id}), or not yet.
  const readByBusiness = new Set(phone.read_receipts || []);
  entries.filter((m) => m.mine).forEach((m) => { m.status = readByBusiness.has(m.id) ? "read" : "sent"; });
  entries.forEach((m) => list.append(bubble(m, byId)));
  const held = (phone.held || []).length;
  $("#phone-held").textContent = held ? `${held} message(s) held by the network while the phone is off.` : "";
}

function bubble(entry, byId) {
  const side = entry.mine ? "bubble-mine" : "bubble-business";
  const item = element("li", undefined, `bubble ${side}${entry.undelivered ? " bubble-undelivered" : ""}`);
  item.dataset.id = entry.id;
  item.dataset.type = entry.type;
  const message = entry.message || {};
  const context = message.context;
  const quotedId = context && (context.message_id || context.id);
  if (quotedId && message.type !== "reaction") {
    const quoted = byId.get(quotedId);
    item.append(element("blockquote", quoted ? summary(quoted.message || {}) : "a message", "quote"));
  }
  if (entry.undelivered) {
    // The phone never showed it: what it was, for the business's side of the story.
    item.append(element("p", "Not on the phone:", "hint"), element("p", summary(message), "bubble-text"));
  } else {
    item.append(entry.mine ? mineContent(message) : businessContent(entry, message, byId));
  }
  const when = new Date(Number(entry.timestamp) * 1000).toLocaleTimeString();
  const meta = element("div", when, "bubble-meta");
  meta.append(element("span", ` ${TICKS[entry.status] || entry.status}`, `ticks ticks-${entry.status}`));
  item.append(meta);
  if (entry.error) {
    item.append(element("p", describeError(entry.error), "status-error"));
  }
  if (!entry.mine && !entry.undelivered && message.type !== "reaction") {
    item.append(reactButtons(entry));
  }
  return item;
}

/** The ticks a business message shows, by its status. */
const TICKS = { sent: "✓ sent", delivered: "✓✓ delivered", read: "✓✓ read", failed: "failed" };

/** One line for a quote or a reaction's target. */
function summary(message) {
  const object = message[message.type] || {};
  switch (message.type) {
    case "text": return object.body || "";
    case "button": return object.text || "";
    case "interactive": {
      const reply = object.button_reply || object.list_reply;
      return reply ? reply.title : ((object.body || {}).text || "interactive");
    }
    case "template": case "hsm": return message.rendered || "template";
    case "location":
      return `Location: ${object.name || `${object.latitude}, ${object.longitude}`}`;
    case "contacts": {
      const first = (message.contacts || [])[0] || {};
      return `Contact: ${(first.name || {}).formatted_name || "a contact"}`;
    }
    default: return object.caption || message.type || "message";
  }
}

/** What the customer sent, as their phone shows it. */
function mineContent(message) {
  const object = message[message.type] || {};
  if (message.type === "reaction") {
    return element("p", `Reacted ${object.emoji || ""}`);
  }
  const box = element("div");
  box.append(element("p", summary(message), "bubble-text"));
  if (message.type === "interactive" && object.list_reply && object.list_reply.description) {
    box.append(element("p", object.list_reply.description, "hint"));
  }
  return box;
}

/** A business message by type: what a phone shows of it. */
function businessContent(entry, message, byId) {
  const object = message[message.type] || {};
  const box = element("div");
  const reply = (answer) => {
    answer.context = { from: entry.business, id: entry.id };
    return () => busy($("#page-phones"), () => phoneSend(answer));
  };
  switch (message.type) {
    case "text":
      box.append(element("p", object.body || "", "bubble-text"));
      break;
    case "image": case "sticker":
      box.append(mediaImage(object, message.type));
      break;
    case "video": case "audio": case "document":
      box.append(mediaLink(object, message.type));
      break;
    case "location":
      box.append(locationContent(object));
      break;
    case "contacts":
      (message.contacts || []).forEach((c) => box.append(contactCard(c)));
      break;
    case "template": case "hsm":
      box.append(templateContent(message, reply));
      break;
    case "interactive":
      box.append(interactiveContent(object, reply));
      break;
    case "reaction":
      box.append(element("p", `Reacted ${object.emoji || ""} to “${reactionTarget(object, byId)}”`));
      break;
    default:
      box.append(element("p", `(${message.type})`, "hint"));
  }
  if (object.caption) {
    box.append(element("p", object.caption, "bubble-text"));
  }
  return box;
}

function reactionTarget(reaction, byId) {
  const target = byId.get(reaction.message_id);
  return target ? summary(target.message || {}) : "a message";
}

/** The file behind a media id, fetched with the token; its object URL once loaded. */
async function mediaUrl(id) {
  if (!phoneMedia.has(id)) {
    const blob = await api("GET", `/console/media/${encodeURIComponent(id)}`, { blob: true });
    phoneMedia.set(id, URL.createObjectURL(blob));
  }
  return phoneMedia.get(id);
}

function mediaImage(object, kind) {
  const img = element("img", undefined, "bubble-image");
  img.alt = object.caption || (kind === "sticker" ? "Sticker" : "Image");
  if (object.id) {
    mediaUrl(object.id).then((url) => { img.src = url; }).catch(() => { img.alt += " (not available)"; });
  }
  return img;
}

function mediaLink(object, kind) {
  const name = object.filename || `${kind}${object.mime_type ? ` (${object.mime_type})` : ""}`;
  const link = element("a", `Download ${kind}: ${name}`, `media-link media-${kind}`);
  link.download = object.filename || kind;
  // A link without an address is not a link yet: it gets one when the file is here.
  if (object.id) {
    mediaUrl(object.id).then((url) => { link.href = url; }).catch(() => {
      link.textContent += " (not available)";
    });
  }
  return link;
}

/** A template's or interactive message's media header: the network's copy of the file. */
function headerMedia(kind, media) {
  if (kind === "image") {
    return mediaImage(media, kind);
  }
  if (kind === "video" || kind === "document") {
    return mediaLink(media, kind);
  }
  return element("p", `[${kind}]`, "bubble-header");
}

function locationContent(location) {
  const box = element("div", undefined, "location");
  box.append(element("p", [location.name, location.address].filter(Boolean).join(", ")
    || "Location", "bubble-text"));
  const link = element("a", `Location ${location.latitude}, ${location.longitude} on a map`);
  link.href = `https://www.openstreetmap.org/?mlat=${encodeURIComponent(location.latitude)}`
    + `&mlon=${encodeURIComponent(location.longitude)}`;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  box.append(link);
  return box;
}

function contactCard(contact) {
  const card = element("div", undefined, "contact-card");
  card.append(element("strong", `Contact: ${(contact.name || {}).formatted_name || "Contact"}`));
  (contact.phones || []).forEach((p) => card.append(element("div", `${p.type || "phone"}: ${p.phone}`)));
  (contact.emails || []).forEach((e) => card.append(element("div", `${e.type || "email"}: ${e.email}`)));
  return card;
}

function templateContent(message, reply) {
  const layout = message.rendered_template;
  const box = element("div", undefined, "template");
  if (!layout) {
    box.append(element("p", message.rendered || "(template)", "bubble-text"));
    return box;
  }
  if (layout.header) {
    if (layout.header.format === "TEXT") {
      box.append(element("p", layout.header.text, "bubble-header"));
    } else {
      box.append(headerMedia(layout.header.format.toLowerCase(), layout.header.media || {}));
    }
  }
  box.append(element("p", layout.body, "bubble-text"));
  if (layout.footer) {
    box.append(element("p", layout.footer, "bubble-footer"));
  }
  const buttons = element("div", undefined, "bubble-buttons");
  (layout.buttons || []).forEach((b) => {
    if (b.type === "QUICK_REPLY") {
      const button = element("button", b.text, "reply-button");
      button.type = "button";
      button.addEventListener("click", reply({ type: "button", button: { text: b.text, payload: b.payload } }));
      buttons.append(button);
    } else {
      const link = element("a", b.text, "reply-link");
      link.href = b.type === "URL" ? b.url : `tel:${b.phone_number}`;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      buttons.append(link);
    }
  });
  if (buttons.children.length) {
    box.append(buttons);
  }
  return box;
}

function interactiveContent(object, reply) {
  const box = element("div", undefined, "interactive");
  const header = object.header || {};
  if (header.type === "text") {
    box.append(element("p", header.text, "bubble-header"));
  } else if (header.type) {
    box.append(headerMedia(header.type, header[header.type] || {}));
  }
  box.append(element("p", (object.body || {}).text || "", "bubble-text"));
  if (object.footer) {
    box.append(element("p", object.footer.text, "bubble-footer"));
  }
  const action = object.action || {};
  const buttons = element("div", undefined, "bubble-buttons");
  if (object.type === "button") {
    (action.buttons || []).forEach(({ reply: r }) => {
      const button = element("button", r.title, "reply-button");
      button.type = "button";
      button.addEventListener("click", reply({ type: "interactive",
        interactive: { type: "button_reply", button_reply: { id: r.id, title: r.title } } }));
      buttons.append(button);
    });
  } else if (object.type === "list") {
    const group = element("div", undefined, "list-rows");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", action.button || "List");
    group.append(element("p", action.button || "List", "bubble-header"));
    (action.sections || []).forEach((section) => {
      if (section.title) {
        group.append(element("p", section.title, "hint"));
      }
      (section.rows || []).forEach((row) => {
        const button = element("button", row.title, "reply-button list-row");
        button.type = "button";
        if (row.description) {
          button.title = row.description;
          button.append(element("small", ` ${row.description}`));
        }
        const answer = { id: row.id, title: row.title };
        if (row.description) {
          answer.description = row.description;
        }
        button.addEventListener("click", reply({ type: "interactive",
          interactive: { type: "list_reply", list_reply: answer } }));
        group.append(button);
      });
    });
    buttons.append(group);
  } else if (object.type === "product" || object.type === "product_list") {
    const ids = action.product_retailer_id ? [action.product_retailer_id]
      : (action.sections || []).flatMap((s) => (s.product_items || []).map((p) => p.product_retailer_id));
    box.append(element("p", `Products: ${ids.join(", ")}`, "hint"));
  }
  if (buttons.children.length) {
    box.append(buttons);
  }
  return box;
}

// ---- the conversation's webhooks ------------------------------------------------------------------

/** The webhook inbox's new entries about the open consumer (from them, or statuses to them). */
async function pollPhoneHooks() {
  const answer = await api("GET", `/console/webhooks?after=${phones.lastSeq}`);
  phones.lastSeq = answer.last_seq || phones.lastSeq;
  const list = $("#phone-hooks");
  (answer.webhooks || []).filter((hook) => concerns(hook.body, phones.open))
    .forEach((hook) => list.prepend(phoneHookItem(hook)));
  $("#phone-hook-count").textContent = String(list.children.length);
}

/** A line per webhook, its body folded: the chat beside it stays in view. */
function phoneHookItem(hook) {
  const item = element("li", undefined, "webhook");
  const details = element("details");
  const when = new Date(Number(hook.received_at)).toLocaleTimeString();
  const head = element("summary", `${webhookSummary(hook.body)} at ${when}`);
  details.append(head, element("pre", JSON.stringify(hook.body, null, 2)));
  item.append(details);
  return item;
}

function concerns(body, waId) {
  if (!body || typeof body !== "object") {
    return false;
  }
  const some = (items, test) => Array.isArray(items) && items.some(test);
  return some(body.messages, (m) => m.from === waId)
    || some(body.statuses, (s) => s.recipient_id === waId)
    || some(body.contacts, (c) => c.wa_id === waId);
}
