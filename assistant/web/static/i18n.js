/* Arkiv: the web pages' texts in Swedish and English (static/texts.json), and the language switch. */
"use strict";

(function () {
  /* The catalogue of UI texts, Swedish and English: static/texts.json, the same file the server's templates use,
     served as /ui-texts.js (window.ArkivTexts) so that it is here before the page's scripts run. */
  const STRINGS = window.ArkivTexts || { sv: {}, en: {} };

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
