/* Gupshup widget: search suggestions for an <input> and a Related Articles block, from the
 * Gupshup API. Plain script, no dependencies, no build step:
 *
 *   <script src="https://SEARCH-HOST/static/gupshup.js" defer></script>
 *   <input type="search" data-gupshup-search>  <div data-gupshup-related="ARTICLE_ID"></div>
 *
 * The API is the origin this file was loaded from (or the script tag's data-api). Another
 * site's origin must be listed in GUPSHUP_CORS_ORIGINS. Everything that comes from the API is
 * inserted as text; the only markup ever built from it is <mark> in search snippets, made
 * with createElement. Exposes window.Gupshup for pages that create elements later. */
(function () {
  "use strict";

  const script = document.currentScript;
  const API = ((script && script.dataset.api) ||
    (script && script.src ? new URL(script.src).origin : location.origin)).replace(/\/+$/, "");
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
    "Dec"];
  let boxes = 0;

  /* ---- small helpers, shared with the demo pages through window.Gupshup ---- */

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function getJSON(path, params, signal) {
    const query = params ? "?" + new URLSearchParams(params) : "";
    const answer = await fetch(API + path + query, { signal, credentials: "omit" });
    const body = await answer.json().catch(() => null);
    if (!answer.ok) {
      const message = body && body.error ? body.error.message : "HTTP " + answer.status;
      throw new ApiError(answer.status, message);
    }
    return body;
  }

  /** An http(s) URL, or null: an article's `url` must never become a javascript: link. */
  function safeHref(url) {
    if (!url) return null;
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  /** Where a story links to: the page's template ("/article/{id}") or the story's own url. */
  function articleHref(item, template) {
    if (template) return safeHref(template.split("{id}").join(encodeURIComponent(item.id)));
    return safeHref(item.url);
  }

  /** "2025-05-01T10:00:00+05:30" -> "1 May 2025": the date printed on the article, as the
   * API's date filters read it (no conversion to the reader's time zone). */
  function formatDate(iso) {
    const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    if (!match) return "";
    return Number(match[3]) + " " + MONTHS[Number(match[2]) - 1] + " " + match[1];
  }

  const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

  function decodeEntities(text) {
    return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name) => {
      if (name[0] !== "#") return ENTITIES[name.toLowerCase()] ?? whole;
      const code = name[1] === "x" || name[1] === "X"
        ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    });
  }

  /** A search snippet as DOM nodes: text, and <mark> around matches. The API escapes the
   * rest already; splitting on the two tags (never innerHTML) means nothing else can become
   * markup even if that ever changed. */
  function snippetNodes(snippet) {
    const nodes = [];
    (snippet || "").split("<mark>").forEach((part, index) => {
      let rest = part;
      if (index > 0) {
        const end = part.indexOf("</mark>");
        const marked = end === -1 ? part : part.slice(0, end);
        rest = end === -1 ? "" : part.slice(end + "</mark>".length);
        nodes.push(el("mark", null, decodeEntities(marked)));
      }
      if (rest) nodes.push(document.createTextNode(decodeEntities(rest)));
    });
    return nodes;
  }

  /* ---- default look: zero-specificity rules, so any rule of the host page wins ---- */

  const DEFAULT_CSS = `
:where(.gupshup-suggestions){position:absolute;z-index:1000;box-sizing:border-box;margin:0;
  padding:4px 0;list-style:none;background:#fff;color:#1a1a1a;border:1px solid #767676;
  border-radius:4px;box-shadow:0 4px 12px rgba(0,0,0,.15);max-height:22em;overflow-y:auto;
  text-align:left}
:where(.gupshup-option){padding:6px 10px;cursor:pointer}
:where(.gupshup-option:hover){background:#f1f3f4}
:where(.gupshup-option[aria-selected="true"]){background:#dbe7fd;outline:2px solid #0b57d0;
  outline-offset:-2px}
:where(.gupshup-kind){margin-left:.5em;font-size:.8em;color:#4d4d4d}
:where(.gupshup-related-list){margin:0;padding:0;list-style:none}
:where(.gupshup-related-list li){margin:0 0 .75em}
:where(.gupshup-related-meta){display:block;font-size:.85em;color:#4d4d4d}`;

  function adoptDefaultStyles() {
    // A constructed stylesheet rather than a <style> element: a host page's strict
    // style-src policy blocks the latter.
    if (!("adoptedStyleSheets" in document) || typeof CSSStyleSheet !== "function") return;
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(DEFAULT_CSS);
      document.adoptedStyleSheets = [sheet, ...document.adoptedStyleSheets];
    } catch (_) {
      /* an old browser: the widget works unstyled */
    }
  }

  /* ---- search box with suggestions (WAI-ARIA combobox with a listbox popup) ---- */

  function attachSearch(input, options) {
    if (input.gupshup) return input.gupshup;
    const opts = Object.assign({
      limit: Number(input.dataset.gupshupLimit) || 8,
      delay: 150,
      link: input.dataset.gupshupLink || null,
    }, options || {});
    const listId = "gupshup-suggestions-" + (++boxes);
    const list = el("ul", "gupshup-suggestions");
    list.id = listId;
    list.hidden = true;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");

    let choices = [];
    let active = -1;
    let timer = 0;
    let inFlight = null;

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function open() {
      if (!choices.length) return;
      // Under the input, in the box the input is laid out in (CSSOM styles: CSP-safe).
      list.style.top = input.offsetTop + input.offsetHeight + "px";
      list.style.left = input.offsetLeft + "px";
      list.style.minWidth = input.offsetWidth + "px";
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function setActive(index) {
      const options = list.children;
      if (active >= 0 && options[active]) options[active].setAttribute("aria-selected", "false");
      active = index;
      if (active < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      options[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }

    function draw(answer) {
      choices = answer.completions.map((text) => ({ kind: "query", text }))
        .concat(answer.titles.map((item) => ({ kind: "article", text: item.title, item })));
      list.replaceChildren(...choices.map((choice, index) => {
        const option = el("li", "gupshup-option gupshup-option-" + choice.kind, choice.text);
        option.id = listId + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        if (choice.kind === "article") option.append(" ", el("span", "gupshup-kind", "story"));
        return option;
      }));
      active = -1;
      input.removeAttribute("aria-activedescendant");
      if (choices.length && document.activeElement === input) open(); else close();
    }

    async function suggest() {
      const q = input.value.trim();
      if (inFlight) inFlight.abort();
      if (!q) {
        choices = [];
        close();
        return;
      }
      inFlight = new AbortController();
      try {
        draw(await getJSON("/api/suggest", { q, limit: opts.limit }, inFlight.signal));
      } catch (error) {
        if (error.name !== "AbortError") close(); // suggestions are a nicety: fail quietly
      }
    }

    function pick(index) {
      const choice = choices[index];
      close();
      const href = choice.kind === "article" ? articleHref(choice.item, opts.link) : null;
      const detail = { kind: choice.kind, text: choice.text, id: choice.item && choice.item.id,
        href };
      const event = new CustomEvent("gupshup:pick", { bubbles: true, cancelable: true, detail });
      if (!input.dispatchEvent(event)) return;
      if (href) {
        location.assign(href);
        return;
      }
      input.value = choice.text;
      if (choice.kind === "query" && input.form) input.form.requestSubmit();
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(suggest, opts.delay); // debounced: one request per pause in typing
    });
    input.addEventListener("keydown", (event) => {
      const count = choices.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!count) return;
        event.preventDefault();
        if (list.hidden) open();
        const step = event.key === "ArrowDown" ? 1 : -1;
        // Wraps through "no option" (-1), so the reader can get back to what they typed.
        let next = active + step;
        if (next >= count) next = -1;
        if (next < -1) next = count - 1;
        setActive(next);
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        pick(active);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
    if (input.form) {
      input.form.addEventListener("submit", () => {
        // A search is on its way: late suggestions for what was typed would only get in it.
        clearTimeout(timer);
        if (inFlight) inFlight.abort();
        close();
      });
    }
    input.addEventListener("focus", () => { if (input.value.trim()) open(); });
    // mousedown would blur the input (closing the list) before the click lands.
    list.addEventListener("mousedown", (event) => event.preventDefault());
    list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) pick(Array.prototype.indexOf.call(list.children, option));
    });

    input.gupshup = { close, suggest, list };
    return input.gupshup;
  }

  /* ---- Related Articles block ---- */

  async function fillRelated(box, options) {
    const opts = Object.assign({
      id: box.dataset.gupshupRelated,
      limit: Number(box.dataset.gupshupLimit) || 5,
      heading: box.dataset.gupshupHeading ?? "Related Articles",
      link: box.dataset.gupshupLink || null,
      empty: box.dataset.gupshupEmpty || "",
    }, options || {});
    if (!opts.id) return;
    box.setAttribute("aria-busy", "true");
    box.dataset.gupshupState = "loading";
    const parts = [];
    if (opts.heading) parts.push(el("h2", "gupshup-related-heading", opts.heading));
    try {
      const path = "/api/articles/" + encodeURIComponent(opts.id) + "/related";
      const answer = await getJSON(path, { limit: opts.limit });
      if (answer.items.length) {
        const list = el("ul", "gupshup-related-list");
        list.append(...answer.items.map((item) => relatedItem(item, opts.link)));
        parts.push(list);
      } else if (opts.empty) {
        parts.push(el("p", "gupshup-related-empty", opts.empty));
      }
      box.dataset.gupshupState = answer.items.length ? "ready" : "empty";
    } catch (error) {
      parts.length = 0; // a broken block is left out, not shown half-built
      box.dataset.gupshupState = "error";
    }
    box.replaceChildren(...parts);
    box.removeAttribute("aria-busy");
  }

  function relatedItem(item, template) {
    const row = el("li", "gupshup-related-item");
    const href = articleHref(item, template);
    const title = el(href ? "a" : "span", "gupshup-related-title", item.title);
    if (href) title.href = href;
    const meta = [item.category, formatDate(item.published_at)].filter(Boolean).join(" · ");
    row.append(title);
    if (meta) row.append(el("span", "gupshup-related-meta", meta));
    return row;
  }

  function scan(root) {
    const scope = root || document;
    scope.querySelectorAll("input[data-gupshup-search]").forEach((input) => attachSearch(input));
    scope.querySelectorAll("[data-gupshup-related]").forEach((box) => {
      if (!box.dataset.gupshupState) fillRelated(box);
    });
  }

  adoptDefaultStyles();
  window.Gupshup = {
    api: API, attachSearch, fillRelated, scan, getJSON, snippetNodes, safeHref, articleHref,
    formatDate, el,
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => scan());
  } else {
    scan();
  }
})();
