// The sandbox page: act as anyone in the policy and see what Greenlight shows them.
// State comes from the sandbox server (JSON); changes arrive as server-sent events.

import { newForm, renderBlocks, textObject } from "./blockkit.js";

const $ = (id) => document.getElementById(id);
const TABS = ["messages", "home", "mail", "erp", "crm"];

const state = {
  meta: null,
  people: [],
  byKey: new Map(),
  names: new Map(),
  person: null,
  tab: "messages",
  view: null,
  mail: null,
  erp: null,
  crm: null,
  expanded: new Set(),
  dismissed: new Set(),
  nodes: new Map(),
  offset: 0,
  modalKey: null,
  refreshing: false,
  dirty: false,
  lastCount: 0,
};

function el(tag, className, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

function buttonNode(label, className, onClick) {
  const node = el("button", className, [label]);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

async function api(path, body) {
  const options =
    body === undefined
      ? { headers: { Accept: "application/json" } }
      : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new Error(data?.error ?? `${response.status} ${response.statusText}`);
  }
  return data;
}

let toastTimer = null;
function toast(message) {
  const node = $("toast");
  node.textContent = message;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.hidden = true;
  }, 6000);
}

// ---------------------------------------------------------------- who, where

function personLabel(person) {
  const roles = person.roles.length ? person.roles.join(", ") : "colleague";
  return `${person.name} · ${roles}${person.slack_id ? "" : " · email only"}`;
}

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { person: params.get("person"), tab: params.get("tab") };
}

function writeHash() {
  const params = new URLSearchParams({ person: state.person, tab: state.tab });
  history.replaceState(null, "", `#${params}`);
}

function current() {
  return state.byKey.get(state.person);
}

function zoneOf(person) {
  return person?.timezone || "UTC";
}

function timeOf(item) {
  const ms = item.shown_at ? Date.parse(item.shown_at) : parseFloat(item.ts) * 1000 + state.offset;
  try {
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: zoneOf(current()) }).format(
      new Date(ms),
    );
  } catch {
    return new Date(ms).toISOString().slice(11, 16);
  }
}

function setPerson(key) {
  if (!state.byKey.has(key) || key === state.person) return;
  state.person = key;
  state.view = null;
  state.nodes.clear();
  state.modalKey = null;
  state.lastCount = 0;
  $("person").value = key;
  $("language").value = current()?.language ?? "en";
  for (const item of document.querySelectorAll("#people [data-person]")) {
    item.setAttribute("aria-current", String(item.dataset.person === key));
  }
  $("modal-root").replaceChildren();
  writeHash();
  render();
  if (state.tab === "home") openHome();
  refresh();
}

function setTab(tab) {
  if (!TABS.includes(tab)) tab = "messages";
  state.tab = tab;
  for (const name of TABS) {
    const selected = name === tab;
    $(`tab-${name}`).setAttribute("aria-selected", String(selected));
    $(`tab-${name}`).tabIndex = selected ? 0 : -1;
    $(`panel-${name}`).hidden = !selected;
  }
  writeHash();
  if (tab === "home") openHome();
  refresh();
}

async function openHome() {
  const person = current();
  if (!person?.slack_id) return;
  try {
    await api(`/api/people/${encodeURIComponent(person.key)}/home`, {});
  } catch (error) {
    toast(error.message);
  }
}

// ---------------------------------------------------------------- fetching

async function refresh() {
  if (!state.person) return;
  if (state.refreshing) {
    state.dirty = true;
    return;
  }
  state.refreshing = true;
  try {
    do {
      state.dirty = false;
      const person = state.person;
      const tab = state.tab;
      const extra = { mail: "/api/mail", erp: "/api/erp", crm: "/api/crm" }[tab];
      const [view, more] = await Promise.all([
        api(`/api/people/${encodeURIComponent(person)}`),
        extra ? api(extra) : Promise.resolve(null),
      ]);
      if (person !== state.person) {
        state.dirty = true;
        continue;
      }
      state.view = view;
      if (tab === "mail") state.mail = more;
      if (tab === "erp") state.erp = more;
      if (tab === "crm") state.crm = more;
      render();
    } while (state.dirty);
  } catch (error) {
    toast(`The sandbox could not be read: ${error.message}`);
  } finally {
    state.refreshing = false;
  }
}

