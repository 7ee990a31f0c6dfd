/* Arkiv: the strings of the web pages in Swedish and English, and the language switch. */
"use strict";

(function () {
  const STRINGS = {
    sv: {
      "title.chat": "Fråga arkivet – Arkiv",
      "title.documents": "Dokument – Arkiv",
      "skip.question": "Hoppa till frågan",
      "skip.main": "Hoppa till innehållet",
      "nav.main": "Huvudmeny",
      "nav.chat": "Fråga arkivet",
      "nav.documents": "Dokument",
      "lang.other": "English",
      "lang.other.code": "en",
      "chat.heading": "Fråga arkivet",
      "chat.intro": "Ställ en fråga om protokoll, kallelser, tjänsteskrivelser, planer och årsredovisningar. Svaren bygger bara på arkivets dokument och visar källan för varje påstående.",
      "chat.log": "Konversation",
      "chat.examples": "Exempel på frågor",
      "chat.example1": "Vad föreslog presidiet om stöd till besöksnäringen inför sommaren 2022?",
      "chat.example2": "Vilka kontrollmoment finns i internkontrollplanen 2023?",
      "chat.example3": "Vilket resultat redovisade förbundet 2012?",
      "chat.new": "Ny konversation",
      "chat.new.done": "En ny konversation har börjat.",
      "ask.label": "Din fråga",
      "ask.placeholder": "Skriv en fråga om arkivet …",
      "ask.hint": "Enter skickar, Skift+Enter ger en ny rad.",
      "ask.send": "Skicka",
      "ask.sending": "Söker …",
      "ask.empty": "Skriv en fråga först.",
      "filters.summary": "Filter",
      "filters.legend": "Begränsa sökningen",
      "filters.year_from": "År från",
      "filters.year_to": "År till",
      "filters.body": "Organ",
      "filters.doc_type": "Dokumenttyp",
      "filters.any_body": "Alla organ",
      "filters.any_type": "Alla typer",
      "filters.clear": "Rensa filter",
      "filters.active": "{n} aktiva",
      "filters.parsed": "Tillämpat på senaste frågan:",
      "filters.parsed.none": "inga filter",
      "filters.use": "Använd som filter",
      "filters.bad_years": "”År från” är senare än ”År till”.",
      "filter.year": "år {v}",
      "filter.year_from": "från år {v}",
      "filter.year_to": "till år {v}",
      "filter.date_from": "från {v}",
      "filter.date_to": "till {v}",
      "filter.body": "organ: {v}",
      "filter.doc_type": "typ: {v}",
      "filter.case_number": "diarienummer {v}",
      "filter.paragraph": "§ {v}",
      "filter.document": "dokument: {v}",
      "filter.access_groups": "behörighet: {v}",
      "type.protokoll": "Protokoll",
      "type.kallelse": "Kallelse/dagordning",
      "type.tjansteskrivelse": "Tjänsteskrivelse",
      "type.arsredovisning": "Årsredovisning",
      "type.plan": "Plan",
      "type.ovrigt": "Övrigt",
      "turn.question": "Fråga {n}",
      "turn.you": "Du",
      "turn.arkiv": "Arkiv",
      "turn.searched": "Sökte efter:",
      "turn.filters": "Filter:",
      "turn.no_filters": "inga filter",
      "turn.thinking": "Söker i arkivet …",
      "turn.notfound.title": "Hittades inte i arkivet",
      "turn.notfound.body": "Arkivet innehåller inget som besvarar frågan.",
      "turn.notfound.hint": "Pröva andra ord, en annan tidsperiod eller färre filter. Arkiv svarar bara utifrån arkivets egna dokument.",
      "turn.nearby": "Närmast i arkivet:",
      "turn.error": "Frågan kunde inte besvaras: {msg}",
      "turn.network": "Kontakten med servern bröts. Försök igen.",
      "sources.heading": "Källor",
      "source.page": "s. {v}",
      "source.pages": "s. {a}–{b}",
      "cite.label": "Källa {n}: {title}",
      "copy": "Kopiera svar",
      "copy.done": "Svaret är kopierat.",
      "copy.failed": "Det gick inte att kopiera.",
      "copy.sources": "Källor:",
      "feedback.question": "Var svaret till hjälp?",
      "feedback.up": "Ja, svaret var till hjälp",
      "feedback.down": "Nej, svaret var inte till hjälp",
      "feedback.comment": "Kommentar (valfri)",
      "feedback.comment.hint": "Skriv inte personuppgifter. Högst 2000 tecken.",
      "feedback.send": "Skicka omdöme",
      "feedback.thanks": "Tack! Ditt omdöme är sparat.",
      "feedback.failed": "Omdömet kunde inte sparas: {msg}",
      "status.searching": "Söker i arkivet …",
      "status.done": "Svaret är klart.",
      "status.notfound": "Hittades inte i arkivet.",
      "panel.close": "Stäng källan",
      "panel.source": "Källa {n}",
      "panel.type": "Typ",
      "panel.body": "Organ",
      "panel.date": "Datum",
      "panel.paragraph": "§",
      "panel.case_numbers": "Diarienummer",
      "panel.page": "Sida",
      "panel.part": "Del",
      "panel.section": "Avsnitt",
      "panel.open": "Öppna sidan",
      "panel.open.new": "(öppnas i en ny flik)",
      "panel.text": "Sidans text",
      "panel.page_heading": "Sida {n}",
      "panel.loading": "Hämtar sidan …",
      "panel.failed": "Sidan kunde inte hämtas: {msg}",
      "panel.ocr": "Sidan är inläst med OCR; texten kan innehålla fel.",
      "panel.legend": "Markerat: det citerade stycket; starkare markering: meningar som svaret bygger på.",
      "docs.heading": "Dokument i arkivet",
      "docs.intro": "Det här är indexerat: varje dokument med typ, organ, datum, antal sidor och avsnitt, och hur sidorna lästes in (textlager eller OCR). Överhoppade sidor visas med skäl.",
      "docs.search": "Sök på titel",
      "docs.search.hint": "Skiftläge och accenter spelar ingen roll.",
      "docs.count": "Visar {n} av {total} dokument.",
      "docs.none": "Inga dokument matchar ”{q}”.",
      "docs.empty": "Inget är indexerat ännu. Kör arkiv index.",
      "docs.caption": "Indexerade dokument",
      "docs.col.title": "Titel",
      "docs.col.type": "Typ",
      "docs.col.body": "Organ",
      "docs.col.date": "Datum",
      "docs.col.pages": "Sidor",
      "docs.col.chunks": "Avsnitt",
      "docs.col.read": "Inläsning",
      "docs.read.text": "{n} textlager",
      "docs.read.ocr": "{n} OCR",
      "docs.read.skipped": "{n} överhoppade",
      "docs.skipped.details": "Överhoppade sidor",
      "docs.skipped.item": "Sida {page}: {note}",
      "docs.skipped.noreason": "inget skäl angivet",
      "docs.notes.details": "Anteckningar",
      "docs.quality": "Textkvalitet {v} %",
      "docs.open.pdf": "PDF",
      "docs.loading": "Hämtar dokument …",
      "docs.failed": "Listan kunde inte hämtas: {msg}",
      "docs.table.region": "Tabell över dokument",
    },
    en: {
      "title.chat": "Ask the archive – Arkiv",
      "title.documents": "Documents – Arkiv",
      "skip.question": "Skip to the question",
      "skip.main": "Skip to the content",
      "nav.main": "Main menu",
      "nav.chat": "Ask the archive",
      "nav.documents": "Documents",
      "lang.other": "Svenska",
      "lang.other.code": "sv",
      "chat.heading": "Ask the archive",
      "chat.intro": "Ask about minutes, agendas, official reports, plans and annual reports. Answers rest only on the archive's documents and show the source of every claim.",
      "chat.log": "Conversation",
      "chat.examples": "Example questions",
      "chat.example1": "Vad föreslog presidiet om stöd till besöksnäringen inför sommaren 2022?",
      "chat.example2": "Vilka kontrollmoment finns i internkontrollplanen 2023?",
      "chat.example3": "Vilket resultat redovisade förbundet 2012?",
      "chat.new": "New conversation",
      "chat.new.done": "A new conversation has started.",
      "ask.label": "Your question",
      "ask.placeholder": "Type a question about the archive …",
      "ask.hint": "Enter sends, Shift+Enter adds a new line.",
      "ask.send": "Send",
      "ask.sending": "Searching …",
      "ask.empty": "Type a question first.",
      "filters.summary": "Filters",
      "filters.legend": "Narrow the search",
      "filters.year_from": "Year from",
      "filters.year_to": "Year to",
      "filters.body": "Body",
      "filters.doc_type": "Document type",
      "filters.any_body": "All bodies",
      "filters.any_type": "All types",
      "filters.clear": "Clear filters",
      "filters.active": "{n} active",
      "filters.parsed": "Applied to the last question:",
      "filters.parsed.none": "no filters",
      "filters.use": "Use as filters",
      "filters.bad_years": "“Year from” is later than “Year to”.",
      "filter.year": "year {v}",
      "filter.year_from": "from year {v}",
      "filter.year_to": "to year {v}",
      "filter.date_from": "from {v}",
      "filter.date_to": "to {v}",
      "filter.body": "body: {v}",
      "filter.doc_type": "type: {v}",
      "filter.case_number": "case number {v}",
      "filter.paragraph": "§ {v}",
      "filter.document": "document: {v}",
      "filter.access_groups": "access: {v}",
      "type.protokoll": "Minutes",
      "type.kallelse": "Notice/agenda",
      "type.tjansteskrivelse": "Official report",
      "type.arsredovisning": "Annual report",
      "type.plan": "Plan",
      "type.ovrigt": "Other",
      "turn.question": "Question {n}",
      "turn.you": "You",
      "turn.arkiv": "Arkiv",
      "turn.searched": "Searched for:",
      "turn.filters": "Filters:",
      "turn.no_filters": "no filters",
      "turn.thinking": "Searching the archive …",
      "turn.notfound.title": "Not found in the archive",
      "turn.notfound.body": "The archive holds nothing that answers the question.",
      "turn.notfound.hint": "Try other words, another period or fewer filters. Arkiv answers only from the archive's own documents.",
      "turn.nearby": "Nearest in the archive:",
      "turn.error": "The question could not be answered: {msg}",
      "turn.network": "The connection to the server was lost. Try again.",
      "sources.heading": "Sources",
      "source.page": "p. {v}",
      "source.pages": "pp. {a}–{b}",
      "cite.label": "Source {n}: {title}",
      "copy": "Copy answer",
      "copy.done": "The answer has been copied.",
      "copy.failed": "Copying failed.",
      "copy.sources": "Sources:",
      "feedback.question": "Was the answer helpful?",
      "feedback.up": "Yes, the answer was helpful",
      "feedback.down": "No, the answer was not helpful",
      "feedback.comment": "Comment (optional)",
      "feedback.comment.hint": "Do not include personal data. At most 2000 characters.",
      "feedback.send": "Send feedback",
      "feedback.thanks": "Thank you! Your feedback has been saved.",
      "feedback.failed": "The feedback could not be saved: {msg}",
      "status.searching": "Searching the archive …",
      "status.done": "The answer is ready.",
      "status.notfound": "Not found in the archive.",
      "panel.close": "Close the source",
      "panel.source": "Source {n}",
      "panel.type": "Type",
      "panel.body": "Body",
      "panel.date": "Date",
      "panel.paragraph": "§",
      "panel.case_numbers": "Case numbers",
      "panel.page": "Page",
      "panel.part": "Part",
      "panel.section": "Section",
      "panel.open": "Open the page",
      "panel.open.new": "(opens in a new tab)",
      "panel.text": "Text of the page",
      "panel.page_heading": "Page {n}",
      "panel.loading": "Loading the page …",
      "panel.failed": "The page could not be loaded: {msg}",
      "panel.ocr": "This page was read by OCR; the text may contain errors.",
      "panel.legend": "Highlighted: the cited passage; stronger: the sentences the answer rests on.",
      "docs.heading": "Documents in the archive",
      "docs.intro": "This is what is indexed: each document with its type, body, date, pages and passages, and how its pages were read (text layer or OCR). Skipped pages are listed with the reason.",
      "docs.search": "Search by title",
      "docs.search.hint": "Case and accents do not matter.",
      "docs.count": "Showing {n} of {total} documents.",
      "docs.none": "No documents match “{q}”.",
      "docs.empty": "Nothing is indexed yet. Run arkiv index.",
      "docs.caption": "Indexed documents",
      "docs.col.title": "Title",
      "docs.col.type": "Type",
      "docs.col.body": "Body",
      "docs.col.date": "Date",
      "docs.col.pages": "Pages",
      "docs.col.chunks": "Passages",
      "docs.col.read": "Read by",
      "docs.read.text": "{n} text layer",
      "docs.read.ocr": "{n} OCR",
      "docs.read.skipped": "{n} skipped",
      "docs.skipped.details": "Skipped pages",
      "docs.skipped.item": "Page {page}: {note}",
      "docs.skipped.noreason": "no reason given",
      "docs.notes.details": "Notes",
      "docs.quality": "Text quality {v} %",
      "docs.open.pdf": "PDF",
      "docs.loading": "Loading documents …",
      "docs.failed": "The list could not be loaded: {msg}",
      "docs.table.region": "Table of documents",
    },
  };

  const KEY = "arkiv.lang";

  function stored() {
    try {
      const v = window.localStorage.getItem(KEY);
      return v === "en" || v === "sv" ? v : null;
    } catch (e) {
      return null;
    }
  }

  let lang = stored() || "sv";
  const listeners = [];

  function t(key, vars) {
    const table = STRINGS[lang] || STRINGS.sv;
    let s = key in table ? table[key] : (STRINGS.sv[key] ?? key);
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
    }
    return s;
  }

  /* Elements carry data-i18n="key" (text), data-i18n-attr="attr:key;attr:key" and data-i18n-vars='{...}'. */
  function apply(root) {
    const scope = root || document;
    scope.querySelectorAll("[data-i18n]").forEach((el) => {
      const vars = el.dataset.i18nVars ? JSON.parse(el.dataset.i18nVars) : undefined;
      el.textContent = t(el.dataset.i18n, vars);
    });
    scope.querySelectorAll("[data-i18n-attr]").forEach((el) => {
      const vars = el.dataset.i18nVars ? JSON.parse(el.dataset.i18nVars) : undefined;
      el.dataset.i18nAttr.split(";").forEach((pair) => {
        const [attr, key] = pair.split(":");
        if (attr && key) el.setAttribute(attr.trim(), t(key.trim(), vars));
      });
    });
  }

  function setLang(next) {
    lang = next === "en" ? "en" : "sv";
    try {
      window.localStorage.setItem(KEY, lang);
    } catch (e) {
      /* private mode: the choice lasts for this page only */
    }
    document.documentElement.lang = lang;
    apply(document);
    const button = document.getElementById("lang-switch");
    if (button) {
      button.lang = t("lang.other.code");
      button.textContent = t("lang.other");
    }
    listeners.forEach((fn) => fn(lang));
  }

  function init() {
    setLang(lang);
    const button = document.getElementById("lang-switch");
    if (button) {
      button.addEventListener("click", () => setLang(lang === "sv" ? "en" : "sv"));
    }
  }

  window.ArkivI18n = {
    t,
    apply,
    setLang,
    init,
    get lang() {
      return lang;
    },
    onChange(fn) {
      listeners.push(fn);
    },
    typeLabel(type) {
      return type ? t("type." + type) : "";
    },
  };
})();
