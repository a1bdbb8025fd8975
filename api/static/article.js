/* The demo article page (/article/{id}): the story from /api/articles/{id}, inserted as text,
 * and its Related Articles block filled by the same widget code other sites embed. */
(function () {
  "use strict";

  const G = window.Gupshup;
  const byId = (id) => document.getElementById(id);
  const id = decodeURIComponent(location.pathname.replace(/^\/article\//, ""));

  function drawStory(story) {
    document.title = story.title + " · Gupshup";
    byId("story-title").textContent = story.title;
    const meta = [story.category, G.formatDate(story.published_at), story.author, story.source];
    byId("story-meta").textContent = meta.filter(Boolean).join(" · ");
    // Paragraphs are separated by blank lines in the store; single newlines stay line breaks
    // through CSS (white-space: pre-line), never through markup.
    const paragraphs = story.body.split(/\n\s*\n/).map((text) => text.trim()).filter(Boolean);
    byId("story-body").replaceChildren(...paragraphs.map((text) => G.el("p", null, text)));
    byId("story-tags").replaceChildren(...story.tags.map((tag) => G.el("li", null, tag)));
    const href = G.safeHref(story.url);
    const source = byId("story-source");
    source.hidden = !href;
    if (href) source.querySelector("a").href = href;
  }

  async function load() {
    const status = byId("story-status");
    try {
      drawStory(await G.getJSON("/api/articles/" + encodeURIComponent(id)));
      status.remove();
    } catch (error) {
      status.textContent = error.status === 404
        ? "There is no story here: it may have been removed."
        : "The story could not be loaded; try again.";
      byId("related").hidden = true;
    } finally {
      byId("story").removeAttribute("aria-busy");
    }
  }

  const related = byId("related");
  related.dataset.gupshupRelated = id;
  G.fillRelated(related); // at the same time as the story, not after it
  load();
})();