// ---------------------------------------------------------------- acting

function ctxFor(surface) {
  return {
    names: state.names,
    people: state.people,
    act: (element, blockId, selection) =>
      act({ ...surface, action_id: element.action_id, block_id: blockId, selection }),
  };
}

async function act(body) {
  try {
    await api(`/api/people/${encodeURIComponent(state.person)}/act`, body);
  } catch (error) {
    toast(error.message);
  }
}

async function sendCommand(event) {
  event.preventDefault();
  const input = $("command");
  const text = input.value.trim();
  if (!text) return;
  const send = $("send");
  send.disabled = true;
  try {
    await api(`/api/people/${encodeURIComponent(state.person)}/command`, { text });
    input.value = "";
  } catch (error) {
    toast(error.message);
  } finally {
    send.disabled = false;
  }
}

// ---------------------------------------------------------------- messages

function messageNode(item, isReply = false) {
  const ephemeral = item.kind === "ephemeral";
  const article = el("article", `msg${ephemeral ? " ephemeral" : ""}${isReply ? " reply" : ""}`);
  article.dataset.ts = item.ts;
  const avatar = el("div", "avatar", ["G"]);
  avatar.setAttribute("aria-hidden", "true");
  const meta = el("div", "msg-meta", [
    el("strong", "msg-author", [state.meta?.bot?.name ?? "Greenlight"]),
    el("span", "app-badge", ["APP"]),
    el("time", "msg-time", [timeOf(item)]),
    item.edited ? el("span", "edited", ["(edited)"]) : null,
  ]);
  if (ephemeral) {
    meta.append(el("span", "only-you", ["Only visible to you"]));
    meta.append(
      buttonNode("Dismiss", "link-button", () => {
        state.dismissed.add(item.ts);
        renderStream();
      }),
    );
  }
  const surface = ephemeral
    ? { surface: "ephemeral", ts: item.ts, channel: item.channel }
    : { surface: "message", ts: item.ts, channel: item.channel };
  const content = el("div", "msg-content");
  if (item.blocks?.length) content.append(renderBlocks(item.blocks, ctxFor(surface)));
  else content.append(textObject({ type: "mrkdwn", text: item.text }, { names: state.names }));
  const body = el("div", "msg-body", [meta, content]);
  const replies = item.replies ?? [];
  if (replies.length) {
    const open = state.expanded.has(item.ts);
    const toggle = buttonNode(`${replies.length} ${replies.length === 1 ? "reply" : "replies"}`, "replies", () => {
      if (state.expanded.has(item.ts)) state.expanded.delete(item.ts);
      else state.expanded.add(item.ts);
      renderStream();
    });
    toggle.setAttribute("aria-expanded", String(open));
    body.append(toggle);
    if (open) {
      const thread = el("div", "thread");
      thread.setAttribute("aria-label", "Thread");
      for (const reply of replies) thread.append(messageNode(reply, true));
      body.append(thread);
    }
  }
  article.append(avatar, body);
  return article;
}

