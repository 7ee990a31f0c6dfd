/* Arkiv: the chat page. Streams answers from POST /api/ask/stream (server-sent events over fetch). */
"use strict";

(function () {
  const I = window.ArkivI18n;
  const t = I.t;
  const $ = (id) => document.getElementById(id);

  const ICONS = {
    up: "M7 10v11H4a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1h3zm0 0 4-8a3 3 0 0 1 3 3v4h5.2a2 2 0 0 1 2 2.3l-1.3 8a2 2 0 0 1-2 1.7H7",
    down: "M17 14V3h3a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1h-3zm0 0-4 8a3 3 0 0 1-3-3v-4H4.8a2 2 0 0 1-2-2.3l1.3-8a2 2 0 0 1 2-1.7H17",
    copy: "M9 9h11v11H9zM5 15H4V4h11v1",
    search: "M11 18a7 7 0 1 1 0-14 7 7 0 0 1 0 14zm5-2 4 4",
    info: "M12 22a10 10 0 1 1 0-20 10 10 0 0 1 0 20zm0-6v-5m0-3h.01",
    edit: "M4 20h4L19 9l-4-4L4 16v4zm9-13 4 4",
    trash: "M4 7h16M9 7V4h6v3m-8 0 1 13h8l1-13",
  };

  const state = {
    turns: [],
    busy: false,
    controller: null,
    lastFilters: null,
    seq: 0,
    panelToken: 0,
    panelReturn: null,
    stopRequested: false,
    conversation: null,
  };

  // -- small DOM helpers ------------------------------------------------------------------------------------

  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key === "i18n") {
          node.dataset.i18n = value;
          node.textContent = t(value, props.vars);
        } else if (key === "i18nAttr") node.dataset.i18nAttr = value;
        else if (key === "vars") node.dataset.i18nVars = JSON.stringify(value);
        else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : value);
      }
      if (props.i18nAttr) I.apply(wrap(node));
    }
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function wrap(node) {
    /* apply() looks at descendants; give it a parent that holds just this node's attributes */
    return { querySelectorAll: (sel) => (node.matches(sel) ? [node] : []) };
  }

  function icon(name, size) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", size || 18);
    svg.setAttribute("height", size || 18);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.append(path);
    return svg;
  }

  function announce(message) {
    const status = $("status");
    status.textContent = "";
    window.setTimeout(() => {
      status.textContent = message;
    }, 30);
  }

  // -- filters ----------------------------------------------------------------------------------------------

  function describeFilters(filters) {
    const data = Object.assign({}, filters || {});
    const out = [];
    if (data.year_from !== undefined && data.year_from === data.year_to) {
      out.push(t("filter.year", { v: data.year_from }));
      delete data.year_from;
      delete data.year_to;
    }
    for (const [key, value] of Object.entries(data)) {
      if (value === null || value === undefined || (Array.isArray(value) && !value.length)) continue;
      let shown = Array.isArray(value) ? value.join(", ") : value;
      if (key === "doc_type") shown = I.typeLabel(value);
      out.push(t("filter." + key, { v: shown }));
    }
    return out;
  }

  function readFilters() {
    const error = $("question-error");
    error.textContent = "";
    const out = {};
    const from = $("year-from").value.trim();
    const to = $("year-to").value.trim();
    if (from) out.year_from = parseInt(from, 10);
    if (to) out.year_to = parseInt(to, 10);
    for (const [key, value] of [["year_from", out.year_from], ["year_to", out.year_to]]) {
      if (value !== undefined && (Number.isNaN(value) || value < 1900 || value > 2100)) delete out[key];
    }
    if (out.year_from && out.year_to && out.year_from > out.year_to) {
      error.textContent = t("filters.bad_years");
      $("filters").open = true;
      $("year-from").focus();
      return false;
    }
    if ($("body-filter").value) out.body = $("body-filter").value;
    if ($("type-filter").value) out.doc_type = $("type-filter").value;
    return Object.keys(out).length ? out : null;
  }

  function updateFilterCount() {
    const n = ["year-from", "year-to", "body-filter", "type-filter"].filter((id) => $(id).value).length;
    const badge = $("filters-count");
    badge.hidden = n === 0;
    badge.dataset.i18n = "filters.active";
    badge.dataset.i18nVars = JSON.stringify({ n });
    badge.textContent = t("filters.active", { n });
  }

  function showApplied(filters) {
    state.lastFilters = filters || {};
    const box = $("parsed-filters");
    const list = $("parsed-filters-list");
    list.replaceChildren();
    const parts = describeFilters(filters);
    if (!parts.length) list.append(el("span", { class: "chip muted", i18n: "filters.parsed.none" }));
    parts.forEach((p) => list.append(el("span", { class: "chip", text: p })));
    const usable = ["year_from", "year_to", "body", "doc_type"].some((k) => filters && filters[k] !== undefined);
    $("use-parsed").hidden = !usable;
    box.hidden = false;
  }

  function useApplied() {
    const f = state.lastFilters || {};
    $("year-from").value = f.year_from ?? "";
    $("year-to").value = f.year_to ?? "";
    if (f.body) ensureOption($("body-filter"), f.body, f.body);
    $("body-filter").value = f.body ?? "";
    $("type-filter").value = f.doc_type ?? "";
    updateFilterCount();
  }

  function ensureOption(select, value, label) {
    if (![...select.options].some((o) => o.value === value)) select.append(el("option", { value, text: label }));
  }

  async function loadBodies() {
    try {
      const res = await fetch("/api/documents");
      if (!res.ok) return;
      const data = await res.json();
      const select = $("body-filter");
      (data.bodies || []).forEach((b) => ensureOption(select, b, b));
    } catch (e) {
      /* the filter still works with the bodies parsed from questions */
    }
  }

  function clearFilters() {
    ["year-from", "year-to", "body-filter", "type-filter"].forEach((id) => {
      $(id).value = "";
    });
    $("question-error").textContent = "";
    updateFilterCount();
  }

  // -- streaming --------------------------------------------------------------------------------------------

  class ApiError extends Error {}

  async function streamAsk(body, on, signal) {
    const res = await fetch("/api/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
      signal,
    });
    if (!res.ok) {
      let message = res.statusText || String(res.status);
      try {
        const data = await res.json();
        if (data && data.error && data.error.message) message = data.error.message;
      } catch (e) {
        /* not JSON: keep the status text */
      }
      throw new ApiError(message);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        dispatch(block, on);
      }
    }
    if (buffer.trim()) dispatch(buffer, on);
  }

  function dispatch(block, on) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (!data.length || !on[event]) return;
    on[event](JSON.parse(data.join("\n")));
  }

  // -- answer text with [n] chips ---------------------------------------------------------------------------

  const INLINE = /\[(\d+(?:\s*[,;]\s*\d+)*)\]|\*\*([^*\n]+)\*\*/g;

  // -- case numbers link to their case page (/cases/{case_number}) --
  const CASE_NUMBER = /(?<![\w/])[A-ZÅÄÖ][A-ZÅÄÖ0-9]{1,7} (?:19[89]\d|20[0-4]\d)\/\d{1,6}(?![\w/])/g;

  function caseLink(number) {
    return el("a", { class: "case-link", href: "/cases/" + encodeURIComponent(number), text: number });
  }

  function appendLinked(parent, text) {
    let at = 0;
    for (const m of text.matchAll(CASE_NUMBER)) {
      if (m.index > at) parent.append(text.slice(at, m.index));
      parent.append(caseLink(m[0]));
      at = m.index + m[0].length;
    }
    if (at < text.length) parent.append(text.slice(at));
  }

  function caseLinks(numbers) {
    if (!numbers || !numbers.length) return null;
    const span = el("span");
    const whole = new RegExp("^" + CASE_NUMBER.source + "$");
    numbers.forEach((n, i) => span.append(...(i ? [", "] : []), whole.test(n) ? caseLink(n) : n));
    return span;
  }
  // -- end case numbers --

  function renderInline(parent, text, turn) {
    let at = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > at) appendLinked(parent, text.slice(at, m.index));
      if (m[2] !== undefined) {
        parent.append(el("strong", { text: m[2] }));
      } else {
        const numbers = m[1].split(/\s*[,;]\s*/).map((x) => parseInt(x, 10));
        numbers.forEach((n) => parent.append(chip(turn, n)));
      }
      at = m.index + m[0].length;
    }
    if (at < text.length) appendLinked(parent, text.slice(at));
  }

  function chip(turn, n) {
    const c = turn.citations.find((x) => x.n === n);
    if (!c) return el("span", { class: "cite pending", text: String(n), "aria-hidden": turn.done ? null : "true" });
    return el(
      "button",
      {
        type: "button",
        class: "cite",
        "data-n": String(n),
        "aria-haspopup": "dialog",
        i18nAttr: "aria-label:cite.label",
        vars: { n, title: c.document.title },
        onclick: (ev) => openSource(turn, c, ev.currentTarget),
      },
      String(n),
    );
  }

  const LIST_ITEM = /^\s*(?:[-*•]|\d+[.)])\s+/;

  function renderAnswer(container, text, turn) {
    container.replaceChildren();
    for (const para of text.split(/\n{2,}/)) {
      const lines = para.split("\n").filter((l) => l.trim());
      let list = null;
      let p = null;
      for (const line of lines) {
        if (LIST_ITEM.test(line)) {
          p = null;
          if (!list) {
            list = el(/^\s*\d/.test(line) ? "ol" : "ul");
            container.append(list);
          }
          const li = el("li");
          renderInline(li, line.replace(LIST_ITEM, ""), turn);
          list.append(li);
        } else {
          list = null;
          if (p) p.append(el("br"));
          else {
            p = el("p");
            container.append(p);
          }
          renderInline(p, line, turn);
        }
      }
    }
  }

  // -- turns ------------------------------------------------------------------------------------------------

  function pagesLabel(a, b) {
    if (!a) return "";
    return b && b !== a ? t("source.pages", { a, b }) : t("source.page", { v: a });
  }

  /* A document as people know it: its title, or, where the title is only a file name, its type, body and date. */
  function docName(d) {
    const title = (d && d.title) || "";
    const fileLike = !title || (!/\s/.test(title) && /[_.]/.test(title)) || /\.(pdf|txt|docx?|md|html?)$/i.test(title);
    if (!fileLike) return title;
    const type = I.typeLabel(d.type) || t("type.ovrigt");
    return d.body ? t("doc.untitled", { type, body: d.body, date: d.date || "" }) : t("doc.untitled.short", { type, date: d.date || "" });
  }

  function docMeta(d) {
    return [I.typeLabel(d.type), d.body, d.date].filter(Boolean);
  }

  /* Where in its document a passage lies: §, case numbers, pages (the date when it is the passage's own). */
  function whereParts(c) {
    const d = c.document || {};
    return [
      c.paragraph ? t("source.paragraph", { v: c.paragraph }) : null,
      (c.case_numbers || []).join(", ") || null,
      c.date && c.date !== d.date ? c.date : null,
      pagesLabel(c.page_start, c.page_end),
    ].filter(Boolean);
  }

  function groupByDocument(items) {
    const groups = new Map();
    for (const item of items) {
      const d = item.document || {};
      if (!groups.has(d.id)) groups.set(d.id, { document: d, items: [] });
      groups.get(d.id).items.push(item);
    }
    return [...groups.values()];
  }

  function pageHref(c, pageNumber) {
    const d = c.document || {};
    const params = highlightQuery(c);
    if (I.lang !== "sv") params.append("lang", I.lang);
    return `/documents/${encodeURIComponent(d.id)}/pages/${pageNumber || c.page_start || 1}?${params}#passage`;
  }

  function addTurn(question) {
    state.seq += 1;
    const id = "turn-" + state.seq;
    const turn = {
      id,
      n: state.turns.length + 1,
      question,
      query: null,
      filters: null,
      text: "",
      streamed: "",
      withdrawn: [],
      citations: [],
      sources: null,
      status: null,
      done: false,
      notice: null,
      nearby: [],
      textEvents: 0,
    };
    const searched = el("p", { class: "searched", hidden: true });
    const progress = el("p", { class: "thinking" }, [el("span", { class: "dots", "aria-hidden": "true" }), el("span", { i18n: "turn.thinking" })]);
    const answerText = el("div", { class: "answer-text" }, [progress]);
    const answer = el("div", { class: "answer", id: id + "-answer" }, [
      el("div", { class: "answer-head" }, [
        el("span", { class: "avatar arkiv", "aria-hidden": "true", text: "A" }),
        el("span", { class: "who", i18n: "turn.arkiv" }),
      ]),
      answerText,
    ]);
    const article = el("article", { class: "turn", id, "aria-labelledby": id + "-h" }, [
      el("div", { class: "question" }, [
        el("h3", { class: "visually-hidden", id: id + "-h", i18n: "turn.question", vars: { n: turn.n } }),
        el("p", { class: "question-text", text: question }),
        searched,
      ]),
      answer,
    ]);
    turn.el = { article, searched, answer, answerText, progress };
    $("empty-state").hidden = true;
    $("conversation").append(article);
    state.turns.push(turn);
    return turn;
  }

  function renderSearched(turn) {
    const box = turn.el.searched;
    box.replaceChildren();
    if (turn.query === null) return;
    box.hidden = false;
    box.append(icon("search", 14), " ", el("span", { class: "label", i18n: "turn.searched" }), " ", el("q", { class: "query", text: turn.query }));
    const parts = describeFilters(turn.filters);
    const group = el("span", { class: "filter-group" }, [el("span", { class: "label", i18n: "turn.filters" }), " "]);
    if (!parts.length) group.append(el("span", { class: "chip muted", i18n: "turn.no_filters" }));
    parts.forEach((p) => group.append(el("span", { class: "chip", text: p }), " "));
    box.append(" ", group);
  }

  function renderNotice(turn) {
    let box = turn.el.answer.querySelector(".notice");
    if (!turn.notice) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = el("p", { class: "notice" });
      turn.el.answerText.before(box);
    }
    box.replaceChildren(icon("info", 16), " ", turn.notice);
  }

  function foundCounts(turn) {
    const hits = turn.sources || [];
    return { n: hits.length, m: groupByDocument(hits).length };
  }

  /* The passages retrieval found, grouped by document, shown while the answer is being written. */
  function renderFound(turn) {
    let section = turn.el.answer.querySelector(".sources.found");
    if (section) section.remove();
    if (turn.done || !turn.sources || !turn.sources.length) return;
    const hid = turn.id + "-found";
    const counts = foundCounts(turn);
    const progress = turn.el.progress;
    if (progress.isConnected) {
      progress.replaceChildren(el("span", { class: "dots", "aria-hidden": "true" }), el("span", { i18n: "turn.found", vars: counts }));
    }
    const list = el("ul", { class: "source-docs" });
    for (const group of groupByDocument(turn.sources)) {
      list.append(
        el("li", { class: "source-doc" }, [
          el("p", { class: "source-doc-title", text: docName(group.document) }),
          el("p", { class: "source-meta", text: docMeta(group.document).join(" · ") }),
          el("p", { class: "source-where", text: group.items.map((h) => whereParts(h).join(", ")).filter(Boolean).join(" · ") }),
        ]),
      );
    }
    section = el("section", { class: "sources found", "aria-labelledby": hid }, [el("h4", { id: hid, i18n: "sources.found" }), list]);
    turn.el.answer.append(section);
  }

  /* The cited sources, grouped by document: each document once, named as people know it, each citation with
     its §, case numbers and pages; a citation opens its page with the passage marked. */
  function renderSources(turn) {
    turn.el.answer.querySelectorAll(".sources").forEach((s) => s.remove());
    if (!turn.citations.length) return;
    const hid = turn.id + "-sources";
    const list = el("ul", { class: "source-docs" });
    for (const group of groupByDocument(turn.citations)) {
      const refs = el("ul", { class: "source-list" });
      for (const c of group.items) {
        refs.append(
          el("li", null, [
            el(
              "button",
              {
                type: "button",
                class: "source-item",
                "aria-haspopup": "dialog",
                "data-n": String(c.n),
                onclick: (ev) => openSource(turn, c, ev.currentTarget),
              },
              [
                el("span", { class: "source-n", "aria-hidden": "true", text: String(c.n) }),
                el("span", { class: "visually-hidden", text: t("panel.source", { n: c.n }) + ": " }),
                el("span", { class: "source-where", text: whereParts(c).join(" · ") || docName(c.document) }),
              ],
            ),
          ]),
        );
      }
      list.append(
        el("li", { class: "source-doc" }, [
          el("h5", { class: "source-doc-title", text: docName(group.document) }),
          el("p", { class: "source-meta", text: docMeta(group.document).join(" · ") }),
          refs,
        ]),
      );
    }
    const section = el("section", { class: "sources", "aria-labelledby": hid }, [el("h4", { id: hid, i18n: "sources.heading" }), list]);
    const after = turn.el.answer.querySelector(".withdrawn") || turn.el.answerText;
    after.after(section);
  }

  /* Sentences that were streamed but are not in the verified answer: withdrawn, visibly. */
  function renderWithdrawn(turn) {
    let box = turn.el.answer.querySelector(".withdrawn");
    if (box) box.remove();
    if (!turn.withdrawn.length) return;
    box = el("div", { class: "withdrawn" }, [
      el("p", { class: "withdrawn-label", i18n: "turn.withdrawn" }),
      ...turn.withdrawn.map((s) => el("p", null, [el("del", { text: s })])),
    ]);
    turn.el.answerText.after(box);
  }

  const SENTENCE_END = /(?<=[.!?…])\s+/;

  function plain(text) {
    return text.replace(/\[\d+(?:\s*[,;]\s*\d+)*\]/g, "").replace(/\*\*/g, "").replace(/\s+/g, " ").trim();
  }

  function withdrawnSentences(streamed, final) {
    const kept = plain(final);
    return streamed
      .split(SENTENCE_END)
      .map((s) => s.trim())
      .filter((s) => plain(s).length > 3 && !kept.includes(plain(s)));
  }

  function nearbyItems(turn) {
    const seen = new Set();
    const out = [];
    for (const h of turn.sources || []) {
      const key = (h.document && h.document.id) + ":" + h.page_start;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(h);
      if (out.length === 3) break;
    }
    return out;
  }

  function renderNotFound(turn) {
    const box = turn.el.answerText;
    box.replaceChildren();
    turn.el.answer.classList.add("not-found");
    const parts = describeFilters(turn.filters);
    box.append(
      el("h4", { class: "nf-title" }, [icon("search", 18), " ", el("span", { i18n: "turn.notfound.title" })]),
      el("p", { i18n: "turn.notfound.body" }),
      el("p", { class: "nf-searched" }, [
        el("span", { class: "label", i18n: "turn.searched" }),
        " ",
        el("q", { text: turn.query || turn.question }),
        " · ",
        el("span", { class: "label", i18n: "turn.filters" }),
        " ",
        parts.length ? parts.join(", ") : el("span", { i18n: "turn.no_filters" }),
      ]),
    );
    const near = nearbyItems(turn);
    if (near.length) {
      box.append(
        el("p", { class: "nf-nearby-label", i18n: "turn.nearby" }),
        el(
          "ul",
          { class: "nf-nearby" },
          near.map((h) =>
            el("li", null, [
              el("a", { href: pageHref(h), class: "nearby-link" }, [el("span", { class: "nearby-title", text: docName(h.document) })]),
              el("span", { class: "nearby-where", text: " – " + [...docMeta(h.document).slice(1), ...whereParts(h)].join(", ") }),
            ]),
          ),
        ),
      );
    } else if (turn.nearby.length) {
      box.append(
        el("p", { class: "nf-nearby-label", i18n: "turn.nearby" }),
        el("ul", { class: "nf-nearby" }, turn.nearby.map((item) => el("li", { text: item }))),
      );
    }
    box.append(el("p", { class: "hint", i18n: "turn.notfound.hint" }));
  }

  function renderActions(turn) {
    const fid = turn.id + "-fb";
    const up = el("button", { type: "button", class: "icon-button thumb", "data-rating": "up", "aria-pressed": "false", i18nAttr: "aria-label:feedback.up;title:feedback.up" }, [icon("up")]);
    const down = el("button", { type: "button", class: "icon-button thumb", "data-rating": "down", "aria-pressed": "false", i18nAttr: "aria-label:feedback.down;title:feedback.down" }, [icon("down")]);
    const comment = el("textarea", { id: fid + "-comment", rows: "2", maxlength: "2000", "aria-describedby": fid + "-hint" });
    const form = el("form", { class: "feedback-form", hidden: true }, [
      el("label", { for: fid + "-comment", i18n: "feedback.comment" }),
      comment,
      el("p", { class: "hint", id: fid + "-hint", i18n: "feedback.comment.hint" }),
      el("button", { type: "submit", class: "button primary small", i18n: "feedback.send" }),
    ]);
    const result = el("p", { class: "feedback-status", role: "status" });
    let rating = null;
    for (const button of [up, down]) {
      button.addEventListener("click", () => {
        rating = button.dataset.rating;
        up.setAttribute("aria-pressed", String(rating === "up"));
        down.setAttribute("aria-pressed", String(rating === "down"));
        form.hidden = false;
        result.textContent = "";
      });
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!rating) return;
      const submit = form.querySelector("button[type=submit]");
      submit.disabled = true;
      try {
        const res = await fetch("/api/feedback", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            rating,
            comment: comment.value.trim() || null,
            question: turn.question,
            answer: turn.text,
            citations: turn.citations,
            query: turn.query,
            status: turn.status,
          }),
        });
        if (!res.ok) {
          const data = await res.json().catch(() => null);
          throw new ApiError((data && data.error && data.error.message) || res.statusText);
        }
        form.hidden = true;
        result.replaceChildren(el("span", { i18n: "feedback.thanks" }));
        result.focus();
      } catch (err) {
        result.textContent = t("feedback.failed", { msg: err.message });
      } finally {
        submit.disabled = false;
      }
    });
    result.tabIndex = -1;
    const copy = el(
      "button",
      { type: "button", class: "button secondary small copy", onclick: () => copyAnswer(turn, copyStatus) },
      [icon("copy", 16), el("span", { i18n: "copy" })],
    );
    const copyStatus = el("span", { class: "copy-status", role: "status" });
    const bar = el("div", { class: "answer-actions" }, [
      el("div", { class: "copy-group" }, [copy, copyStatus]),
      el("div", { class: "feedback", role: "group", "aria-labelledby": fid + "-q" }, [
        el("span", { id: fid + "-q", class: "feedback-q", i18n: "feedback.question" }),
        up,
        down,
      ]),
    ]);
    turn.el.answer.append(bar, form, result);
  }


  function copyText(turn) {
    const today = new Date().toISOString().slice(0, 10);
    const lines = [t("copy.question", { q: turn.question }), "", t("copy.answer", { date: today }), turn.text.replace(/\*\*/g, "")];
    if (turn.citations.length) {
      lines.push("", t("copy.sources"));
      for (const c of turn.citations) {
        const d = c.document || {};
        const parts = [
          docName(d),
          d.body,
          c.date || d.date,
          c.paragraph ? t("source.paragraph", { v: c.paragraph }) : null,
          (c.case_numbers || []).length ? t("copy.case", { v: c.case_numbers.join(", ") }) : null,
          pagesLabel(c.page_start, c.page_end),
        ].filter(Boolean);
        lines.push(`[${c.n}] ${parts.join(", ")}.`);
      }
    }
    return lines.join("\n");
  }

  async function copyAnswer(turn, status) {
    const text = copyText(turn);
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch (e) {
      const area = el("textarea", { class: "visually-hidden", "aria-hidden": "true" });
      area.value = text;
      document.body.append(area);
      area.select();
      ok = document.execCommand("copy");
      area.remove();
    }
    status.dataset.i18n = ok ? "copy.done" : "copy.failed";
    status.textContent = t(status.dataset.i18n);
  }

  function finish(turn, data, restored) {
    turn.done = true;
    turn.status = data.status;
    turn.text = data.answer;
    turn.citations = data.citations || [];
    turn.query = data.query;
    turn.filters = data.filters;
    turn.notice = data.notice;
    turn.nearby = data.nearby || [];
    turn.data = data;
    if (!restored && turn.textEvents) {
      /* what was streamed but is not in the final answer (or the not-found message) is withdrawn, visibly */
      turn.withdrawn = turn.withdrawn.concat(withdrawnSentences(turn.streamed, turn.text));
    }
    turn.el.article.dataset.status = data.status;
    turn.el.answer.dataset.status = data.status;
    renderSearched(turn);
    renderNotice(turn);
    turn.el.answer.querySelectorAll(".sources").forEach((s) => s.remove());
    if (data.status === "not_found") {
      renderNotFound(turn);
      renderWithdrawn(turn);
      if (!restored) announce(t("status.notfound"));
    } else {
      renderAnswer(turn.el.answerText, turn.text, turn);
      renderWithdrawn(turn);
      renderSources(turn);
      if (!restored) announce(t("status.done"));
    }
    renderActions(turn);
    if (!restored) showApplied(data.filters);
  }

  function stopTurn(turn) {
    turn.done = true;
    turn.status = "stopped";
    turn.el.article.dataset.status = "stopped";
    turn.el.answer.dataset.status = "stopped";
    turn.el.answer.querySelectorAll(".sources.found").forEach((s) => s.remove());
    if (turn.text) renderAnswer(turn.el.answerText, turn.text, turn);
    else turn.el.answerText.replaceChildren();
    turn.el.answerText.append(el("p", { class: "stopped", i18n: "turn.stopped" }));
  }

  function failTurn(turn, message) {
    turn.done = true;
    turn.status = "error";
    turn.el.article.dataset.status = "error";
    turn.el.answer.classList.add("error");
    turn.el.answerText.replaceChildren(el("p", { role: "alert", text: message }));
  }

  function history() {
    const out = [];
    for (const turn of state.turns) {
      if (!turn.done || (turn.status !== "answered" && turn.status !== "not_found")) continue;
      out.push({ role: "user", content: turn.question.slice(0, 20000) });
      out.push({ role: "assistant", content: turn.text.slice(0, 20000) });
    }
    return out.slice(-40);
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 160;
  }

  function keepInView(turn) {
    turn.el.article.scrollIntoView({ block: "end", behavior: "auto" });
  }

  async function ask(raw) {
    if (state.busy) return;
    const question = (raw || "").trim();
    const error = $("question-error");
    error.textContent = "";
    if (!question) {
      error.textContent = t("ask.empty");
      $("question").focus();
      return;
    }
    const filters = readFilters();
    if (filters === false) return;
    const body = { question, history: history() };
    if (filters) body.filters = filters;
    const turn = addTurn(question);
    $("question").value = "";
    fitComposer();
    setBusy(true);
    announce(t("status.searching"));
    keepInView(turn);
    const started = performance.now();
    const controller = new AbortController();
    state.controller = controller;
    state.stopRequested = false;
    try {
      await streamAsk(
        body,
        {
          meta(d) {
            turn.query = d.query;
            turn.filters = d.filters;
            renderSearched(turn);
            showApplied(d.filters);
          },
          sources(d) {
            turn.sources = d || [];
            turn.el.article.dataset.msSources = String(Math.round(performance.now() - started));
            renderFound(turn);
            const counts = foundCounts(turn);
            if (counts.n) announce(t("status.found", counts));
          },
          text(d) {
            if (!turn.textEvents) turn.el.article.dataset.msFirstText = String(Math.round(performance.now() - started));
            turn.textEvents += 1;
            turn.el.article.dataset.textEvents = String(turn.textEvents);
            const follow = nearBottom();
            turn.text += d.text;
            turn.streamed += d.text;
            renderAnswer(turn.el.answerText, turn.text, turn);
            if (follow) keepInView(turn);
          },
          reset() {
            /* the text so far is discarded (the language model failed midway): withdrawn, visibly */
            turn.withdrawn = turn.withdrawn.concat(withdrawnSentences(turn.streamed, ""));
            turn.text = "";
            turn.streamed = "";
            turn.el.answerText.replaceChildren();
            renderWithdrawn(turn);
          },
          notice(d) {
            turn.notice = d;
            renderNotice(turn);
          },
          citations(d) {
            turn.citations = d || [];
            renderAnswer(turn.el.answerText, turn.text, turn);
          },
          done(d) {
            turn.el.article.dataset.msDone = String(Math.round(performance.now() - started));
            finish(turn, d);
          },
        },
        controller.signal,
      );
      if (!turn.done) failTurn(turn, t("turn.network"));
    } catch (err) {
      if (err.name === "AbortError" && state.stopRequested) {
        stopTurn(turn);
        announce(t("status.stopped"));
      } else if (err.name === "AbortError") {
        turn.el.article.remove();
        state.turns = state.turns.filter((x) => x !== turn);
      } else {
        failTurn(turn, err instanceof ApiError ? t("turn.error", { msg: err.message }) : t("turn.network"));
        announce(turn.el.answerText.textContent);
      }
    } finally {
      if (state.controller === controller) state.controller = null;
      setBusy(false);
      if (turn.done && turn.el.article.isConnected) {
        saveTurns();
        if (nearBottom()) keepInView(turn);
      }
    }
  }

  function setBusy(busy) {
    state.busy = busy;
    $("conversation").setAttribute("aria-busy", String(busy));
    const send = $("send");
    const stop = $("stop");
    const stopHadFocus = document.activeElement === stop;
    send.hidden = busy;
    stop.hidden = !busy;
    if (stopHadFocus && !busy) $("question").focus();
  }

  function stopAnswer() {
    if (!state.controller) return;
    state.stopRequested = true;
    state.controller.abort();
  }

  function clearConversation() {
    if (state.controller) state.controller.abort();
    state.turns = [];
    document.querySelectorAll("#conversation .turn").forEach((node) => node.remove());
    $("empty-state").hidden = false;
    $("parsed-filters").hidden = true;
    state.lastFilters = null;
    $("question-error").textContent = "";
    setBusy(false);
  }

  function newConversation() {
    clearConversation();
    state.conversation = freshConversation();
    storeCurrent(null);
    renderConversationList();
    $("question").value = "";
    fitComposer();
    announce(t("chat.new.done"));
    $("question").focus();
  }

  // -- conversations, kept in this browser (localStorage) ---------------------------------------------------

  const STORE_KEY = "arkiv.conversations";
  const CURRENT_KEY = "arkiv.current";
  const MAX_CONVERSATIONS = 50;

  function freshConversation() {
    const id = "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    return { id, title: "", renamed: false, created: Date.now(), updated: Date.now(), turns: [] };
  }

  function readStore() {
    try {
      const list = JSON.parse(window.localStorage.getItem(STORE_KEY) || "[]");
      return Array.isArray(list) ? list.filter((c) => c && typeof c.id === "string" && Array.isArray(c.turns)) : [];
    } catch (e) {
      return []; /* unreadable or unavailable storage: start empty */
    }
  }

  function writeStore(list) {
    let keep = list.slice(0, MAX_CONVERSATIONS);
    for (;;) {
      try {
        window.localStorage.setItem(STORE_KEY, JSON.stringify(keep));
        return;
      } catch (e) {
        if (keep.length <= 1) return; /* storage full or off: the conversation lasts for this page only */
        keep = keep.slice(0, -1);
      }
    }
  }

  function storeCurrent(id) {
    try {
      if (id) window.localStorage.setItem(CURRENT_KEY, id);
      else window.localStorage.removeItem(CURRENT_KEY);
    } catch (e) {
      /* storage off: nothing to remember */
    }
  }

  function savedTurn(turn) {
    return {
      question: turn.question,
      status: turn.status,
      data: turn.data || null,
      text: turn.text,
      sources: (turn.sources || []).slice(0, 12),
      withdrawn: turn.withdrawn,
    };
  }

  function conversationTitle(conv) {
    if (conv.title) return conv.title;
    const first = conv.turns[0];
    return first ? first.question.slice(0, 80) : t("conv.untitled");
  }

  function saveTurns() {
    const conv = state.conversation;
    conv.turns = state.turns.filter((x) => x.done && x.status !== "error").map(savedTurn);
    if (!conv.turns.length) return;
    conv.updated = Date.now();
    if (!conv.renamed) conv.title = conv.turns[0].question.slice(0, 80);
    const list = readStore().filter((c) => c.id !== conv.id);
    list.unshift(conv);
    writeStore(list);
    storeCurrent(conv.id);
    renderConversationList();
  }

  function restoreTurn(saved) {
    const turn = addTurn(saved.question);
    turn.sources = saved.sources || [];
    turn.withdrawn = saved.withdrawn || [];
    if (saved.status === "stopped" || !saved.data) {
      turn.text = saved.text || "";
      stopTurn(turn);
    } else {
      finish(turn, saved.data, true);
    }
  }

  function openConversation(id, announceIt) {
    const conv = readStore().find((c) => c.id === id);
    if (!conv) return false;
    clearConversation();
    state.conversation = conv;
    conv.turns.forEach(restoreTurn);
    const last = state.turns[state.turns.length - 1];
    if (last && last.filters) showApplied(last.filters);
    storeCurrent(conv.id);
    renderConversationList();
    if (announceIt) announce(t("conv.opened", { title: conversationTitle(conv) }));
    return true;
  }

  function deleteConversation(id) {
    const list = readStore();
    const gone = list.find((c) => c.id === id);
    writeStore(list.filter((c) => c.id !== id));
    if (state.conversation.id === id) {
      clearConversation();
      state.conversation = freshConversation();
      storeCurrent(null);
    }
    renderConversationList();
    if (gone) announce(t("conv.deleted", { title: conversationTitle(gone) }));
    const next = $("conversation-list").querySelector(".conv-open");
    (next || $("question")).focus();
  }

  function renameConversation(id, title) {
    const list = readStore();
    const conv = list.find((c) => c.id === id);
    if (!conv) return;
    conv.title = title.slice(0, 120);
    conv.renamed = true;
    writeStore(list);
    if (state.conversation.id === id) {
      state.conversation.title = conv.title;
      state.conversation.renamed = true;
    }
    renderConversationList();
    announce(t("conv.renamed", { title: conv.title }));
    const again = $("conversation-list").querySelector(`[data-conv="${CSS.escape(id)}"] .conv-rename`);
    if (again) again.focus();
  }

  function startRename(item, conv) {
    const input = el("input", { type: "text", id: "rename-" + conv.id, class: "conv-rename-input", maxlength: "120", autocomplete: "off" });
    input.value = conversationTitle(conv);
    const cancel = () => {
      renderConversationList();
      const back = $("conversation-list").querySelector(`[data-conv="${CSS.escape(conv.id)}"] .conv-rename`);
      if (back) back.focus();
    };
    const form = el("form", { class: "conv-rename-form" }, [
      el("label", { for: input.id, class: "visually-hidden", i18n: "conv.rename.label" }),
      input,
      el("button", { type: "submit", class: "button primary small", i18n: "conv.rename.save" }),
      el("button", { type: "button", class: "button secondary small", i18n: "conv.rename.cancel", onclick: cancel }),
    ]);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const title = input.value.trim();
      if (title) renameConversation(conv.id, title);
      else cancel();
    });
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        ev.preventDefault();
        cancel();
      }
    });
    item.replaceChildren(form);
    input.focus();
    input.select();
  }

  function renderConversationList() {
    const list = $("conversation-list");
    const stored = readStore();
    list.replaceChildren();
    $("conv-empty").hidden = stored.length > 0;
    for (const conv of stored) {
      const title = conversationTitle(conv);
      const n = conv.turns.length;
      const current = state.conversation && conv.id === state.conversation.id;
      const item = el("li", { class: "conv-item", "data-conv": conv.id });
      const open = el(
        "button",
        { type: "button", class: "conv-open", "aria-current": current ? "true" : null, onclick: () => openConversation(conv.id, true) },
        [
          el("span", { class: "conv-title", text: title }),
          el("span", { class: "conv-meta", text: (n === 1 ? t("conv.turns.one") : t("conv.turns", { n })) + " · " + new Date(conv.updated).toLocaleDateString(I.lang === "sv" ? "sv-SE" : "en-GB") }),
        ],
      );
      const rename = el("button", { type: "button", class: "icon-button small conv-rename", "aria-label": t("conv.rename", { title }), title: t("conv.rename", { title }), onclick: () => startRename(item, conv) }, [icon("edit", 16)]);
      const remove = el("button", { type: "button", class: "icon-button small conv-delete", "aria-label": t("conv.delete", { title }), title: t("conv.delete", { title }), onclick: () => deleteConversation(conv.id) }, [icon("trash", 16)]);
      item.append(open, rename, remove);
      list.append(item);
    }
  }

  function toggleConversations() {
    const button = $("conv-toggle");
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    $("conversations").classList.toggle("open", open);
    if (open) {
      const first = $("conversation-list").querySelector(".conv-open");
      if (first) first.focus();
    }
  }

  // -- the composer -----------------------------------------------------------------------------------------

  /* The question box grows with its text; CSS caps it (max-height) so the form stays within a fifth of a phone. */
  function fitComposer() {
    const q = $("question");
    q.style.height = "auto";
    q.style.height = q.scrollHeight + 2 + "px";
  }

  // -- the source panel -------------------------------------------------------------------------------------

  function marked(text, highlights) {
    const frag = document.createDocumentFragment();
    let at = 0;
    for (const h of highlights) {
      if (h.start > at) frag.append(text.slice(at, h.start));
      frag.append(el("mark", { class: "hl-" + h.kind, text: text.slice(h.start, h.end) }));
      at = h.end;
    }
    if (at < text.length) frag.append(text.slice(at));
    return frag;
  }

  function highlightQuery(c) {
    const params = new URLSearchParams();
    params.append("highlight", (c.text || "").slice(0, 1500));
    (c.quotes || []).slice(0, 4).forEach((q) => params.append("quote", q.slice(0, 400)));
    return params;
  }

  function metaRow(list, key, value) {
    if (!value) return;
    list.append(el("div", null, [el("dt", { i18n: key }), value instanceof Node ? el("dd", null, [value]) : el("dd", { text: value })]));
  }

  async function openSource(turn, c, trigger) {
    const dialog = $("source-panel");
    const token = ++state.panelToken;
    state.panelReturn = trigger;
    const d = c.document || {};
    const eyebrow = $("source-eyebrow");
    eyebrow.dataset.i18n = "panel.source";
    eyebrow.dataset.i18nVars = JSON.stringify({ n: c.n });
    eyebrow.textContent = t("panel.source", { n: c.n });
    $("source-title").textContent = docName(d);
    const meta = $("source-meta");
    meta.replaceChildren();
    metaRow(meta, "panel.type", I.typeLabel(d.type));
    metaRow(meta, "panel.body", d.body);
    metaRow(meta, "panel.date", c.date || d.date);
    metaRow(meta, "panel.paragraph", c.paragraph ? "§ " + c.paragraph : null);
    metaRow(meta, "panel.case_numbers", caseLinks(c.case_numbers || []));
    metaRow(meta, "panel.page", pagesLabel(c.page_start, c.page_end).replace(/^(s|p|pp)\. /, ""));
    metaRow(meta, "panel.part", c.part);
    metaRow(meta, "panel.section", c.section);
    const first = c.page_start || 1;
    const link = $("open-page");
    link.href = pageHref(c, first);
    const pages = $("source-pages");
    pages.replaceChildren(el("p", { class: "loading", i18n: "panel.loading" }));
    if (!dialog.open) dialog.showModal();
    $("close-source").focus();

    const last = Math.min(c.page_end || first, first + 2);
    const numbers = [];
    for (let n = first; n <= last; n++) numbers.push(n);
    const params = highlightQuery(c);
    try {
      const results = await Promise.all(
        numbers.map(async (n) => {
          const res = await fetch(`/api/documents/${encodeURIComponent(d.id)}/pages/${n}?${params}`);
          const data = await res.json();
          if (!res.ok) throw new ApiError((data.error && data.error.message) || res.statusText);
          return data;
        }),
      );
      if (token !== state.panelToken) return;
      pages.replaceChildren();
      for (const data of results) {
        const section = el("section", { class: "page-block", "aria-label": t("panel.page_heading", { n: data.page.number }) });
        if (results.length > 1) section.append(el("h4", { i18n: "panel.page_heading", vars: { n: data.page.number } }));
        if (data.page.method === "ocr") section.append(el("p", { class: "notice small", i18n: "panel.ocr" }));
        section.append(el("div", { class: "page-text" }, [marked(data.page.text, data.highlights)]));
        pages.append(section);
      }
      const mark = pages.querySelector("mark");
      if (mark) {
        const top = mark.offsetTop - pages.offsetTop - pages.clientHeight / 3;
        pages.scrollTop = Math.max(0, top);
      }
    } catch (err) {
      if (token !== state.panelToken) return;
      pages.replaceChildren(el("p", { class: "error", role: "alert", text: t("panel.failed", { msg: err.message }) }));
    }
  }

  function setupPanel() {
    const dialog = $("source-panel");
    $("close-source").addEventListener("click", () => dialog.close());
    dialog.addEventListener("click", (ev) => {
      if (ev.target === dialog) dialog.close();
    });
    dialog.addEventListener("close", () => {
      state.panelToken += 1;
      const back = state.panelReturn;
      state.panelReturn = null;
      if (back && back.isConnected) back.focus();
    });
  }

  // -- start ------------------------------------------------------------------------------------------------

  function init() {
    I.init();
    setupPanel();
    const form = $("ask-form");
    const question = $("question");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      ask(question.value);
    });
    question.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        ask(question.value);
      }
    });
    question.addEventListener("input", fitComposer);
    document.querySelectorAll(".example").forEach((button) =>
      button.addEventListener("click", () => {
        question.value = button.textContent;
        ask(button.textContent);
      }),
    );
    $("stop").addEventListener("click", stopAnswer);
    $("new-conversation").addEventListener("click", newConversation);
    $("conv-toggle").addEventListener("click", toggleConversations);
    $("clear-filters").addEventListener("click", clearFilters);
    $("use-parsed").addEventListener("click", useApplied);
    ["year-from", "year-to", "body-filter", "type-filter"].forEach((id) => $(id).addEventListener("change", updateFilterCount));
    I.onChange(() => {
      for (const turn of state.turns) {
        if (turn.query !== null) renderSearched(turn);
        if (!turn.done) renderFound(turn);
        if (turn.done && turn.status === "answered") renderSources(turn);
        if (turn.done && turn.status === "not_found") renderNotFound(turn);
      }
      renderConversationList();
      if (state.lastFilters) showApplied(state.lastFilters);
      updateFilterCount();
    });
    updateFilterCount();
    loadBodies();
    /* reloading keeps the conversation that was open */
    let current = null;
    try {
      current = window.localStorage.getItem(CURRENT_KEY);
    } catch (e) {
      current = null; /* storage off */
    }
    if (!current || !openConversation(current, false)) {
      state.conversation = freshConversation();
      renderConversationList();
    }
    fitComposer();
    document.body.dataset.ready = "true";
    if (window.ResizeObserver) {
      new ResizeObserver(() => {
        document.documentElement.style.setProperty("--form-h", form.offsetHeight + 16 + "px");
      }).observe(form);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
