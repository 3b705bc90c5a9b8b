// Slack's mrkdwn as DOM nodes: built with createElement and text nodes only, never innerHTML, so
// nothing a message carries can become markup. Links keep http(s) and mailto URLs only.
//
// Handled: *bold*, _italic_, ~strike~, `code`, ```pre```, > quotes, <url|label>, <mailto:...>,
// <@U123> mentions, <#C123|channel>, <!here>, <!date^...|fallback>, :emoji: shortcodes, line breaks,
// and the &amp; &lt; &gt; escapes Slack uses.

export const EMOJI = {
  white_check_mark: "✅", x: "❌", warning: "⚠️", tada: "🎉", recycle: "♻️", outbox_tray: "📤",
  inbox_tray: "📥", hourglass_flowing_sand: "⏳", hourglass: "⌛", no_entry_sign: "🚫", no_entry: "⛔",
  rotating_light: "🚨", speech_balloon: "💬", arrow_right: "➡️", leftwards_arrow_with_hook: "↩️",
  ballot_box_with_ballot: "🗳️", heavy_minus_sign: "➖", heavy_check_mark: "✔️", bell: "🔔",
  calendar: "📅", package: "📦", truck: "🚚", money_with_wings: "💸", moneybag: "💰", memo: "📝",
  lock: "🔒", eyes: "👀", clock1: "🕐", alarm_clock: "⏰", wave: "👋", thumbsup: "👍", "+1": "👍",
  pushpin: "📌", information_source: "ℹ️", link: "🔗", email: "📧", envelope: "✉️", star: "⭐",
  red_circle: "🔴", large_green_circle: "🟢", large_yellow_circle: "🟡", white_circle: "⚪",
  arrows_counterclockwise: "🔄", heavy_plus_sign: "➕", question: "❓", exclamation: "❗",
};

// Without a colour emoji font (bare servers, CI) emoji show as empty boxes: these stand in.
const FALLBACK = {
  white_check_mark: ["✓", "ok"], heavy_check_mark: ["✓", "ok"], x: ["✗", "bad"], no_entry_sign: ["⊘", "bad"],
  no_entry: ["⊘", "bad"], warning: ["!", "warn"], rotating_light: ["!", "bad"], tada: ["★", "ok"],
  recycle: ["↻", "ok"], outbox_tray: ["↑", "info"], inbox_tray: ["↓", "info"], hourglass_flowing_sand: ["⧗", "warn"],
  hourglass: ["⧗", "warn"], speech_balloon: ["…", "info"], arrow_right: ["→", "info"],
  leftwards_arrow_with_hook: ["↩", "info"], ballot_box_with_ballot: ["☑", "info"], heavy_minus_sign: ["–", "info"],
};

let colourEmoji = null;
function hasColourEmoji() {
  if (colourEmoji === null) {
    try {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 20;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.font = "16px sans-serif";
      context.textBaseline = "top";
      context.fillText("\u2705", 0, 0);
      const pixels = context.getImageData(0, 0, 20, 20).data;
      colourEmoji = false;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] > 0 && (pixels[i] !== pixels[i + 1] || pixels[i + 1] !== pixels[i + 2])) {
          colourEmoji = true;
          break;
        }
      }
    } catch {
      colourEmoji = true;
    }
  }
  return colourEmoji;
}

export function emojiNode(name) {
  const fallback = FALLBACK[name];
  let node;
  if (!hasColourEmoji() && fallback) {
    node = document.createElement("span");
    node.className = `emoji emoji-fallback emoji-${fallback[1]}`;
    node.textContent = fallback[0];
  } else {
    node = document.createElement("span");
    node.className = "emoji";
    node.textContent = EMOJI[name] ?? `:${name}:`;
  }
  node.title = `:${name}:`;
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", name.replace(/_/g, " "));
  return node;
}

const SAFE_URL = /^(https?:\/\/|mailto:)/i;
const WORDISH = /[\p{L}\p{N}]/u;

export function decodeEntities(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

export function emojify(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] ?? whole);
}

function textNode(text) {
  return document.createTextNode(decodeEntities(text));
}

function el(tag, className, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) node.append(child);
  return node;
}

