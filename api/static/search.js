/* The demo search page. Its state (q, page, category, sort) lives in the query string, so a
 * reload or the back button shows the same results; every answer comes from /api/search
 * through gupshup.js, and article text is only ever inserted as text. */
(function () {
  "use strict";

  const G = window.Gupshup;
  const PER_PAGE = 10;
  const byId = (id) => document.getElementById(id);
  const form = byId("search-form");
  const input = byId("q");
  const sort = byId("sort");
  const status = byId("status");
  let latest = 0; // answers to superseded requests are dropped

  function readState(search) {
    const params = new URLSearchParams(search);
    return {
      q: (params.get("q") || "").trim(),
      page: Math.max(1, parseInt(params.get("page") || "1", 10) || 1),
      category: params.get("category") || "",
      sort: params.get("sort") === "newest" ? "newest" : "relevance",
    };
  }

  function urlFor(state) {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.category) params.set("category", state.category);
    if (state.sort !== "relevance") params.set("sort", state.sort);
    if (state.page > 1) params.set("page", String(state.page));
    const query = params.toString();
    return "/" + (query ? "?" + query : "");
  }

  function navLink(state, text) {
    const link = G.el("a", null, text);
    link.href = urlFor(state);
    link.dataset.nav = "";
    return link;
  }

  function go(state, focusResults) {
    const url = urlFor(state);
    // The same search again is not a new step back for the Back button.
    if (url === location.pathname + location.search) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
    show(state, focusResults);
  }

  function request(state, perPage) {
    const params = { q: state.q, page: state.page, per_page: perPage, sort: state.sort };
    if (state.category) params.category = state.category;
    return G.getJSON("/api/search", params);
  }

  async function show(state, focusResults) {
    input.value = state.q;
    sort.value = state.sort;
    byId("intro").hidden = Boolean(state.q);
    byId("results-area").hidden = !state.q;
    document.title = state.q ? state.q + " · Gupshup Search" : "Gupshup Search";
    const ticket = ++latest;
    if (!state.q) return;
    status.textContent = "Searching…";
    try {
      // With a category chosen, the facets come from the unfiltered search, so the other
      // categories stay on offer.
      const [answer, unfiltered] = await Promise.all([
        request(state, PER_PAGE),
        state.category ? request({ ...state, category: "", page: 1 }, 1) : null,
      ]);
      if (ticket !== latest) return;
      drawResults(state, answer);
      drawFacets(state, unfiltered || answer);
      drawPager(state, answer.total);
      if (focusResults) byId("results-heading").focus();
    } catch (error) {
      if (ticket !== latest) return;
      byId("hits").replaceChildren();
      byId("pager").replaceChildren();
      byId("did-you-mean").hidden = true;
      status.textContent = error.status ? error.message : "Search is not answering; try again.";
    }
  }

  function drawResults(state, answer) {
    const first = (answer.page - 1) * answer.per_page + 1;
    const last = first + answer.hits.length - 1;
    if (answer.total === 0) {
      status.textContent = `No stories match “${state.q}”.`;
    } else if (!answer.hits.length) {
      status.textContent = `Page ${answer.page} is past the last of ${answer.total} stories.`;
    } else {
      status.textContent = `${first}–${last} of ${answer.total} stories for “${state.q}”`;
    }
    const dym = byId("did-you-mean");
    dym.hidden = !answer.corrected_query;
    if (answer.corrected_query) {
      const link = dym.querySelector("a");
      link.textContent = answer.corrected_query;
      link.href = urlFor({ ...state, q: answer.corrected_query, page: 1 });
      link.dataset.nav = "";
    }
    byId("hits").replaceChildren(...answer.hits.map(hitItem));
  }

  function hitItem(hit) {
    const item = G.el("li", "hit");
    const heading = G.el("h2", "hit-title");
    const link = G.el("a", null, hit.title);
    link.href = "/article/" + encodeURIComponent(hit.id);
    heading.append(link);
    const meta = [hit.category, G.formatDate(hit.published_at), hit.author].filter(Boolean);
    const snippet = G.el("p", "snippet");
    snippet.append(...G.snippetNodes(hit.snippet));
    item.append(heading, G.el("p", "meta", meta.join(" · ")), snippet);
    return item;
  }

  function drawFacets(state, whole) {
    const counts = whole.facets.category || {};
    const rows = [];
    const all = navLink({ ...state, category: "", page: 1 }, "All categories");
    all.append(G.el("span", "count", whole.total));
    if (!state.category) all.setAttribute("aria-current", "true");
    rows.push(all);
    for (const [name, count] of Object.entries(counts)) {
      const link = navLink({ ...state, category: name, page: 1 }, name);
      link.append(G.el("span", "count", count));
      if (name === state.category) link.setAttribute("aria-current", "true");
      rows.push(link);
    }
    byId("facets").replaceChildren(...rows.map((link) => {
      const row = G.el("li");
      row.append(link);
      return row;
    }));
  }

  function drawPager(state, total) {
    const pages = Math.ceil(total / PER_PAGE);
    const pager = byId("pager");
    pager.replaceChildren();
    if (pages <= 1) return;
    const at = (page, text, label) => {
      const link = navLink({ ...state, page }, text);
      if (label) link.setAttribute("aria-label", label);
      if (page === state.page && !label) link.setAttribute("aria-current", "page");
      return link;
    };
    if (state.page > 1) pager.append(at(state.page - 1, "‹ Previous", "Previous page"));
    const from = Math.max(1, state.page - 2);
    const to = Math.min(pages, state.page + 2);
    if (from > 1) pager.append(at(1, "1"), G.el("span", "gap", "…"));
    for (let page = from; page <= to; page += 1) pager.append(at(page, String(page)));
    if (to < pages) pager.append(G.el("span", "gap", "…"), at(pages, String(pages)));
    if (state.page < pages) pager.append(at(state.page + 1, "Next ›", "Next page"));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    // A new query starts again at page 1 in every category; the sort order is kept.
    go({ q, page: 1, category: "", sort: sort.value }, false);
  });
  sort.addEventListener("change", () => {
    go({ ...readState(location.search), sort: sort.value, page: 1 }, false);
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-nav]");
    // Modified clicks (new tab, new window) keep their usual meaning.
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey ||
        event.altKey) return;
    event.preventDefault();
    const paging = link.closest("#pager") !== null;
    go(readState(new URL(link.href).search), paging);
    if (paging) window.scrollTo(0, 0);
  });
  window.addEventListener("popstate", () => show(readState(location.search), false));
  show(readState(location.search), false);
})();