function renderStream() {
  const stream = $("stream");
  const person = current();
  if (!person) return;
  if (!person.slack_id) {
    stream.replaceChildren(
      el("p", "empty", [
        `${person.name} is not on Slack: Greenlight emails ${person.email ?? "them"} instead. Open the Mail tab.`,
      ]),
    );
    return;
  }
  const view = state.view;
  if (!view) {
    stream.replaceChildren(el("p", "empty", ["Loading…"]));
    return;
  }
  const nearBottom = stream.scrollHeight - stream.scrollTop - stream.clientHeight < 80;
  const items = view.timeline.filter((m) => !(m.kind === "ephemeral" && state.dismissed.has(m.ts)));
  const nodes = [];
  const seen = new Map();
  for (const item of items) {
    const key = `${item.kind}:${item.ts}`;
    const sig = JSON.stringify(item) + (state.expanded.has(item.ts) ? "+" : "-") + state.person;
    const known = state.nodes.get(key);
    const node = known && known.sig === sig ? known.node : messageNode(item);
    seen.set(key, { sig, node });
    nodes.push(node);
  }
  state.nodes = seen;
  if (!nodes.length) {
    nodes.push(
      el("p", "empty", [
        `This is ${person.name}'s direct message with Greenlight. Type /deal help below to start.`,
      ]),
    );
  }
  stream.replaceChildren(...nodes);
  if (nearBottom || items.length > state.lastCount) stream.scrollTop = stream.scrollHeight;
  state.lastCount = items.length;
}

// ---------------------------------------------------------------- App Home

function renderHome() {
  const panel = $("home");
  const person = current();
  if (!person) return;
  if (!person.slack_id) {
    delete panel.dataset.key;
    panel.replaceChildren(el("p", "empty", [`${person.name} is not on Slack.`]));
    return;
  }
  const home = state.view?.home;
  if (!home) {
    delete panel.dataset.key;
    panel.replaceChildren(el("p", "empty", ["Opening the App Home…"]));
    return;
  }
  const key = `${home.id}:${home.hash}`;
  if (panel.dataset.key === key) return;
  panel.dataset.key = key;
  panel.replaceChildren(renderBlocks(home.blocks, ctxFor({ surface: "view", view_id: home.id })));
}

// ---------------------------------------------------------------- modals

function renderModal() {
  const root = $("modal-root");
  const modals = state.view?.modals ?? [];
  const top = modals[modals.length - 1];
  const key = top ? `${state.person}:${top.id}:${top.hash}` : null;
  if (key === state.modalKey) return;
  state.modalKey = key;
  root.replaceChildren();
  if (!top) return;
  const form = newForm();
  const titleId = `modal-title-${top.id}`;
  const closeView = async () => {
    try {
      await api(`/api/people/${encodeURIComponent(state.person)}/close`, { view_id: top.id });
    } catch (error) {
      toast(error.message);
    }
  };
  const title = el("h2", "modal-title", [top.title?.text ?? "Greenlight"]);
  title.id = titleId;
  const close = buttonNode("×", "modal-x", closeView);
  close.setAttribute("aria-label", "Close");
  const general = el("div", "modal-error");
  general.setAttribute("role", "alert");
  general.hidden = true;
  const ctx = { ...ctxFor({ surface: "view", view_id: top.id }), form };
  const body = el("div", "modal-body", [renderBlocks(top.blocks, ctx), general]);
  const footer = el("div", "modal-footer", [
    buttonNode(top.close?.text ?? "Cancel", "bk-button", closeView),
  ]);
  const formNode = el("form", "modal-form", [body, footer]);
  formNode.noValidate = true;
  if (top.submit) {
    const submit = el("button", "bk-button primary", [top.submit.text]);
    submit.type = "submit";
    footer.append(submit);
    formNode.addEventListener("submit", async (event) => {
      event.preventDefault();
      general.hidden = true;
      if (!form.check()) return;
      submit.disabled = true;
      try {
        const answer = await api(`/api/people/${encodeURIComponent(state.person)}/submit`, {
          view_id: top.id,
          values: form.values(),
        });
        if (answer.errors) {
          form.showErrors(answer.errors);
          const known = new Set(form.inputs.map((i) => i.blockId));
          const others = Object.entries(answer.errors).filter(([block]) => !known.has(block));
          if (others.length) {
            general.textContent = others.map(([, message]) => message).join(" ");
            general.hidden = false;
          }
        }
      } catch (error) {
        general.textContent = error.message;
        general.hidden = false;
      } finally {
        submit.disabled = false;
      }
    });
  } else {
    formNode.addEventListener("submit", (event) => event.preventDefault());
  }
  const dialog = el("div", "modal", [el("div", "modal-head", [title, close]), formNode]);
  dialog.setAttribute("role", "dialog");
  dialog.setAttribute("aria-modal", "true");
  dialog.setAttribute("aria-labelledby", titleId);
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeView();
  });
  root.append(el("div", "modal-backdrop", [dialog]));
  const first = dialog.querySelector("[autofocus]") ?? dialog.querySelector("input, textarea, select");
  first?.focus();
}

