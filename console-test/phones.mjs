// The console's Phones page, driven from console.test.mjs with its stack, page and helpers: a
// consumer started and writing from the phone, the business answering through POST /v1/messages
// with a template with quick replies and an interactive list, the phone tapping a button and
// picking a row, and the webhooks the business got for each; then every type the business can
// send, as the phone shows it, the ticks, the profile switch and the phone-width layout.

const PHONE = "447400900777";

export async function phonesSteps(t) {
  const { stack, page, step, expect, control, webappCall, waitForText, waitFor } = t;
  let auth = "";
  const send = async (message) => {
    const answer = await webappCall(stack, "POST", "/v1/messages", auth,
      { recipient_type: "individual", to: PHONE, ...message });
    expect(answer.status === 201, `POST /v1/messages: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.messages[0].id;
  };
  /** The simulator's inbox entry whose message from the phone matches `test`. */
  const inboxMessage = async (test) => {
    let found = null;
    await waitFor("the webhook of the phone's answer", async () => {
      const inbox = await control(stack, "GET", "/control/webhooks");
      found = inbox.webhooks.map((h) => h.body).flatMap((b) => (b && b.messages) || [])
        .find((m) => m.from === PHONE && test(m));
      return Boolean(found);
    });
    return found;
  };
  const bubble = (text) => page.locator("#phone-messages .bubble", { hasText: text });
  /** The business's plain text of the "every type" step, which the customer reacts to later. */
  let plainId = "";

  await step("Phones: a new consumer writes from the phone, its webhook is beside the chat", async () => {
    auth = `Bearer ${await page.evaluate(() => JSON.parse(sessionStorage.getItem("wa-console-session")).token)}`;
    const saved = await webappCall(stack, "PATCH", "/v1/settings/application", auth,
      { webhooks: { url: `${stack.control}/control/webhooks/phones` } });
    expect(saved.status === 200, `webhook URL: ${saved.status} ${JSON.stringify(saved.body)}`);
    await t.goTo(page, "phones", "Phones");
    await page.fill("#phone-new-wa-id", PHONE);
    await page.fill("#phone-new-name", "Pat Phone");
    await page.click("#phone-new-form button[type=submit]");
    await waitForText(page, "#phone-title", new RegExp(`\\+${PHONE} · Pat Phone`));
    await waitForText(page, "#phone-list", new RegExp(`\\+${PHONE}`));
    // Keyboard: the text box, Enter sends.
    await page.focus("#phone-text");
    await page.keyboard.type("Hello from the phone");
    await page.keyboard.press("Enter");
    await bubble("Hello from the phone").first().waitFor();
    await waitForText(page, "#phone-hooks", /Hello from the phone/);
    await waitForText(page, "#phone-hooks", new RegExp(`message from \\+${PHONE} \\(text\\)`));
    // The business reads it: the customer's ticks turn to read.
    const [inbound] = (await control(stack, "GET", `/control/consumers/${PHONE}`)).sent;
    const read = await webappCall(stack, "PUT", `/v1/messages/${inbound.id}`, auth, { status: "read" });
    expect(read.status === 200, `read: ${read.status} ${JSON.stringify(read.body)}`);
    await bubble("Hello from the phone").locator(".ticks-read").waitFor();
  });

  await step("Phones: a template's quick-reply button tapped on the phone reaches the business", async () => {
    const template = await control(stack, "POST", "/control/templates", {
      business: t.business, name: "phones_delivery", language: "en", category: "UTILITY",
      components: [
        { type: "HEADER", format: "TEXT", text: "Delivery {{1}}" },
        { type: "BODY", text: "Shall we deliver on {{1}}?" },
        { type: "FOOTER", text: "Console Shop" },
        { type: "BUTTONS", buttons: [{ type: "QUICK_REPLY", text: "Yes please" },
          { type: "QUICK_REPLY", text: "Not now" },
          { type: "URL", text: "Track", url: "https://shop.example.com/t/{{1}}" }] },
      ],
    });
    await send({ type: "template", template: {
      namespace: template.namespace, name: "phones_delivery",
      language: { policy: "deterministic", code: "en" },
      components: [
        { type: "header", parameters: [{ type: "text", text: "#42" }] },
        { type: "body", parameters: [{ type: "text", text: "Tuesday" }] },
        { type: "button", sub_type: "quick_reply", index: "0", parameters: [{ type: "payload", payload: "deliver-42" }] },
        { type: "button", sub_type: "url", index: "2", parameters: [{ type: "text", text: "42" }] },
      ] } });
    const shown = bubble("Shall we deliver on Tuesday?");
    await shown.waitFor();
    const text = await shown.innerText();
    expect(/Delivery #42/.test(text) && /Console Shop/.test(text), `header and footer: ${text}`);
    expect(await shown.locator("a", { hasText: "Track" }).getAttribute("href") === "https://shop.example.com/t/42",
      "the URL button's link");
    await shown.locator("button", { hasText: "Yes please" }).click();
    const answer = await inboxMessage((m) => m.type === "button");
    expect(answer.button.payload === "deliver-42" && answer.button.text === "Yes please",
      `button webhook: ${JSON.stringify(answer)}`);
    expect(answer.context && answer.context.from === t.business, `quoted: ${JSON.stringify(answer)}`);
    await waitForText(page, "#phone-hooks", /message from \+\d+ \(button\)/);
  });

  await step("Phones: a row picked from an interactive list reaches the business", async () => {
    await send({ type: "interactive", interactive: {
      type: "list", header: { type: "text", text: "Delivery slots" }, body: { text: "Pick a slot" },
      footer: { text: "Times are local" },
      action: { button: "Slots", sections: [{ title: "Tuesday", rows: [
        { id: "tue-am", title: "Morning", description: "8 to 12" },
        { id: "tue-pm", title: "Afternoon", description: "12 to 18" }] }] } } });
    const shown = bubble("Pick a slot");
    await shown.waitFor();
    // Keyboard: the row is a real button.
    await shown.locator("button", { hasText: "Afternoon" }).focus();
    await page.keyboard.press("Enter");
    const answer = await inboxMessage((m) => m.type === "interactive" && m.interactive.type === "list_reply");
    expect(answer.interactive.list_reply.id === "tue-pm", `list reply: ${JSON.stringify(answer)}`);
    // The chat keeps the order things happened in, though they share a second. Polled: the
    // page shows the reply at its next refresh, and a refresh may be under way when read.
    const patterns = [/^Delivery #42\s+Shall we/, /Console Shop\s+Yes please\s+\d/, /^Delivery slots/,
      /^Pick a slot\s+Afternoon/];
    let order = [];
    try {
      await waitFor("the reply in the chat, in order", async () => {
        order = await page.$$eval("#phone-messages .bubble", (nodes) => nodes.map((n) => n.innerText));
        const sequence = patterns.map((pattern) => order.findIndex((text) => pattern.test(text)));
        return sequence.every((n, i) => n >= 0 && (i === 0 || n > sequence[i - 1]));
      });
    } catch (err) {
      throw new Error(`${err.message}: ${JSON.stringify(order)}`);
    }
  });

  await step("Phones: every type the business sends, as the phone shows it, with ticks", async () => {
    const upload = async (type, bytes) => {
      const answer = await webappCall(stack, "POST", "/v1/media", auth, bytes, type);
      expect(answer.status === 201, `upload ${type}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body.media[0].id;
    };
    // The top of the page: the green header, so the picture on the phone is visibly one.
    await page.evaluate(() => window.scrollTo(0, 0));
    const png = await page.screenshot({ clip: { x: 0, y: 0, width: 64, height: 48 } });
    const imageId = await upload("image/png", png);
    const documentId = await upload("application/pdf", Buffer.from("%PDF-1.4\n% console test\n%%EOF\n"));
    const audioId = await upload("audio/mpeg", Buffer.from("ID3 console test audio"));
    const videoId = await upload("video/mp4", Buffer.from("\0\0\0\x18ftypmp42 console test video", "latin1"));
    // A static 512 x 512 WebP sticker, drawn and encoded by the browser itself.
    const webp = await page.evaluate(() => {
      const canvas = document.createElement("canvas");
      canvas.width = 512;
      canvas.height = 512;
      const g = canvas.getContext("2d");
      g.fillStyle = "#075e54";
      g.beginPath();
      g.arc(256, 256, 220, 0, 2 * Math.PI);
      g.fill();
      g.fillStyle = "#ffffff";
      g.font = "bold 180px sans-serif";
      g.textAlign = "center";
      g.textBaseline = "middle";
      g.fillText("OK", 256, 266);
      return canvas.toDataURL("image/webp").split(",")[1];
    });
    const stickerId = await upload("image/webp", Buffer.from(webp, "base64"));
    // A catalog of the business: one product it may send, one that fails compliance.
    await control(stack, "PUT", "/control/catalogs/777000", { name: "Console Shop",
      linked_numbers: [`+${t.business}`], products: [{ product_retailer_id: "MUG-1" },
        { product_retailer_id: "KNIFE-2", compliant: false }] });
    const inbound = (await control(stack, "GET", `/control/consumers/${PHONE}`)).sent[0].id;
    plainId = await send({ type: "text", text: { body: "Plain text from the shop" } });
    await send({ type: "image", image: { id: imageId, caption: "Your parcel" } });
    await send({ type: "document", document: { id: documentId, filename: "invoice-42.pdf" } });
    await send({ type: "audio", audio: { id: audioId } });
    await send({ type: "location", location: { latitude: 53.8, longitude: -1.55, name: "Leeds depot", address: "1 Depot Road" } });
    await send({ type: "contacts", contacts: [{ name: { formatted_name: "Sam Courier", first_name: "Sam" },
      phones: [{ phone: "+44 7400 900555", type: "CELL" }] }] });
    await send({ type: "interactive", interactive: { type: "button", body: { text: "Was it on time?" },
      action: { buttons: [{ type: "reply", reply: { id: "on-time", title: "On time" } },
        { type: "reply", reply: { id: "late", title: "Late" } }] } } });
    // A seeded template with an image header (the network keeps its own copy of the file).
    const namespace = (await control(stack, "GET", "/control/templates")).templates
      .find((x) => x.business === t.business).namespace;
    await send({ type: "template", template: { namespace, name: "shipping_photo",
      language: { policy: "deterministic", code: "en" },
      components: [{ type: "header", parameters: [{ type: "image", image: { id: imageId } }] }] } });
    await send({ type: "video", video: { id: videoId, caption: "How to unpack" } });
    await send({ type: "sticker", sticker: { id: stickerId } });
    await send({ type: "interactive", interactive: { type: "product", body: { text: "Our mug" },
      action: { catalog_id: "777000", product_retailer_id: "MUG-1" } } });
    await send({ type: "interactive", interactive: { type: "product_list",
      header: { type: "text", text: "Kitchen picks" }, body: { text: "Pick one" },
      action: { catalog_id: "777000", sections: [{ title: "Kitchen",
        product_items: [{ product_retailer_id: "MUG-1" }, { product_retailer_id: "KNIFE-2" }] }] } } });
    await send({ type: "reaction", reaction: { message_id: inbound, emoji: "👍" } });
    await send({ type: "text", text: { body: "Quoting you" }, context: { message_id: inbound } });

    await bubble("Quoting you").waitFor();
    const quote = await bubble("Quoting you").locator("blockquote").innerText();
    expect(quote === "Hello from the phone", `the quoted message: ${quote}`);
    await bubble("Plain text from the shop").waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll("#phone-messages img")]
      .some((img) => img.complete && img.naturalWidth === 64 && img.alt === "Your parcel"));
    await bubble("Your parcel was delivered.").waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll("#phone-messages .bubble")]
      .filter((b) => /Your parcel was delivered\./.test(b.textContent))
      .some((b) => [...b.querySelectorAll("img")].some((img) => img.complete && img.naturalWidth === 64)));
    await page.waitForFunction(() => {
      const link = document.querySelector("#phone-messages a.media-document");
      return link && link.href.startsWith("blob:") && /invoice-42\.pdf/.test(link.textContent);
    });
    await page.waitForFunction(() => {
      const link = document.querySelector("#phone-messages a.media-audio");
      return link && link.href.startsWith("blob:");
    });
    await page.waitForFunction(() => {
      const link = document.querySelector("#phone-messages a.media-video");
      return link && link.href.startsWith("blob:");
    });
    await bubble("How to unpack").waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll("#phone-messages img[alt=Sticker]")]
      .some((img) => img.complete && img.naturalWidth === 512));
    expect(/Products: MUG-1/.test(await bubble("Our mug").innerText()), "the product message");
    // The phone got the list without the product that failed compliance.
    const list = await bubble("Pick one").innerText();
    expect(/Kitchen picks/.test(list) && /Products: MUG-1/.test(list) && !/KNIFE-2/.test(list),
      `the product list as the phone got it: ${list}`);
    await bubble("Leeds depot, 1 Depot Road").waitFor();
    expect(await bubble("Leeds depot").locator("a").getAttribute("href")
      === "https://www.openstreetmap.org/?mlat=53.8&mlon=-1.55", "the location's map link");
    expect(/Contact: Sam Courier\s+CELL: \+44 7400 900555/.test(await bubble("Sam Courier").innerText()),
      "the contact card");
    await waitForText(page, "#phone-messages", /Reacted 👍 to “Hello from the phone”/);
    const buttons = bubble("Was it on time?");
    expect(await buttons.locator("button:not(.react)").count() === 2, "two reply buttons");
    await buttons.locator("button", { hasText: "On time" }).click();
    const answer = await inboxMessage((m) => m.type === "interactive" && m.interactive.type === "button_reply");
    expect(answer.interactive.button_reply.id === "on-time", `button reply: ${JSON.stringify(answer)}`);
    // Ticks: every business message is delivered; reading follows (92% of them by default).
    await page.waitForFunction(() => document.querySelectorAll("#phone-messages .bubble-business .ticks").length >= 16);
    await page.locator("#phone-messages .ticks-read").first().waitFor();
    await t.screenshot(page, "phones");
  });

  await step("Phones: the customer shares a location, a contact and a photo, and reacts", async () => {
    await page.click("#phone-more summary");
    await page.fill("#phone-latitude", "51.5");
    await page.fill("#phone-longitude", "-0.12");
    await page.fill("#phone-place", "Home");
    await page.focus("#phone-place");
    await page.keyboard.press("Enter");
    const location = await inboxMessage((m) => m.type === "location");
    expect(location.location.latitude === 51.5 && location.location.name === "Home",
      `location: ${JSON.stringify(location)}`);
    await page.fill("#phone-contact-name", "Alex Neighbour");
    await page.fill("#phone-contact-number", "+44 7400 900111");
    await page.click("#phone-contact-form button[type=submit]");
    const contact = await inboxMessage((m) => m.type === "contacts");
    expect(contact.contacts[0].name.formatted_name === "Alex Neighbour"
      && contact.contacts[0].phones[0].phone === "+44 7400 900111", `contact: ${JSON.stringify(contact)}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    const png = await page.screenshot({ clip: { x: 0, y: 0, width: 32, height: 32 } });
    await page.setInputFiles("#phone-file", { name: "receipt.png", mimeType: "image/png", buffer: png });
    await page.fill("#phone-file-caption", "My receipt");
    await page.click("#phone-file-form button[type=submit]");
    const image = await inboxMessage((m) => m.type === "image");
    expect(image.image.caption === "My receipt" && image.image.mime_type === "image/png",
      `photo: ${JSON.stringify(image)}`);
    await bubble("My receipt").waitFor();
    // A reaction to the business's text, with the keyboard.
    await bubble("Plain text from the shop").locator("button[aria-label='React with 👍']").focus();
    await page.keyboard.press("Enter");
    const reaction = await inboxMessage((m) => m.type === "reaction");
    expect(reaction.reaction.emoji === "👍" && reaction.reaction.message_id === plainId,
      `reaction: ${JSON.stringify(reaction)} to ${plainId}`);
  });

  await step("Phones: the profile switch, and the page at phone width", async () => {
    await page.selectOption("#phone-profile", "no_read_receipts");
    await page.click("#phone-profile-form button[type=submit]");
    await waitForText(page, "#phone-profile-form .result", /Profile: no read receipts/);
    expect((await control(stack, "GET", `/control/consumers/${PHONE}`)).profile === "no_read_receipts",
      "the network has the new profile");
    await waitForText(page, "#phone-list", /no read receipts/);
    // A phone whose app is too old: the business's text fails, shown with the code.
    await page.selectOption("#phone-profile", "old_app");
    await page.click("#phone-profile-form button[type=submit]");
    await waitForText(page, "#phone-profile-form .result", /Profile: old app/);
    await send({ type: "text", text: { body: "This one will fail" } });
    const failed = bubble("This one will fail");
    await failed.locator(".ticks-failed").waitFor();
    expect(/Not on the phone/.test(await failed.innerText()), "marked as not on the phone");
    expect(/Error 1026/.test(await failed.locator(".status-error").innerText()), "the failure's code");
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(!overflow, "no horizontal scrolling at phone width");
    // The end of the chat: the failed message and the text box.
    await page.locator("#phone-reply-form").scrollIntoViewIfNeeded();
    await page.screenshot({ path: t.shotPath("phone-phones") });
    await page.setViewportSize({ width: 1280, height: 800 });
  });
}
