// Block Kit as DOM, the way Slack lays it out, close enough that layout problems show.
//
// Blocks: header, section (text, fields, accessory), context, divider, actions, input, image,
// rich_text (basic). Elements: button, overflow, static/users/conversations select, multi selects,
// datepicker, timepicker, plain text and number inputs, checkboxes, radio buttons, image.
// Anything else is shown as a visible "unsupported" box rather than silently dropped.
//
// Every piece of text goes in as a text node (see mrkdwn.js); nothing is parsed as HTML.

import { emojify, mrkdwn, plain } from "./mrkdwn.js";

let uid = 0;
const nextId = (prefix) => `${prefix}-${(uid += 1)}`;

function el(tag, className, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export function textObject(object, ctx, className = "bk-text") {
  const node = el("div", className);
  if (!object) return node;
  if (typeof object === "string") {
    node.append(plain(object));
  } else if (object.type === "mrkdwn") {
    node.append(mrkdwn(object.text, ctx));
  } else {
    node.append(plain(object.text, object.emoji !== false));
  }
  return node;
}

function plainText(object) {
  if (!object) return "";
  return typeof object === "string" ? object : emojify(String(object.text ?? ""));
}

function unsupported(kind, what) {
  return el("div", "bk-unsupported", [`Unsupported ${kind}: ${what}`]);
}

// ---------------------------------------------------------------- elements that act at once

function button(element, blockId, ctx) {
  const node = el("button", `bk-button ${element.style ?? ""}`.trim(), [plainText(element.text)]);
  node.type = "button";
  node.dataset.actionId = element.action_id ?? "";
  if (element.accessibility_label) node.setAttribute("aria-label", element.accessibility_label);
  node.addEventListener("click", async () => {
    if (element.confirm && !window.confirm(confirmText(element.confirm))) return;
    if (element.url && /^https?:\/\//i.test(element.url)) {
      window.open(element.url, "_blank", "noopener,noreferrer");
    }
    node.disabled = true;
    node.setAttribute("aria-busy", "true");
    try {
      await ctx.act?.(element, blockId, null);
    } finally {
      node.disabled = false;
      node.removeAttribute("aria-busy");
    }
  });
  return node;
}

function confirmText(confirm) {
  return [plainText(confirm.title), plainText(confirm.text)].filter(Boolean).join("\n\n");
}

function optionText(option) {
  return plainText(option.text);
}

function overflow(element, blockId, ctx) {
  const wrap = el("div", "bk-overflow");
  const toggle = el("button", "bk-overflow-toggle", ["⋯"]);
  toggle.type = "button";
  toggle.setAttribute("aria-label", "More actions");
  toggle.setAttribute("aria-haspopup", "menu");
  toggle.setAttribute("aria-expanded", "false");
  const menu = el("div", "bk-menu");
  menu.setAttribute("role", "menu");
  menu.hidden = true;
  for (const option of element.options ?? []) {
    const item = el("button", "bk-menu-item", [optionText(option)]);
    item.type = "button";
    item.setAttribute("role", "menuitem");
    item.addEventListener("click", async () => {
      menu.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      if (option.url && /^https?:\/\//i.test(option.url)) window.open(option.url, "_blank", "noopener,noreferrer");
      await ctx.act?.(element, blockId, { selected_option: option });
    });
    menu.append(item);
  }
  toggle.addEventListener("click", () => {
    menu.hidden = !menu.hidden;
    toggle.setAttribute("aria-expanded", String(!menu.hidden));
  });
  wrap.append(toggle, menu);
  return wrap;
}

function optionsOf(element) {
  if (element.option_groups) {
    return element.option_groups.flatMap((group) => group.options ?? []);
  }
  return element.options ?? [];
}

function selectNode(element, choices, selected, placeholder) {
  const select = el("select", "bk-select");
  const empty = el("option", null, [placeholder || "Select an item"]);
  empty.value = "";
  select.append(empty);
  for (const [value, label] of choices) {
    const option = el("option", null, [label]);
    option.value = value;
    if (value === selected) option.selected = true;
    select.append(option);
  }
  if (!selected) empty.selected = true;
  return select;
}

function staticSelect(element) {
  const options = optionsOf(element);
  const initial = element.initial_option?.value ?? "";
  const select = selectNode(
    element,
    options.map((o) => [String(o.value), optionText(o)]),
    initial,
    plainText(element.placeholder),
  );
  return { node: select, value: () => select.value || null, option: () => options.find((o) => String(o.value) === select.value) };
}

function usersSelect(element, ctx) {
  const choices = (ctx.people ?? []).filter((p) => p.slack_id).map((p) => [p.slack_id, p.name]);
  const select = selectNode(element, choices, element.initial_user ?? "", plainText(element.placeholder) || "Select a person");
  return { node: select, value: () => select.value || null };
}

function datePicker(element) {
  const input = el("input", "bk-date");
  input.type = "date";
  if (element.initial_date) input.value = element.initial_date;
  const label = plainText(element.placeholder) || "Pick a date";
  input.setAttribute("aria-label", label);
  input.title = label;
  return { node: input, value: () => input.value || null };
}

function timePicker(element) {
  const input = el("input", "bk-date");
  input.type = "time";
  if (element.initial_time) input.value = element.initial_time;
  input.setAttribute("aria-label", plainText(element.placeholder) || "Pick a time");
  return { node: input, value: () => input.value || null };
}

function choiceList(element, multiple) {
  const box = el("div", "bk-choices");
  const name = nextId("choice");
  const initial = new Set(
    multiple ? (element.initial_options ?? []).map((o) => String(o.value)) : [element.initial_option?.value].filter(Boolean).map(String),
  );
  const inputs = [];
  for (const option of optionsOf(element)) {
    const input = el("input");
    input.type = multiple ? "checkbox" : "radio";
    input.name = name;
    input.value = String(option.value);
    input.checked = initial.has(input.value);
    const label = el("label", "bk-choice", [input, el("span", null, [optionText(option)])]);
    if (option.description) label.append(el("small", "bk-choice-description", [plainText(option.description)]));
    inputs.push(input);
    box.append(label);
  }
  const chosen = () => inputs.filter((i) => i.checked).map((i) => i.value);
  return {
    node: box,
    value: () => (multiple ? chosen() : chosen()[0] ?? null),
    options: () => optionsOf(element).filter((o) => chosen().includes(String(o.value))),
  };
}

function textInput(element) {
  const multiline = element.type === "plain_text_input" && element.multiline;
  const input = el(multiline ? "textarea" : "input", "bk-text-input");
  if (!multiline) {
    input.type = { number_input: "number", email_text_input: "email", url_text_input: "url" }[element.type] ?? "text";
  } else {
    input.rows = 4;
  }
  if (element.placeholder) input.placeholder = plainText(element.placeholder);
  if (element.initial_value !== undefined) input.value = String(element.initial_value);
  if (element.max_length) input.maxLength = element.max_length;
  if (element.focus_on_load) input.autofocus = true;
  return { node: input, value: () => input.value };
}

// An element in an actions block or a section accessory: acts as soon as it is used.
function actingElement(element, blockId, ctx) {
  switch (element.type) {
    case "button":
      return button(element, blockId, ctx);
    case "overflow":
      return overflow(element, blockId, ctx);
    case "static_select":
    case "external_select": {
      const control = staticSelect(element);
      control.node.setAttribute("aria-label", plainText(element.placeholder) || "Select an item");
      control.node.addEventListener("change", () => {
        const option = control.option();
        if (option) ctx.act?.(element, blockId, { selected_option: option });
      });
      return control.node;
    }
    case "users_select": {
      const control = usersSelect(element, ctx);
      control.node.setAttribute("aria-label", plainText(element.placeholder) || "Select a person");
      control.node.addEventListener("change", () => {
        if (control.value()) ctx.act?.(element, blockId, { selected_user: control.value() });
      });
      return control.node;
    }
    case "datepicker": {
      const control = datePicker(element);
      control.node.addEventListener("change", () => {
        if (control.value()) ctx.act?.(element, blockId, { selected_date: control.value() });
      });
      return control.node;
    }
    case "timepicker": {
      const control = timePicker(element);
      control.node.addEventListener("change", () => {
        if (control.value()) ctx.act?.(element, blockId, { selected_time: control.value() });
      });
      return control.node;
    }
    case "checkboxes":
    case "radio_buttons": {
      const control = choiceList(element, element.type === "checkboxes");
      control.node.addEventListener("change", () => {
        const options = control.options();
        const selection = element.type === "checkboxes" ? { selected_options: options } : { selected_option: options[0] };
        ctx.act?.(element, blockId, selection);
      });
      return control.node;
    }
    case "image":
      return image(element);
    default:
      return unsupported("element", element.type);
  }
}

function image(element, className = "bk-image") {
  // External images are not loaded (the page allows none): the alt text stands in, framed.
  const node = el("span", className, [element.alt_text || "image"]);
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", element.alt_text || "image");
  return node;
}

// ---------------------------------------------------------------- inputs (modals)

function inputControl(element, ctx) {
  switch (element.type) {
    case "plain_text_input":
    case "number_input":
    case "email_text_input":
    case "url_text_input":
      return textInput(element);
    case "datepicker":
      return datePicker(element);
    case "timepicker":
      return timePicker(element);
    case "static_select":
    case "external_select":
      return staticSelect(element);
    case "users_select":
    case "conversations_select":
    case "channels_select":
      return usersSelect(element, ctx);
    case "multi_static_select":
    case "checkboxes":
      return choiceList(element, true);
    case "radio_buttons":
      return choiceList(element, false);
    case "multi_users_select": {
      const list = choiceList(
        { options: (ctx.people ?? []).filter((p) => p.slack_id).map((p) => ({ text: { text: p.name }, value: p.slack_id })) },
        true,
      );
      return list;
    }
    default:
      return { node: unsupported("input", element.type), value: () => null };
  }
}

function inputBlock(block, ctx) {
  const node = el("div", "bk bk-input");
  const element = block.element ?? {};
  const control = inputControl(element, ctx);
  const id = nextId("input");
  const label = el("label", "bk-label", [plainText(block.label)]);
  if (block.optional) label.append(el("span", "bk-optional", [" (optional)"]));
  const focusable = control.node.matches("input, textarea, select") ? control.node : control.node.querySelector("input");
  if (control.node.matches("input, textarea, select")) {
    control.node.id = id;
    control.node.removeAttribute("aria-label"); // the block's label names it
    label.htmlFor = id;
  } else {
    control.node.setAttribute("role", "group");
    control.node.setAttribute("aria-labelledby", id);
    label.id = id;
  }
  const error = el("div", "bk-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  node.append(label, control.node);
  if (block.hint) node.append(textObject(block.hint, ctx, "bk-hint"));
  node.append(error);
  ctx.form?.inputs.push({
    blockId: block.block_id,
    actionId: element.action_id,
    optional: Boolean(block.optional),
    minLength: element.min_length ?? 0,
    value: control.value,
    focus: () => focusable?.focus(),
    setError(message) {
      error.textContent = message ?? "";
      error.hidden = !message;
      node.classList.toggle("has-error", Boolean(message));
    },
  });
  return node;
}

// ---------------------------------------------------------------- blocks

function section(block, ctx) {
  const node = el("div", "bk bk-section");
  const main = el("div", "bk-section-main");
  if (block.text) main.append(textObject(block.text, ctx));
  if (block.fields?.length) {
    const fields = el("div", "bk-fields");
    for (const field of block.fields) fields.append(textObject(field, ctx, "bk-field"));
    main.append(fields);
  }
  node.append(main);
  if (block.accessory) {
    node.append(el("div", "bk-accessory", [actingElement(block.accessory, block.block_id, ctx)]));
  }
  return node;
}

function context(block, ctx) {
  const node = el("div", "bk bk-context");
  for (const element of block.elements ?? []) {
    if (element.type === "image") node.append(image(element, "bk-context-image"));
    else node.append(textObject(element, ctx, "bk-context-text"));
  }
  return node;
}

function actions(block, ctx) {
  const node = el("div", "bk bk-actions");
  for (const element of block.elements ?? []) node.append(actingElement(element, block.block_id, ctx));
  return node;
}

function richText(block, ctx) {
  const node = el("div", "bk bk-rich-text");
  const walk = (items, into) => {
    for (const item of items ?? []) {
      if (item.type === "text") {
        let text = document.createTextNode(item.text ?? "");
        const style = item.style ?? {};
        if (style.code) text = el("code", "code", [text]);
        if (style.bold) text = el("strong", null, [text]);
        if (style.italic) text = el("em", null, [text]);
        if (style.strike) text = el("s", null, [text]);
        into.append(text);
      } else if (item.type === "link" && /^(https?:|mailto:)/i.test(item.url ?? "")) {
        const a = el("a", "link", [item.text ?? item.url]);
        a.href = item.url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        into.append(a);
      } else if (item.type === "user") {
        into.append(el("span", "mention", [`@${ctx.names?.get(item.user_id) ?? item.user_id}`]));
      } else if (item.type === "emoji") {
        into.append(emojify(`:${item.name}:`));
      } else if (item.type === "rich_text_section") {
        const p = el("div");
        walk(item.elements, p);
        into.append(p);
      } else if (item.type === "rich_text_list") {
        const list = el(item.style === "ordered" ? "ol" : "ul");
        for (const entry of item.elements ?? []) {
          const li = el("li");
          walk(entry.elements, li);
          list.append(li);
        }
        into.append(list);
      } else if (item.type === "rich_text_preformatted") {
        const pre = el("pre", "pre");
        walk(item.elements, pre);
        into.append(pre);
      } else if (item.type === "rich_text_quote") {
        const quote = el("blockquote", "quote");
        walk(item.elements, quote);
        into.append(quote);
      } else if (item.text) {
        into.append(item.text);
      }
    }
  };
  walk(block.elements, node);
  return node;
}

function block(b, ctx) {
  let node;
  switch (b.type) {
    case "header":
      node = el("h3", "bk bk-header", [plainText(b.text)]);
      break;
    case "section":
      node = section(b, ctx);
      break;
    case "context":
      node = context(b, ctx);
      break;
    case "divider":
      node = el("hr", "bk bk-divider");
      break;
    case "actions":
      node = actions(b, ctx);
      break;
    case "input":
      node = inputBlock(b, ctx);
      break;
    case "image":
      node = el("figure", "bk bk-image-block", [image(b), b.title ? el("figcaption", null, [plainText(b.title)]) : null]);
      break;
    case "rich_text":
      node = richText(b, ctx);
      break;
    default:
      node = el("div", "bk", [unsupported("block", b.type)]);
  }
  if (b.block_id) node.dataset.blockId = b.block_id;
  return node;
}

// The blocks of a message or a view as a fragment. ctx: {names, people, act(element, blockId, selection), form}.
export function renderBlocks(blocks, ctx) {
  const fragment = document.createDocumentFragment();
  for (const b of blocks ?? []) fragment.append(block(b, ctx));
  return fragment;
}

// A fresh form to collect a modal's inputs into {block_id: {action_id: value}}.
export function newForm() {
  return {
    inputs: [],
    values() {
      const values = {};
      for (const input of this.inputs) {
        if (!input.blockId || !input.actionId) continue;
        values[input.blockId] ??= {};
        values[input.blockId][input.actionId] = input.value();
      }
      return values;
    },
    // What Slack's own client refuses before sending: empty required fields, text too short.
    check() {
      let first = null;
      for (const input of this.inputs) {
        const value = input.value();
        const empty = value === null || value === "" || (Array.isArray(value) && value.length === 0);
        let message = null;
        if (!input.optional && (empty || (typeof value === "string" && !value.trim()))) {
          message = "Please complete this required field.";
        } else if (!empty && typeof value === "string" && value.length < input.minLength) {
          message = `Please enter at least ${input.minLength} characters.`;
        }
        input.setError(message);
        if (message && !first) first = input;
      }
      first?.focus();
      return first === null;
    },
    showErrors(errors) {
      let first = null;
      for (const input of this.inputs) {
        const message = errors?.[input.blockId] ?? null;
        input.setError(message);
        if (message && !first) first = input;
      }
      first?.focus();
    },
  };
}
