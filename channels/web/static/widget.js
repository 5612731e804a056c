/*! Beacon web widget for parents and carers. Plain JavaScript, no dependencies, no build step.
 *
 * Embed with one tag (see docs/widget.md):
 *   <script src="https://BEACON-HOST/webhooks/web/widget.js" data-lang="en"
 *           data-exit-url="https://www.bbc.co.uk/weather" defer></script>
 *
 * Safety rules kept here: bot text is inserted as text (never HTML); only https: and tel: links are
 * clickable; only sessionStorage is used (no cookies, no localStorage); Quick exit (button, or Shift
 * pressed 3 times within 5 s) replaces the page with a neutral site.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__beaconWidget) {
    return;
  }
  window.__beaconWidget = true;

  var LANGUAGES = ["en", "it", "el", "lt", "nl", "fr"];
  var DEFAULT_EXIT_URL = "https://www.bbc.co.uk/weather";
  var MAX_ITEMS = 200;
  var MAX_INPUT = 2000;
  var REQUEST_TIMEOUT_MS = 45000;
  var SVG_NS = "http://www.w3.org/2000/svg";

  // Last resort only: used when the strings endpoint cannot be reached. The real strings (in every
  // language) come from content/<lang>/widget.yml through GET /webhooks/web/strings.
  var FALLBACK = {
    "language.label": "Language",
    "launcher": "Chat with Beacon",
    "title": "Beacon",
    "subtitle": "An automated chat for parents and carers about online grooming",
    "close": "Close chat",
    "exit": "Quick exit",
    "intro.exit": "Need to leave quickly? Press \u201cQuick exit\u201d or press the Shift key 3 times: this page is replaced at once by an ordinary website, such as a weather page.",
    "intro.history": "Quick exit does not clear your browser history. For more privacy, use a private or incognito window, or delete this site from your browsing history afterwards. \u201cDelete this conversation\u201d removes the chat from this page and from our server.",
    "log.label": "Conversation with Beacon",
    "you": "You said:",
    "bot": "Beacon said:",
    "input.label": "Your message",
    "input.placeholder": "Type your question here",
    "send": "Send",
    "typing": "Beacon is typing\u2026",
    "retry": "Try again",
    "suggestions": "Suggested replies",
    "link.new_tab": "(opens in a new tab)",
    "delete": "Delete this conversation",
    "delete.confirm": "Delete this conversation from this page and from Beacon\u2019s server? This cannot be undone.",
    "delete.yes": "Yes, delete it",
    "delete.no": "No, keep it",
    "deleted": "This conversation has been deleted.",
    "error.network": "Your message could not be sent. Please check your connection and try again.",
    "error.rate_limited": "You are sending messages a little fast. Please wait a moment, then try again.",
    "error.session": "This conversation had expired, so a new one has started.",
    "error.too_long": "That message is too long. Please shorten it and try again.",
    "error.bot_unavailable": "Sorry, I can\u2019t answer right now. Please try again in a few minutes. If a child is in immediate danger, call your local emergency number (112 in Europe, 999 in the UK).",
    "error.delete_failed": "The conversation could not be deleted just now. Please try again.",
    "error.not_allowed": "The chat is not available on this website."
  };

  // ------------------------------------------------------------------ configuration

  function pickLanguage(code) {
    if (!code || typeof code !== "string") {
      return null;
    }
    var short = code.trim().toLowerCase().replace("_", "-").split("-")[0];
    return LANGUAGES.indexOf(short) >= 0 ? short : null;
  }

  function httpUrl(value, fallback) {
    if (!value) {
      return fallback;
    }
    try {
      var url = new URL(value, window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : fallback;
    } catch (error) {
      return fallback;
    }
  }

  var scriptUrl = new URL(script.src, window.location.href);
  var BASE = httpUrl(script.getAttribute("data-server"), null) ||
    scriptUrl.href.split(/[?#]/)[0].replace(/\/widget\.js$/, "");
  BASE = BASE.replace(/\/+$/, "");
  var EXIT_URL = httpUrl(script.getAttribute("data-exit-url"), DEFAULT_EXIT_URL);
  var STORAGE_KEY = "beacon-web:" + BASE;

  function initialLanguage() {
    var fromNavigator = null;
    var list = navigator.languages || [];
    for (var i = 0; i < list.length && !fromNavigator; i++) {
      fromNavigator = pickLanguage(list[i]);
    }
    return pickLanguage(script.getAttribute("data-lang")) ||
      pickLanguage(document.documentElement.getAttribute("lang")) ||
      pickLanguage(navigator.language) || fromNavigator || "en";
  }

  // ------------------------------------------------------------------ state (sessionStorage only)

  function loadState() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null");
      if (saved && typeof saved === "object") {
        return {
          token: typeof saved.token === "string" ? saved.token : null,
          lang: pickLanguage(saved.lang),
          items: Array.isArray(saved.items) ? saved.items.filter(validItem).slice(-MAX_ITEMS) : []
        };
      }
    } catch (error) { /* unreadable or blocked storage: start fresh */ }
    return { token: null, lang: null, items: [] };
  }

  var exiting = false;

  function saveState() {
    if (exiting) {
      return;  // after Quick exit nothing is written again, even if a reply arrives before the page goes
    }
    try {
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify({
        token: state.token, lang: state.lang, items: state.items.slice(-MAX_ITEMS)
      }));
    } catch (error) { /* storage full or blocked: the chat still works for this page */ }
  }

  function forgetState() {
    try {
      window.sessionStorage.removeItem(STORAGE_KEY);
    } catch (error) { /* nothing stored */ }
  }

  function validItem(item) {
    return item && typeof item === "object" && typeof item.text === "string" &&
      (item.who === "bot" || item.who === "user" || item.who === "note");
  }

  var state = loadState();
  state.lang = state.lang || initialLanguage();
  var strings = Object.assign({}, FALLBACK);
  var languageNames = LANGUAGES.map(function (code) { return { code: code, name: code.toUpperCase() }; });
  var stringsCache = {};

  function t(key) {
    return strings[key] || FALLBACK[key] || "";
  }

  // ------------------------------------------------------------------ DOM helpers (never innerHTML)

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === false || value === null || value === undefined) {
        return;
      }
      if (name === "text") {
        node.textContent = value;
      } else if (name === "className") {
        node.className = value;
      } else {
        node.setAttribute(name, value === true ? "" : String(value));
      }
    });
    (children || []).forEach(function (child) {
      if (child) {
        node.appendChild(child);
      }
    });
    return node;
  }

  function icon(path) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "bcn-icon");
    var shape = document.createElementNS(SVG_NS, "path");
    shape.setAttribute("d", path);
    svg.appendChild(shape);
    return svg;
  }

  // Phone numbers in bot text become tel: links; nothing else in the text is ever a link. Groups of
  // 2+ digits separated by single spaces ("0800 1111", "01 40 20 50 50"); short numbers only when they
  // look like helpline or emergency numbers (112, 101, 999, 1056, 11188), never years or amounts.
  var PHONE = /\+?\d+(?:[ \u00a0]\d{2,})*/g;

  function isPhone(raw) {
    var digits = raw.replace(/\D/g, "");
    if (raw.charAt(0) === "+") {
      return digits.length >= 8 && digits.length <= 15;
    }
    if (digits.length >= 6) {
      return digits.length <= 15;
    }
    if (/\s/.test(raw) || digits.length < 3) {
      return false;
    }
    if (digits.length === 3) {
      return /^(11\d|10[1-9]|999|911)$/.test(digits);
    }
    return digits.charAt(0) === "1" && !/^19\d\d$/.test(digits) && !/00$/.test(digits);
  }

  function appendTextWithPhones(parent, text) {
    var last = 0;
    var match;
    PHONE.lastIndex = 0;
    while ((match = PHONE.exec(text)) !== null) {
      var raw = match[0];
      var start = match.index;
      var end = start + raw.length;
      var before = text.charAt(start - 1);
      var after = text.charAt(end);
      var glued = /[A-Za-z0-9_\-\/+%\u00c0-\u024f\u0370-\u03ff]/.test(before) ||
        /[A-Za-z0-9_\-\/%\u00c0-\u024f\u0370-\u03ff]/.test(after) ||
        (/[.,:]/.test(before) && /\d/.test(text.charAt(start - 2))) ||
        (/[.,:]/.test(after) && /\d/.test(text.charAt(end + 1)));
      if (glued || !isPhone(raw)) {
        continue;
      }
      parent.appendChild(document.createTextNode(text.slice(last, start)));
      var number = (raw.charAt(0) === "+" ? "+" : "") + raw.replace(/\D/g, "");
      parent.appendChild(el("a", { href: "tel:" + number, className: "bcn-tel", text: raw }));
      last = end;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function safeLink(url) {
    if (typeof url !== "string" || url.length > 2048) {
      return null;
    }
    try {
      var parsed = new URL(url);
      if (parsed.protocol === "https:" && parsed.hostname) {
        return parsed.href;
      }
      if (parsed.protocol === "tel:" && /^\+?[0-9][0-9 ().\-]{1,30}$/.test(decodeURIComponent(parsed.pathname))) {
        return "tel:" + decodeURIComponent(parsed.pathname).replace(/[^0-9+]/g, "");
      }
    } catch (error) { /* not a URL */ }
    return null;
  }

  // ------------------------------------------------------------------ build the widget

  var host = el("div", { id: "beacon-web-widget", "data-beacon": "widget" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var stylesheet = el("link", { rel: "stylesheet", href: BASE + "/widget.css" });

  var ids = { panel: "bcn-panel", title: "bcn-title", input: "bcn-input", language: "bcn-language",
    confirm: "bcn-confirm-text" };

  var dockExit = el("button", { type: "button", className: "bcn-exit bcn-exit--dock", "data-role": "exit" });
  var launcherText = el("span", { className: "bcn-launcher-text" });
  var launcher = el("button", {
    type: "button", className: "bcn-launcher", "aria-expanded": "false", "aria-controls": ids.panel,
    "data-role": "launcher"
  }, [icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"), launcherText]);
  var dock = el("div", { className: "bcn-dock" }, [dockExit, launcher]);

  var title = el("h2", { id: ids.title, className: "bcn-title", tabindex: "-1" });
  var subtitle = el("p", { className: "bcn-subtitle" });
  var headerExit = el("button", { type: "button", className: "bcn-exit", "data-role": "exit" });
  var closeButton = el("button", { type: "button", className: "bcn-close", "data-role": "close" },
    [icon("M6 6l12 12M18 6L6 18")]);
  var header = el("div", { className: "bcn-header" }, [
    el("div", { className: "bcn-heading" }, [title, subtitle]),
    el("div", { className: "bcn-header-actions" }, [headerExit, closeButton])
  ]);

  var languageLabel = el("label", { "for": ids.language, className: "bcn-language-label" });
  var languageSelect = el("select", { id: ids.language, className: "bcn-select", "data-role": "language" });
  var deleteButton = el("button", { type: "button", className: "bcn-delete", "data-role": "delete" });
  var toolbar = el("div", { className: "bcn-toolbar" }, [
    el("div", { className: "bcn-language" }, [languageLabel, languageSelect]), deleteButton
  ]);

  var confirmText = el("p", { id: ids.confirm, className: "bcn-confirm-text", tabindex: "-1" });
  var confirmYes = el("button", { type: "button", className: "bcn-button bcn-button--danger", "data-role": "delete-yes" });
  var confirmNo = el("button", { type: "button", className: "bcn-button", "data-role": "delete-no" });
  var confirmBox = el("div", { className: "bcn-confirm", role: "group", "aria-labelledby": ids.confirm, hidden: true },
    [confirmText, el("div", { className: "bcn-confirm-actions" }, [confirmYes, confirmNo])]);

  var log = el("div", { className: "bcn-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    tabindex: "0", "data-role": "log" });
  var typingText = el("span", { className: "bcn-typing-text" });
  var typing = el("div", { className: "bcn-typing", role: "status", "data-role": "typing" }, [
    el("span", { className: "bcn-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]), typingText
  ]);
  var errorText = el("p", { className: "bcn-error-text" });
  var retryButton = el("button", { type: "button", className: "bcn-button", "data-role": "retry", hidden: true });
  var errorBox = el("div", { className: "bcn-error", role: "alert", "data-role": "error", hidden: true },
    [errorText, retryButton]);

  var inputLabel = el("label", { "for": ids.input, className: "bcn-sr" });
  var input = el("input", { id: ids.input, className: "bcn-input", type: "text", autocomplete: "off",
    maxlength: String(MAX_INPUT), "data-role": "input", enterkeyhint: "send" });
  var sendButton = el("button", { type: "submit", className: "bcn-send", "data-role": "send" });
  var form = el("form", { className: "bcn-form", novalidate: true }, [inputLabel, input, sendButton]);

  var panel = el("div", {
    id: ids.panel, className: "bcn-panel", role: "dialog", "aria-labelledby": ids.title, hidden: true,
    "data-role": "panel"
  }, [header, toolbar, confirmBox, log, typing, errorBox, form]);
  var cover = el("div", { className: "bcn-cover", hidden: true });
  var wrapper = el("div", { className: "bcn", hidden: true }, [dock, panel, cover]);

  root.appendChild(stylesheet);
  root.appendChild(wrapper);

  function reveal() {
    wrapper.hidden = false;
  }
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);
  window.setTimeout(reveal, 3000);

  // ------------------------------------------------------------------ strings and language

  function applyStrings() {
    wrapper.setAttribute("lang", state.lang);
    launcherText.textContent = t("launcher");
    dockExit.textContent = t("exit");
    headerExit.textContent = t("exit");
    title.textContent = t("title");
    subtitle.textContent = t("subtitle");
    closeButton.setAttribute("aria-label", t("close"));
    languageLabel.textContent = t("language.label");
    deleteButton.textContent = t("delete");
    confirmText.textContent = t("delete.confirm");
    confirmYes.textContent = t("delete.yes");
    confirmNo.textContent = t("delete.no");
    log.setAttribute("aria-label", t("log.label"));
    inputLabel.textContent = t("input.label");
    input.setAttribute("placeholder", t("input.placeholder"));
    sendButton.textContent = t("send");
    retryButton.textContent = t("retry");
    if (typing.classList.contains("bcn-typing--on")) {
      typingText.textContent = t("typing");
    }
    Array.prototype.forEach.call(log.querySelectorAll("[data-sr]"), function (node) {
      node.textContent = t(node.getAttribute("data-sr"));
    });
    Array.prototype.forEach.call(log.querySelectorAll(".bcn-buttons"), function (node) {
      node.setAttribute("aria-label", t("suggestions"));
    });
    languageSelect.textContent = "";
    languageNames.forEach(function (language) {
      var option = el("option", { value: language.code, lang: language.code, text: language.name });
      option.selected = language.code === state.lang;
      languageSelect.appendChild(option);
    });
  }

  function loadStrings(language) {
    if (stringsCache[language]) {
      return Promise.resolve(stringsCache[language]);
    }
    return fetchWithTimeout(BASE + "/strings?lang=" + encodeURIComponent(language), { method: "GET" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("strings " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (!data || typeof data.strings !== "object") {
          throw new Error("strings: bad answer");
        }
        stringsCache[language] = data;
        return data;
      });
  }

  function useStrings(language) {
    return loadStrings(language).then(function (data) {
      strings = Object.assign({}, FALLBACK, data.strings);
      if (Array.isArray(data.languages) && data.languages.length) {
        languageNames = data.languages.filter(function (item) {
          return item && pickLanguage(item.code) && typeof item.name === "string";
        });
      }
      applyStrings();
    }, function () {
      strings = Object.assign({}, FALLBACK);
      applyStrings();
    });
  }

  // ------------------------------------------------------------------ transcript

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function srLabel(key) {
    return el("span", { className: "bcn-sr", "data-sr": key, text: t(key) + " " });
  }

  function renderItem(item, withButtons) {
    if (item.who === "note") {
      return el("div", { className: "bcn-note" }, [el("p", { text: item.text })]);
    }
    var bubble = el("div", { className: "bcn-msg bcn-msg--" + item.who });
    bubble.appendChild(srLabel(item.who === "user" ? "you" : "bot"));
    var paragraphs = item.text.split(/\n{2,}/);
    paragraphs.forEach(function (paragraph) {
      if (!paragraph.trim()) {
        return;
      }
      var p = el("p", { className: "bcn-text" });
      if (item.who === "bot") {
        appendTextWithPhones(p, paragraph);
      } else {
        p.textContent = paragraph;
      }
      bubble.appendChild(p);
    });
    var links = (item.links || []).map(function (link) {
      var href = link && safeLink(link.url);
      if (!href) {
        return null;
      }
      var label = typeof link.title === "string" && link.title.trim() ? link.title : href;
      var attributes = { href: href, className: "bcn-link", text: label };
      var anchor;
      if (href.indexOf("https:") === 0) {
        attributes.target = "_blank";
        attributes.rel = "noopener noreferrer";
        anchor = el("a", attributes);
        anchor.appendChild(el("span", { className: "bcn-sr", "data-sr": "link.new_tab", text: " " + t("link.new_tab") }));
      } else {
        anchor = el("a", attributes);
      }
      return el("li", {}, [anchor]);
    }).filter(Boolean);
    if (links.length) {
      bubble.appendChild(el("ul", { className: "bcn-links" }, links));
    }
    if (withButtons && item.buttons && item.buttons.length) {
      var group = el("div", { className: "bcn-buttons", role: "group", "aria-label": t("suggestions") });
      item.buttons.forEach(function (button) {
        if (!button || typeof button.title !== "string" || typeof button.payload !== "string") {
          return;
        }
        var chip = el("button", { type: "button", className: "bcn-chip", text: button.title });
        chip.addEventListener("click", function () {
          send(button.payload, button.title, false);
          input.focus();
        });
        group.appendChild(chip);
      });
      bubble.appendChild(group);
    }
    return bubble;
  }

  function lastUserIndex() {
    for (var i = state.items.length - 1; i >= 0; i--) {
      if (state.items[i].who === "user") {
        return i;
      }
    }
    return -1;
  }

  function renderAll() {
    log.textContent = "";
    var cut = lastUserIndex();
    state.items.forEach(function (item, index) {
      log.appendChild(renderItem(item, index > cut));
    });
    scrollToEnd();
  }

  function addItem(item, keepScroll) {
    if (item.who === "user") {
      Array.prototype.forEach.call(log.querySelectorAll(".bcn-buttons"), function (group) {
        group.parentNode.removeChild(group);
      });
    }
    state.items.push(item);
    if (state.items.length > MAX_ITEMS) {
      state.items.splice(0, state.items.length - MAX_ITEMS);
    }
    saveState();
    var node = renderItem(item, true);
    log.appendChild(node);
    if (!keepScroll) {
      scrollToEnd();
    }
    return node;
  }

  function removeItem(item, node) {
    var index = state.items.indexOf(item);
    if (index >= 0) {
      state.items.splice(index, 1);
      saveState();
    }
    if (node && node.parentNode) {
      node.parentNode.removeChild(node);
    }
  }

  function addIntro() {
    addItem({ who: "note", text: t("intro.exit") });
    addItem({ who: "note", text: t("intro.history") });
  }

  // ------------------------------------------------------------------ talking to the server

  function fetchWithTimeout(url, options) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    var settings = Object.assign({ credentials: "omit", cache: "no-store", mode: "cors", referrerPolicy: "no-referrer" },
      options, controller ? { signal: controller.signal } : {});
    return window.fetch(url, settings).then(function (response) {
      window.clearTimeout(timer);
      return response;
    }, function (error) {
      window.clearTimeout(timer);
      throw error;
    });
  }

  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (method === "DELETE" && state.token) {
      headers.Authorization = "Bearer " + state.token;
    }
    return fetchWithTimeout(BASE + path, { method: method, headers: headers, body: JSON.stringify(body) })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { status: response.status, data: data || {} };
        });
      });
  }

  function failureKind(status) {
    if (status === 429) {
      return "error.rate_limited";
    }
    if (status === 413) {
      return "error.too_long";
    }
    if (status === 403) {
      return "error.not_allowed";
    }
    return "error.network";
  }

  // A long answer is shown from its beginning; a short one scrolls the log to the end.
  function revealFrom(first) {
    if (!first) {
      return;
    }
    var top = first.offsetTop - 8;
    if (log.scrollHeight - top > log.clientHeight) {
      log.scrollTop = top;
    } else {
      scrollToEnd();
    }
  }

  function showBotMessages(messages) {
    var shown = 0;
    var first = null;
    (Array.isArray(messages) ? messages : []).forEach(function (message) {
      if (!message || typeof message !== "object") {
        return;
      }
      var text = typeof message.text === "string" ? message.text : "";
      var buttons = Array.isArray(message.buttons) ? message.buttons.filter(function (b) {
        return b && typeof b.title === "string" && typeof b.payload === "string";
      }) : [];
      var links = Array.isArray(message.links) ? message.links.filter(function (l) {
        return l && typeof l.url === "string";
      }) : [];
      if (!text && !buttons.length && !links.length) {
        return;
      }
      var node = addItem({ who: "bot", text: text, buttons: buttons, links: links }, true);
      first = first || node;
      shown += 1;
    });
    if (!shown) {
      first = addItem({ who: "bot", text: t("error.bot_unavailable") }, true);
    }
    revealFrom(first);
  }

  // Returns a promise of {ok, kind}; on an expired/unknown token starts a new conversation once.
  function deliver(message, renewed) {
    var body = { message: message, language: state.lang };
    if (state.token) {
      body.token = state.token;
    }
    return api("POST", "/webhook", body).then(function (result) {
      if (result.status === 200 && typeof result.data.token === "string") {
        state.token = result.data.token;
        saveState();
        showBotMessages(result.data.messages);
        return { ok: true };
      }
      if (result.status === 401 && !renewed) {
        state.token = null;
        saveState();
        addItem({ who: "note", text: t("error.session") });
        return deliver("/greet", true).then(function (greeted) {
          return greeted.ok && message !== "/greet" ? deliver(message, true) : greeted;
        });
      }
      return { ok: false, kind: failureKind(result.status) };
    }, function () {
      return { ok: false, kind: "error.network" };
    });
  }

  var queue = Promise.resolve();
  var pending = 0;

  function setTyping(on) {
    typing.classList.toggle("bcn-typing--on", on);
    typingText.textContent = on ? t("typing") : "";
  }

  function hideError() {
    errorBox.hidden = true;
    errorText.textContent = "";
    retryButton.hidden = true;
  }

  var retryAction = null;

  function showError(kind, retry) {
    errorBox.hidden = false;
    errorText.textContent = t(kind);
    retryAction = retry || null;
    retryButton.hidden = !retry;
  }

  // Send a message (a typed text or a button payload); `display` is what the transcript shows.
  function send(message, display, typed) {
    hideError();
    var item = display ? { who: "user", text: display } : null;
    var node = item ? addItem(item) : null;
    pending += 1;
    setTyping(true);
    queue = queue.then(function () {
      return deliver(message);
    }).then(function (result) {
      pending -= 1;
      setTyping(pending > 0);
      if (result.ok) {
        return;
      }
      if (item) {
        removeItem(item, node);
      }
      if (typed && !input.value) {
        input.value = display;
      }
      showError(result.kind, function () {
        if (typed) {
          if (input.value === display) {
            input.value = "";
          }
        }
        send(message, display, typed);
      });
    });
    return queue;
  }

  function ensureConversation() {
    if (state.items.length || state.token) {
      return;
    }
    addIntro();
    send("/greet", null, false);
  }

  // ------------------------------------------------------------------ open, close, quick exit, delete

  function isOpen() {
    return !panel.hidden;
  }

  function openPanel() {
    panel.hidden = false;
    wrapper.classList.add("bcn--open");
    launcher.setAttribute("aria-expanded", "true");
    ensureConversation();
    scrollToEnd();
    input.focus();
  }

  function closePanel() {
    panel.hidden = true;
    wrapper.classList.remove("bcn--open");
    launcher.setAttribute("aria-expanded", "false");
    confirmBox.hidden = true;
    launcher.focus();
  }

  function quickExit(event) {
    if (event) {
      event.preventDefault();
    }
    exiting = true;
    forgetState();
    cover.hidden = false;
    panel.hidden = true;
    dock.hidden = true;
    try {
      document.title = "";
    } catch (error) { /* ignore */ }
    window.location.replace(EXIT_URL);
  }

  function clearConversation() {
    state.token = null;
    state.items = [];
    log.textContent = "";
    hideError();
    forgetState();
    saveState();
  }

  function deleteConversation() {
    confirmBox.hidden = true;
    var finish = function () {
      clearConversation();
      addItem({ who: "note", text: t("deleted") });
      addIntro();
      send("/greet", null, false);
      input.focus();
    };
    if (!state.token) {
      finish();
      return Promise.resolve();
    }
    queue = queue.then(function () {
      return api("DELETE", "/session", { token: state.token }).then(function (result) {
        if (result.status === 200 || result.status === 401) {
          finish();  // 401: the server no longer knows this token, so nothing is stored under it
        } else {
          showError("error.delete_failed", deleteConversation);
        }
      }, function () {
        showError("error.delete_failed", deleteConversation);
      });
    });
    return queue;
  }

  // GOV.UK "Exit this page": Shift pressed 3 times within 5 seconds, not counting Shift used to type.
  var shiftPresses = 0;
  var shiftTimer = null;
  var lastKeyWasModified = false;

  function resetShift() {
    shiftPresses = 0;
    if (shiftTimer) {
      window.clearTimeout(shiftTimer);
      shiftTimer = null;
    }
  }

  function onKeyUp(event) {
    var isShift = event.key === "Shift" || event.keyCode === 16;
    if (isShift && !lastKeyWasModified) {
      shiftPresses += 1;
      if (shiftPresses >= 3) {
        resetShift();
        quickExit();
        return;
      }
      if (!shiftTimer) {
        shiftTimer = window.setTimeout(resetShift, 5000);
      }
    } else if (shiftTimer) {
      resetShift();
    }
    lastKeyWasModified = event.shiftKey;
  }

  // ------------------------------------------------------------------ events

  launcher.addEventListener("click", function () {
    if (isOpen()) {
      closePanel();
    } else {
      openPanel();
    }
  });
  closeButton.addEventListener("click", closePanel);
  dockExit.addEventListener("click", quickExit);
  headerExit.addEventListener("click", quickExit);
  retryButton.addEventListener("click", function () {
    var action = retryAction;
    hideError();
    if (action) {
      action();
    }
  });
  deleteButton.addEventListener("click", function () {
    confirmBox.hidden = false;
    confirmText.focus();
  });
  confirmNo.addEventListener("click", function () {
    confirmBox.hidden = true;
    deleteButton.focus();
  });
  confirmYes.addEventListener("click", function () {
    deleteConversation();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.replace(/\s+/g, " ").trim();
    if (!text) {
      input.focus();
      return;
    }
    input.value = "";
    send(text.slice(0, MAX_INPUT), text.slice(0, MAX_INPUT), true);
    input.focus();
  });
  languageSelect.addEventListener("change", function () {
    var chosen = pickLanguage(languageSelect.value);
    if (!chosen || chosen === state.lang) {
      return;
    }
    state.lang = chosen;
    saveState();
    useStrings(chosen).then(function () {
      languageSelect.focus();
    });
    if (!state.items.length && !state.token) {
      ensureConversation();
    }
    send("/set_language{\"language\":\"" + chosen + "\"}", null, false);
  });
  wrapper.addEventListener("keydown", function (event) {
    if ((event.key === "Escape" || event.key === "Esc") && isOpen()) {
      event.preventDefault();
      event.stopPropagation();
      closePanel();
    }
  });
  document.addEventListener("keyup", onKeyUp, true);

  // ------------------------------------------------------------------ start

  function mount() {
    if (document.body.firstChild) {
      document.body.insertBefore(host, document.body.firstChild);  // quick exit is the first tab stop
    } else {
      document.body.appendChild(host);
    }
    applyStrings();
    renderAll();
    useStrings(state.lang);
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
}());