function special(token, ctx) {
  // token is what stood between < and >, still escaped
  const bar = token.indexOf("|");
  const target = bar >= 0 ? token.slice(0, bar) : token;
  const label = bar >= 0 ? token.slice(bar + 1) : null;
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const name = ctx.names?.get(id) ?? (label ? decodeEntities(label) : id);
    const node = el("span", "mention", [`@${name}`]);
    node.title = id;
    return node;
  }
  if (target.startsWith("#")) {
    return el("span", "mention", [`#${label ? decodeEntities(label) : target.slice(1)}`]);
  }
  if (target.startsWith("!")) {
    const command = target.slice(1);
    if (command.startsWith("date^") || command.startsWith("subteam^")) {
      return textNode(label ?? command);
    }
    return el("span", "mention", [`@${label ? decodeEntities(label) : command}`]);
  }
  const url = decodeEntities(target);
  if (!SAFE_URL.test(url)) {
    return textNode(`<${token}>`);
  }
  const link = el("a", "link", [label !== null ? decodeEntities(label) : url.replace(/^mailto:/i, "")]);
  link.href = url;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  return link;
}

function opens(text, i) {
  const before = i === 0 ? "" : text[i - 1];
  const after = text[i + 1] ?? "";
  return (before === "" || !WORDISH.test(before)) && after !== "" && !/\s/.test(after) && after !== text[i];
}

function closing(text, i, mark) {
  for (let k = i + 2; k < text.length; k += 1) {
    const c = text[k];
    if (c === "\n") return -1;
    if (c === mark && !/\s/.test(text[k - 1]) && (k + 1 === text.length || !WORDISH.test(text[k + 1]))) {
      return k;
    }
  }
  return -1;
}

const STYLE = { "*": "strong", _: "em", "~": "s" };

function inline(text, ctx) {
  const out = [];
  let buffer = "";
  const flush = () => {
    if (buffer) out.push(textNode(buffer));
    buffer = "";
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "<") {
      const end = text.indexOf(">", i + 1);
      if (end > i + 1 && !text.slice(i + 1, end).includes("<")) {
        flush();
        out.push(special(text.slice(i + 1, end), ctx));
        i = end + 1;
        continue;
      }
    }
    if (c === "`") {
      const end = text.indexOf("`", i + 1);
      if (end > i + 1 && !text.slice(i + 1, end).includes("\n")) {
        flush();
        out.push(el("code", "code", [decodeEntities(text.slice(i + 1, end))]));
        i = end + 1;
        continue;
      }
    }
    if (STYLE[c] && opens(text, i)) {
      const end = closing(text, i, c);
      if (end > 0) {
        flush();
        out.push(el(STYLE[c], null, inline(text.slice(i + 1, end), ctx)));
        i = end + 1;
        continue;
      }
    }
    if (c === ":") {
      const match = /^:([a-z0-9_+-]+):/.exec(text.slice(i));
      if (match && EMOJI[match[1]]) {
        flush();
        out.push(emojiNode(match[1]));
        i += match[0].length;
        continue;
      }
    }
    buffer += c;
    i += 1;
  }
  flush();
  return out;
}

function lines(text, ctx) {
  const out = [];
  let quote = null;
  const rows = text.split("\n");
  rows.forEach((row, index) => {
    const quoted = /^(&gt;|>) ?/.exec(row);
    if (quoted) {
      if (!quote) {
        quote = el("blockquote", "quote");
        out.push(quote);
      } else {
        quote.append(document.createElement("br"));
      }
      quote.append(...inline(row.slice(quoted[0].length), ctx));
      return;
    }
    quote = null;
    out.push(...inline(row, ctx));
    if (index < rows.length - 1 && !/^(&gt;|>) ?/.test(rows[index + 1] ?? "")) {
      out.push(document.createElement("br"));
    }
  });
  return out;
}

// A DocumentFragment showing `text` (Slack mrkdwn). ctx.names maps user ids to display names.
export function mrkdwn(text, ctx = {}) {
  const fragment = document.createDocumentFragment();
  const parts = String(text ?? "").split("```");
  parts.forEach((part, index) => {
    if (index % 2 === 1 && index < parts.length - 1) {
      fragment.append(el("pre", "pre", [decodeEntities(part.replace(/^\n/, ""))]));
    } else {
      const piece = index % 2 === 1 ? "```" + part : part;
      fragment.append(...lines(piece, ctx));
    }
  });
  return fragment;
}

// Plain text as Slack shows it: no formatting, emoji shortcodes shown when emoji is true.
export function plain(text, emoji = true) {
  const value = String(text ?? "");
  return document.createTextNode(emoji ? emojify(value) : value);
}