// ---------------------------------------------------------------- mail

// Re-rendering a panel whose data did not change would close what the person opened in it.
function unchanged(panel, data) {
  const sig = `${state.person}|${JSON.stringify(data)}`;
  if (panel.dataset.sig === sig) return true;
  panel.dataset.sig = sig;
  return false;
}

function renderMail() {
  const panel = $("mail");
  const messages = state.mail?.messages;
  if (messages && unchanged(panel, messages.map((m) => m.id))) return;
  if (!messages) {
    delete panel.dataset.sig;
    panel.replaceChildren(el("p", "empty", ["Loading…"]));
    return;
  }
  if (!messages.length) {
    panel.replaceChildren(
      el("p", "empty", [
        "No email yet. Greenlight emails people who are not on Slack (Farah Siddiqui), and anyone Slack cannot reach.",
      ]),
    );
    return;
  }
  const mine = current()?.email?.toLowerCase();
  const known = new Map([...panel.querySelectorAll("article.mail")].map((card) => [card.dataset.mailId, card]));
  const cards = messages.map((mail) => {
    const existing = known.get(String(mail.id));
    if (existing) {
      existing.classList.toggle("mine", Boolean(mine && mail.to.some((a) => a.toLowerCase().includes(mine))));
      return existing;
    }
    const toMe = mine && mail.to.some((address) => address.toLowerCase().includes(mine));
    const card = el("article", `mail${toMe ? " mine" : ""}`);
    card.dataset.mailId = String(mail.id);
    const links = el("div", "mail-links");
    for (const link of mail.links) {
      if (!/^https?:\/\//i.test(link.url)) continue;
      const kind = /^(reject|refuser)/i.test(link.label) ? "danger" : /^(approve|approuver)/i.test(link.label) ? "primary" : "";
      const a = el("a", `bk-button ${kind}`.trim(), [link.label]);
      a.href = link.url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      links.append(a);
    }
    const details = el("details", "mail-details");
    details.append(el("summary", null, ["Show the email"]));
    const text = el("details", "mail-plain", [el("summary", null, ["Plain-text part"]), el("pre", "mail-text", [mail.text])]);
    details.addEventListener("toggle", () => {
      if (!details.open || details.querySelector("iframe")) return;
      if (mail.has_html) {
        const frame = el("iframe", "mail-frame");
        frame.setAttribute("sandbox", "allow-popups allow-popups-to-escape-sandbox");
        frame.setAttribute("referrerpolicy", "no-referrer");
        frame.title = `Email: ${mail.subject}`;
        frame.src = `/mail/${encodeURIComponent(mail.id)}`;
        details.insertBefore(frame, text);
      } else {
        text.open = true;
      }
    });
    details.append(text);
    card.append(
      el("h3", "mail-subject", [mail.subject]),
      el("div", "mail-meta", [`To ${mail.to.join(", ")}`, mail.date ? ` · ${dateText(mail.date)}` : ""]),
      links,
      details,
    );
    return card;
  });
  panel.replaceChildren(...cards);
}

// ---------------------------------------------------------------- ERP

function renderErp() {
  const panel = $("erp");
  const erp = state.erp;
  if (!erp) {
    delete panel.dataset.sig;
    panel.replaceChildren(el("p", "empty", ["Loading…"]));
    return;
  }
  if (unchanged(panel, erp)) return;
  const fail = buttonNode("Fail the next 3 deliveries (503)", "bk-button", async () => {
    try {
      await api("/api/erp", { fail_next: 3 });
    } catch (error) {
      toast(error.message);
    }
  });
  const refuse = el("input");
  refuse.type = "checkbox";
  refuse.id = "erp-refuse";
  refuse.checked = erp.refusing !== null;
  refuse.addEventListener("change", async () => {
    try {
      await api("/api/erp", { refuse: refuse.checked });
    } catch (error) {
      toast(error.message);
    }
  });
  const refuseLabel = el("label", "erp-refuse", [refuse, " Refuse every delivery (422)"]);
  const status = el("p", "erp-status", [
    erp.scripted_failures ? `The next ${erp.scripted_failures} deliveries will fail with 503. ` : "",
    erp.refusing !== null ? `Every delivery is refused with ${erp.refusing}.` : "",
  ]);
  const controls = el("div", "erp-controls", [fail, refuseLabel, status]);
  if (erp.scripted_failures || erp.refusing !== null) {
    controls.append(
      buttonNode("Stop failing", "bk-button", async () => {
        try {
          await api("/api/erp", { recover: true });
        } catch (error) {
          toast(error.message);
        }
      }),
    );
  }
  const received = erp.received.map((order) =>
    el("article", "erp-order", [
      el("h3", null, [`${order.number} · ${order.event}`]),
      el("div", "erp-facts", [
        `${order.quote} · ${order.account ?? ""} · delivery ${order.delivery_date} · ${order.ship_to ?? "-"} · ${order.total}`,
      ]),
      el("ul", "erp-lines", order.lines.map((line) => el("li", null, [line]))),
      el("div", "erp-reference", [
        `Reference ${order.reference ?? "-"} · accepted on attempt ${order.attempts}`,
      ]),
    ]),
  );
  const failing = erp.failing.map((item) =>
    el("li", null, [`${item.key}: ${item.attempts} attempt(s), last answer ${item.last_status ?? "none"}`]),
  );
  const parts = [
    controls,
    el("h2", "panel-title", [`Orders received (${erp.received.length})`]),
    ...(received.length
      ? received
      : [el("p", "empty", ["Nothing yet. Orders reach the ERP when they are released."])]),
  ];
  if (failing.length) parts.push(el("h2", "panel-title", ["Not accepted yet"]), el("ul", "erp-failing", failing));
  panel.replaceChildren(...parts);
}

// ---------------------------------------------------------------- CRM and clock

function renderCrm() {
  const panel = $("crm");
  const crm = state.crm;
  if (!crm) {
    delete panel.dataset.sig;
    panel.replaceChildren(el("p", "empty", ["Loading…"]));
    return;
  }
  if (unchanged(panel, [crm, state.meta?.clock?.now])) return;
  const cards = crm.quotes.map((quote) => {
    const send = buttonNode(`Send ${quote.id} v${quote.version}`, "bk-button", async () => {
      send.disabled = true;
      try {
        const answer = await api("/api/crm", { file: quote.file });
        if (answer.status !== 200) toast(answer.answer?.error ?? `The bot answered ${answer.status}`);
      } catch (error) {
        toast(error.message);
      } finally {
        send.disabled = false;
      }
    });
    const discount = quote.discount !== null && quote.discount !== undefined ? ` · ${quote.discount}% off` : "";
    return el("article", "crm-quote", [
      el("h3", null, [`${quote.id} v${quote.version} · ${quote.customer ?? ""}`]),
      el("div", "crm-facts", [`${quote.total}${discount} · owner ${quote.owner}`]),
      el("div", "crm-row", [send, el("span", "crm-sent", [quote.sent ?? "not sent"])]),
    ]);
  });
  const clock = state.meta?.clock;
  const clockSection = clock
    ? el("section", "clock-tools", [
        el("h2", "panel-title", ["Demo clock"]),
        el("p", null, [
          `The bot's time: ${clockText()}. Moving it forward fires reminders and escalations and releases due orders.`,
        ]),
        el(
          "div",
          "crm-row",
          [
            ["+1 hour", 1],
            ["+4 hours", 4],
            ["+1 day", 24],
            ["+1 week", 168],
          ].map(([label, hours]) =>
            buttonNode(label, "bk-button", async () => {
              try {
                const answer = await api("/api/clock", { hours });
                setClock(answer.clock);
              } catch (error) {
                toast(error.message);
              }
            }),
          ),
        ),
      ])
    : null;
  const parts = [
    el("h2", "panel-title", ["Quotes in the CRM"]),
    el("p", "panel-note", [
      "Each button sends the quote to Greenlight's API as the CRM does (signed). Version 1 of every quote was sent at start.",
    ]),
    ...cards,
  ];
  if (crm.salesforce) parts.push(salesforceSection(crm.salesforce));
  if (crm.webhooks) parts.push(webhookSection(crm.webhooks));
  if (clockSection) parts.push(clockSection);
  panel.replaceChildren(...parts);
}

function salesforceSection(records) {
  return el("section", "crm-webhooks", [
    el("h2", "panel-title", ["Salesforce CPQ quotes"]),
    el("p", "panel-note", [
      "Pulled every 10 s while In Review; Greenlight writes the outcome back to Greenlight_Status__c and Greenlight_Comment__c.",
    ]),
    ...records.map((r) =>
      el("article", "crm-quote", [
        el("h3", null, [`${r.name} · ${r.id}`]),
        el("div", "crm-facts", [`Greenlight_Status__c: ${r.status ?? "—"} · Greenlight_Comment__c: ${r.comment ?? "—"}`]),
      ]),
    ),
  ]);
}

function webhookSection(webhooks) {
  const rows = webhooks.map((hook) =>
    el("article", "crm-quote crm-webhook", [
      el("h3", null, [`${hook.type} · ${hook.quote} v${hook.version}`]),
      el("div", "crm-facts", [
        `status ${hook.status}${hook.comment ? ` · “${hook.comment}”` : ""} · ${hook.created_at ?? ""}`,
      ]),
      el("div", "crm-sent", [
        `signature checked · Idempotency-Key ${hook.key.slice(0, 12)}… · ${hook.attempts} attempt${hook.attempts === 1 ? "" : "s"}`,
      ]),
    ]),
  );
  return el("section", "crm-webhooks", [
    el("h2", "panel-title", ["Webhooks Greenlight sent the CRM"]),
    el("p", "panel-note", [
      "Every outcome arrives here, signed, in order per quote (newest first).",
    ]),
    ...(rows.length ? rows : [el("p", "empty", ["None yet: submit or decide a quote."])]),
  ]);
}

function dateText(iso) {
  try {
    return new Intl.DateTimeFormat("en-GB", {
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      timeZone: zoneOf(current()),
    }).format(new Date(iso));
  } catch {
    return iso;
  }
}

function setClock(clock) {
  if (!clock || !state.meta) return;
  state.meta.clock = clock;
  state.offset = Date.parse(clock.now) - Date.now();
  $("clock").textContent = clockText();
}

function clockText() {
  if (!state.meta?.clock) return "";
  const now = new Date(Date.now() + state.offset);
  try {
    return new Intl.DateTimeFormat("en-GB", {
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      timeZone: zoneOf(current()),
      timeZoneName: "short",
    }).format(now);
  } catch {
    return now.toISOString();
  }
}

// ---------------------------------------------------------------- the page

function render() {
  $("clock").textContent = clockText();
  if (state.tab === "messages") renderStream();
  if (state.tab === "home") renderHome();
  if (state.tab === "mail") renderMail();
  if (state.tab === "erp") renderErp();
  if (state.tab === "crm") renderCrm();
  renderModal();
}

function buildPeople() {
  const select = $("person");
  const nav = $("people");
  const groups = [
    ["Reps", (p) => p.roles.includes("rep")],
    ["Approvers", (p) => !p.roles.includes("rep") && p.roles.includes("approver")],
    ["Admins", (p) => p.roles.length === 1 && p.roles[0] === "admin"],
    ["Others", (p) => p.roles.length === 0],
  ];
  for (const [label, test] of groups) {
    const members = state.people.filter(test);
    if (!members.length) continue;
    const group = el("optgroup");
    group.label = label;
    const list = el("ul");
    for (const person of members) {
      const option = el("option", null, [personLabel(person)]);
      option.value = person.key;
      group.append(option);
      const item = buttonNode(person.name, "person", () => setPerson(person.key));
      item.dataset.person = person.key;
      item.append(el("small", null, [person.roles.join(", ") || "colleague", person.slack_id ? "" : " · email"]));
      list.append(el("li", null, [item]));
    }
    select.append(group);
    nav.append(el("h2", null, [label]), list);
  }
  select.addEventListener("change", () => setPerson(select.value));
}

function buildLanguages() {
  const select = $("language");
  for (const language of state.meta.languages ?? []) {
    const option = el("option", null, [language.name]);
    option.value = language.tag;
    select.append(option);
  }
  select.hidden = select.options.length < 2;
  select.addEventListener("change", () => switchLanguage(select.value));
}

async function switchLanguage(language) {
  const key = state.person;
  try {
    const answer = await api(`/api/people/${encodeURIComponent(key)}/language`, { language });
    state.byKey.set(key, answer.person);
    state.people = state.people.map((p) => (p.key === key ? answer.person : p));
    toast(`${answer.person.name} now reads ${$("language").selectedOptions[0]?.textContent ?? language}.`);
    if (state.tab === "home") openHome();
    refresh();
  } catch (error) {
    $("language").value = current()?.language ?? "en";
    toast(error.message);
  }
}

function connect() {
  const source = new EventSource("/api/events");
  source.addEventListener("hello", () => {
    $("live").hidden = true;
    refresh();
  });
  source.addEventListener("change", () => refresh());
  source.addEventListener("error", () => {
    $("live").hidden = false;
  });
}

async function start() {
  state.meta = await api("/api/meta");
  document.title = state.meta.title;
  state.people = state.meta.people;
  for (const person of state.people) {
    state.byKey.set(person.key, person);
    if (person.slack_id) state.names.set(person.slack_id, person.name);
  }
  state.names.set(state.meta.bot.id, state.meta.bot.name);
  if (state.meta.clock) state.offset = Date.parse(state.meta.clock.now) - Date.now();
  for (const [name, on] of Object.entries(state.meta.panels)) {
    if (!on) $(`tab-${name}`).hidden = true;
  }
  buildPeople();
  buildLanguages();
  for (const name of TABS) $(`tab-${name}`).addEventListener("click", () => setTab(name));
  $("tabs").addEventListener("keydown", (event) => {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const visible = TABS.filter((name) => !$(`tab-${name}`).hidden);
    const index = visible.indexOf(state.tab) + (event.key === "ArrowRight" ? 1 : -1);
    const next = visible[(index + visible.length) % visible.length];
    setTab(next);
    $(`tab-${next}`).focus();
  });
  $("composer").addEventListener("submit", sendCommand);
  const wanted = readHash();
  const first = state.people.find((p) => p.roles.includes("rep") && p.slack_id) ?? state.people[0];
  state.tab = TABS.includes(wanted.tab) ? wanted.tab : "messages";
  setTab(state.tab);
  setPerson(state.byKey.has(wanted.person) ? wanted.person : first.key);
  setInterval(() => {
    $("clock").textContent = clockText();
  }, 30000);
  connect();
  document.body.dataset.ready = "true";
}

start().catch((error) => toast(`The sandbox could not start: ${error.message}`));
