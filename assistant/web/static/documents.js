/* Arkiv: the documents page. Lists what is indexed (GET /api/documents?q=), searchable by title. */
"use strict";

(function () {
  const I = window.ArkivI18n;
  const t = I.t;
  const $ = (id) => document.getElementById(id);
  let last = null;
  let seq = 0;
  let timer = null;

  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function readCell(doc) {
    const items = [];
    for (const method of ["text", "ocr", "skipped"]) {
      const n = (doc.read || {})[method] || 0;
      if (n) items.push(el("li", { class: "read-" + method, text: t("docs.read." + method, { n }) }));
    }
    const cell = el("td", null, [el("ul", { class: "read-list" }, items)]);
    if (doc.quality !== null && doc.quality !== undefined) {
      cell.append(el("span", { class: "quality", text: t("docs.quality", { v: Math.round(doc.quality * 100) }) }));
    }
    if (doc.skipped && doc.skipped.length) {
      cell.append(
        el("details", { class: "read-details" }, [
          el("summary", { text: t("docs.skipped.details") }),
          el(
            "ul",
            null,
            doc.skipped.map((s) => el("li", { text: t("docs.skipped.item", { page: s.page, note: s.note || t("docs.skipped.noreason") }) })),
          ),
        ]),
      );
    }
    if (doc.notes && doc.notes.length) {
      cell.append(
        el("details", { class: "read-details" }, [
          el("summary", { text: t("docs.notes.details") }),
          el("ul", null, doc.notes.map((s) => el("li", { text: t("docs.skipped.item", { page: s.page, note: s.note }) }))),
        ]),
      );
    }
    return cell;
  }

  function row(doc) {
    const href = doc.view_url && I.lang !== "sv" ? doc.view_url + "?lang=" + I.lang : doc.view_url;
    const title = href ? el("a", { href, class: "doc-title" }, doc.title) : el("span", { class: "doc-title", text: doc.title });
    const titleCell = el("th", { scope: "row" }, [title, el("span", { class: "doc-source", text: doc.source })]);
    if (doc.file_url) titleCell.append(" ", el("a", { href: doc.file_url, class: "doc-pdf" }, t("docs.open.pdf")));
    return el("tr", { "data-doc-id": doc.id }, [
      titleCell,
      el("td", { text: I.typeLabel(doc.type) }),
      el("td", { text: doc.body || "–" }),
      el("td", { class: "date", text: doc.date || (doc.year ? String(doc.year) : "–") }),
      el("td", { class: "num", text: String(doc.pages) }),
      el("td", { class: "num", text: String(doc.chunks) }),
      readCell(doc),
    ]);
  }

  function render() {
    const rows = $("doc-rows");
    const count = $("doc-count");
    if (!last) return;
    rows.replaceChildren(...last.documents.map(row));
    if (!last.total) count.textContent = t("docs.empty");
    else if (!last.count) count.textContent = t("docs.none", { q: last.query });
    else count.textContent = t("docs.count", { n: last.count, total: last.total });
  }

  async function load(q) {
    const mine = ++seq;
    try {
      const res = await fetch("/api/documents?" + new URLSearchParams({ q }));
      const data = await res.json();
      if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
      if (mine !== seq) return;
      last = data;
      render();
    } catch (err) {
      if (mine === seq) $("doc-count").textContent = t("docs.failed", { msg: err.message });
    }
  }

  function init() {
    I.init();
    const input = $("doc-query");
    const params = new URLSearchParams(window.location.search);
    input.value = params.get("q") || "";
    $("doc-count").textContent = t("docs.loading");
    $("doc-search").addEventListener("submit", (ev) => {
      ev.preventDefault();
      window.clearTimeout(timer);
      load(input.value);
    });
    input.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => {
        const url = new URL(window.location.href);
        if (input.value) url.searchParams.set("q", input.value);
        else url.searchParams.delete("q");
        window.history.replaceState(null, "", url);
        load(input.value);
      }, 200);
    });
    I.onChange(render);
    load(input.value);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
