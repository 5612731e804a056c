"""The parents' and carers' widget in a real Chromium, against the real Rasa and action servers.

Covers: the carer flow (mouse and keyboard alone), focus handling, quick exit (button and Shift x3),
XSS staying inert, Italian, a 360-px phone and 200% zoom, a failed send with Retry, deleting the
conversation, storage rules, a third-party embed (CORS), axe-core, and the docs screenshots.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List

from playwright.sync_api import expect

from tests.browser.conftest import EXIT_URL, docs_path, serious_axe_violations

# The element focused inside the widget's (open) shadow root, described for assertions.
ACTIVE = """() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) { a = a.shadowRoot.activeElement; }
  if (!a) { return null; }
  const style = getComputedStyle(a);
  return {role: a.getAttribute('data-role'), tag: a.tagName.toLowerCase(), text: (a.textContent || '').trim(),
          label: a.getAttribute('aria-label'), cls: a.className,
          focusRing: style.outlineStyle !== 'none' || style.boxShadow !== 'none'};
}"""


def open_demo(page: Any, url: str) -> None:
    page.goto(url)
    expect(page.locator("[data-role=launcher]")).to_be_visible()


def bot_messages(page: Any) -> Any:
    return page.locator(".bcn-msg--bot")


def wait_for_bot(page: Any, pattern: str, flags: int = re.IGNORECASE) -> str:
    """Wait until a bot message matching ``pattern`` is shown; return its text."""
    message = bot_messages(page).filter(has_text=re.compile(pattern, flags)).last
    expect(message).to_be_visible()
    return message.inner_text()


def bot_count(page: Any) -> int:
    return bot_messages(page).count()


def wait_for_more_bot_messages(page: Any, than: int) -> None:
    """Wait until more than ``than`` bot messages are shown and Beacon has stopped typing."""
    page.wait_for_function(
        "n => document.querySelector('#beacon-web-widget').shadowRoot.querySelectorAll('.bcn-msg--bot').length > n",
        arg=than)
    expect(page.locator("[data-role=typing]")).to_have_text("")


def send_text(page: Any, text: str) -> None:
    """Type ``text``, press Enter and wait for the answer."""
    before = bot_count(page)
    page.locator("[data-role=input]").fill(text)
    page.keyboard.press("Enter")
    wait_for_more_bot_messages(page, before)


def open_widget(page: Any) -> None:
    page.locator("[data-role=launcher]").click()
    expect(page.locator("[data-role=panel]")).to_be_visible()
    wait_for_bot(page, r"chatbot")
    page.locator("[data-role=panel]").evaluate("p => Promise.all(p.getAnimations().map(a => a.finished))")


def settle(page: Any) -> None:
    """Wait until the conversation has stopped (smooth-)scrolling, e.g. before a screenshot."""
    page.evaluate("""() => new Promise(done => {
        const log = document.querySelector('#beacon-web-widget').shadowRoot.querySelector('.bcn-log');
        let last = -1;
        const tick = () => {
            if (log.scrollTop === last) { done(); } else { last = log.scrollTop; setTimeout(tick, 120); }
        };
        tick();
    })""")


def chip(page: Any, pattern: str) -> Any:
    return page.locator(".bcn-chip").filter(has_text=re.compile(pattern, re.IGNORECASE)).last


def active(page: Any) -> Dict[str, Any]:
    return page.evaluate(ACTIVE)


def tab_to(page: Any, predicate: Any, key: str = "Tab", limit: int = 40) -> Dict[str, Any]:
    """Press ``key`` until the focused element satisfies ``predicate``; fail after ``limit`` presses."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        current = active(page)
        seen.append((current or {}).get("text") or (current or {}).get("role"))
        if current and predicate(current):
            return current
    raise AssertionError(f"never focused the wanted element; focus went through {seen}")


# ----------------------------------------------------------------------------- the carer flow


def test_carer_reads_warning_signs_and_desktop_screenshot(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    launcher = page.locator("[data-role=launcher]")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_have_accessible_name("Chat with Beacon")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    assert active(page)["role"] == "input", "focus moves into the panel"

    greeting = wait_for_bot(page, r"chatbot")
    assert "not a real person" in greeting and "emergency service" in greeting
    expect(page.locator(".bcn-note").first).to_contain_text("Shift key 3 times")
    expect(page.locator(".bcn-note").nth(1)).to_contain_text("does not clear your browser history")
    expect(page.locator(".bcn-note").nth(1)).to_contain_text("private or incognito")

    chip(page, r"parent or carer").click()
    expect(page.locator(".bcn-msg--user").last).to_have_text(re.compile("parent or carer"))
    chip(page, r"signs to look for").click()
    answer = wait_for_bot(page, r"secretive")
    assert "switching screens" in answer and "gifts" in answer
    expect(page.locator("[data-role=typing]")).to_have_text("")
    first_line = page.locator(".bcn-msg--bot").filter(has_text="secretive").locator(".bcn-text").first
    settle(page)
    expect(first_line).to_be_in_viewport()  # a long answer is shown from its beginning
    page.screenshot(path=str(docs_path("widget-desktop.png")))

    # Typed questions work too, and the transcript survives a reload of the page (same tab).
    send_text(page, "how do I talk to my son about it?")
    expect(page.locator(".bcn-msg--user").last).to_have_text(re.compile("talk to my son"))
    before = page.locator(".bcn-msg").count()
    page.reload()
    page.locator("[data-role=launcher]").click()
    expect(page.locator(".bcn-msg")).to_have_count(before)


def test_whole_flow_by_keyboard_alone(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    first = tab_to(page, lambda a: True)
    assert first["role"] == "exit", "Quick exit is the first stop on the page"
    assert first["focusRing"], "focus is visible"
    tab_to(page, lambda a: a["role"] == "launcher")
    page.keyboard.press("Enter")
    assert active(page)["role"] == "input"
    wait_for_bot(page, r"chatbot")

    focused = tab_to(page, lambda a: "parent or carer" in a["text"], key="Shift+Tab")
    assert focused["focusRing"]
    page.keyboard.press("Enter")
    wait_for_bot(page, r"look out for")
    tab_to(page, lambda a: "Signs to look for" in a["text"], key="Shift+Tab")
    page.keyboard.press("Space")
    wait_for_bot(page, r"secretive")

    assert active(page)["role"] == "input"
    page.keyboard.type("thank you")
    page.keyboard.press("Enter")
    expect(page.locator(".bcn-msg--user").last).to_have_text(re.compile("thank you"))

    page.keyboard.press("Escape")
    expect(page.locator("[data-role=panel]")).to_be_hidden()
    assert active(page)["role"] == "launcher", "focus returns to the launcher"
    expect(page.locator("[data-role=launcher]")).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(page.locator("[data-role=panel]")).to_be_visible()
    closed = tab_to(page, lambda a: a["role"] == "close", key="Shift+Tab")
    assert closed["label"] == "Close chat"
    page.keyboard.press("Enter")
    assert active(page)["role"] == "launcher"
    assert page.url.endswith("/webhooks/web/demo"), "Shift+Tab never counts as a quick-exit Shift"


# ----------------------------------------------------------------------------- quick exit


def test_quick_exit_button_leaves_and_forgets(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    open_widget(page)
    assert page.evaluate("Object.keys(sessionStorage).length") == 1
    entries = page.evaluate("history.length")
    page.locator(".bcn-header [data-role=exit]").click()
    page.wait_for_url(EXIT_URL)
    expect(page.locator("h1")).to_have_text("Weather forecast")
    assert page.evaluate("history.length") == entries, "location.replace: the page is not in the Back history"
    page.go_back()
    assert "/webhooks/web/demo" not in page.url


def test_quick_exit_dock_button_when_closed(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    page.locator(".bcn-dock [data-role=exit]").click()
    page.wait_for_url(EXIT_URL)


def test_shift_three_times_leaves_but_typing_capitals_does_not(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    open_widget(page)
    page.locator("[data-role=input]").focus()
    for letter in "ABC":
        page.keyboard.press(f"Shift+{letter}")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("a")  # another key resets the count
    page.keyboard.press("Shift")
    assert page.url == demo_url
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(EXIT_URL)


def test_data_exit_url_and_third_party_embed(make_page, sites):
    page = make_page()
    page.goto(sites["allowed"])
    launcher = page.locator("[data-role=launcher]")
    expect(launcher).to_have_text("Chatta con Beacon")  # data-lang="it", strings fetched cross-origin
    launcher.click()
    text = wait_for_bot(page, r"chatbot")
    assert "persona" in text
    expect(page.locator("[data-role=send]")).to_have_text("Invia")
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url("https://neutral.test/")


def test_unlisted_site_cannot_use_the_chat(make_page, sites):
    page = make_page()
    page.goto(sites["unlisted"])
    page.locator("[data-role=launcher]").click()
    expect(page.locator("[data-role=error]")).to_be_visible()
    assert bot_messages(page).count() == 0


# ----------------------------------------------------------------------------- XSS


HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script><b>bold</b>'


def test_user_and_bot_markup_stays_inert(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    open_widget(page)
    send_text(page, HOSTILE)
    expect(page.locator(".bcn-msg--user").last).to_have_text(re.compile(re.escape(HOSTILE)))

    # Now the "bot" answers with hostile text, links and buttons (the server is bypassed by a route).
    hostile_reply = {"token": None, "messages": [{
        "text": HOSTILE + "\nCall 0800 1111 or 112, not 2023 or 11-17. javascript:alert(1)",
        "buttons": [{"title": HOSTILE, "payload": "/greet"}],
        "links": [{"title": "safe", "url": "https://example.org/help"},
                  {"title": "js", "url": "javascript:window.__xss=1"},
                  {"title": "data", "url": "data:text/html,<script>window.__xss=1</script>"},
                  {"title": "http", "url": "http://example.org/"},
                  {"title": "phone", "url": "tel:116 111"}],
    }]}

    def fake(route: Any) -> None:
        body = json.loads(route.request.post_data)
        hostile_reply["token"] = body.get("token")
        route.fulfill(status=200, content_type="application/json", body=json.dumps(hostile_reply))

    page.route("**/webhooks/web/webhook", fake)
    page.locator("[data-role=input]").fill("tell me something")
    page.keyboard.press("Enter")
    message = bot_messages(page).filter(has_text="0800 1111").last
    expect(message).to_be_visible()
    assert HOSTILE in message.inner_text()
    hrefs = message.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["tel:08001111", "tel:112", "https://example.org/help", "tel:116111"]
    assert message.locator("a[target=_blank]").get_attribute("rel") == "noopener noreferrer"
    expect(page.locator(".bcn-chip").last).to_have_text(HOSTILE)
    widget = page.locator("#beacon-web-widget")
    assert widget.locator("img, script:not([src]), b, iframe, object").count() == 0
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None


# ----------------------------------------------------------------------------- language


def test_switching_to_italian(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    open_widget(page)
    chip(page, r"parent or carer").click()
    wait_for_bot(page, r"look out for")
    select = page.locator("[data-role=language]")
    options = select.locator("option").evaluate_all("os => os.map(o => [o.value, o.textContent, o.lang])")
    assert options == [["en", "English", "en"], ["it", "Italiano", "it"], ["el", "Ελληνικά", "el"],
                       ["lt", "Lietuvių", "lt"], ["nl", "Nederlands", "nl"], ["fr", "Français", "fr"]]
    def is_switch(request: Any) -> bool:
        return request.url.endswith("/webhooks/web/webhook") and "set_language" in (request.post_data or "")

    with page.expect_request(is_switch) as sent:
        select.select_option("it")
    assert json.loads(sent.value.post_data)["message"] == '/set_language{"language":"it"}'
    wait_for_bot(page, r"italiano")
    expect(page.locator("[data-role=send]")).to_have_text("Invia")
    expect(page.locator("[data-role=input]")).to_have_attribute("placeholder", "Scrivi qui la tua domanda")
    expect(page.locator(".bcn")).to_have_attribute("lang", "it")
    chip(page, r"Segnali").click()
    answer = wait_for_bot(page, r"segret")
    from actions.language import detect_language

    assert detect_language(answer) == "it", answer


# ----------------------------------------------------------------------------- small screens


def test_phone_360px_and_screenshot(make_page, demo_url):
    page = make_page(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
    open_demo(page, demo_url)
    dock = page.locator(".bcn-dock").bounding_box()
    assert dock["x"] >= 0 and dock["x"] + dock["width"] <= 360
    open_widget(page)
    box = page.locator("[data-role=panel]").bounding_box()
    assert (box["x"], box["y"], box["width"]) == (0, 0, 360), box
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    chip(page, r"parent or carer").tap()
    wait_for_bot(page, r"look out for")
    for role in ("input", "send", "exit", "close", "language"):
        element = page.locator(f"[data-role={role}]").last
        expect(element).to_be_in_viewport()
    settle(page)
    page.screenshot(path=str(docs_path("widget-phone.png")))


def test_200_percent_zoom(make_page, demo_url):
    # 200% zoom of a 1280x800 window: 640x400 CSS pixels at device scale 2.
    page = make_page(viewport={"width": 640, "height": 400}, device_scale_factor=2)
    open_demo(page, demo_url)
    open_widget(page)
    box = page.locator("[data-role=panel]").bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 640 and box["y"] + box["height"] <= 400
    for role in ("input", "send", "close"):
        expect(page.locator(f"[data-role={role}]").last).to_be_in_viewport()
    send_text(page, "hello")
    expect(page.locator(".bcn-msg--bot").last).to_be_in_viewport()


def test_reduced_motion_is_respected(make_page, demo_url):
    page = make_page(reduced_motion="reduce")
    open_demo(page, demo_url)
    open_widget(page)
    animation = page.locator("[data-role=panel]").evaluate("p => getComputedStyle(p).animationName")
    assert animation == "none"


# ----------------------------------------------------------------------------- failures, typing, erasure


def test_typing_indicator_failed_send_and_retry(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    open_widget(page)
    held: List[Any] = []
    page.route("**/webhooks/web/webhook", lambda route: held.append(route))
    page.locator("[data-role=input]").fill("is this normal?")
    page.keyboard.press("Enter")
    expect(page.locator("[data-role=typing]")).to_have_text("Beacon is typing…")
    expect(page.locator("[data-role=typing]")).to_have_attribute("role", "status")
    while not held:
        page.wait_for_timeout(50)
    held.pop().abort()
    error = page.locator("[data-role=error]")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("could not be sent")
    expect(page.locator("[data-role=input]")).to_have_value("is this normal?")
    expect(page.locator(".bcn-msg--user").filter(has_text="is this normal?")).to_have_count(0)
    expect(page.locator("[data-role=typing]")).to_have_text("")

    page.unroute("**/webhooks/web/webhook")
    page.locator("[data-role=retry]").click()
    expect(error).to_be_hidden()
    expect(page.locator(".bcn-msg--user").filter(has_text="is this normal?")).to_have_count(1)
    expect(page.locator("[data-role=input]")).to_have_value("")
    expect(bot_messages(page).last).not_to_have_text(re.compile("^$"))


def test_server_refusals_are_explained(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    open_widget(page)
    def refuse(status: int, error: str) -> Any:
        return lambda route: route.fulfill(status=status, content_type="application/json",
                                           body=json.dumps({"error": error}))

    for status, error, words in ((429, "rate_limited", "a little fast"), (413, "body_too_large", "too long")):
        page.route("**/webhooks/web/webhook", refuse(status, error))
        page.locator("[data-role=input]").fill("a question")
        page.keyboard.press("Enter")
        expect(page.locator("[data-role=error]")).to_contain_text(words)
        expect(page.locator("[data-role=input]")).to_have_value("a question")
        page.unroute("**/webhooks/web/webhook")
    page.locator("[data-role=retry]").click()
    expect(page.locator(".bcn-msg--user").filter(has_text="a question")).to_have_count(1)


def test_expired_token_starts_a_new_conversation(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    open_widget(page)
    page.evaluate("""() => {
        const key = Object.keys(sessionStorage)[0];
        const state = JSON.parse(sessionStorage.getItem(key));
        state.token = state.token.slice(0, -4) + 'AAAA';
        sessionStorage.setItem(key, JSON.stringify(state));
    }""")
    page.reload()
    page.locator("[data-role=launcher]").click()
    page.locator("[data-role=input]").fill("hello")
    page.keyboard.press("Enter")
    expect(page.locator(".bcn-note").filter(has_text="had expired")).to_have_count(1)
    expect(page.locator("[data-role=typing]")).to_have_text("")  # the new greeting and the resent text are answered
    # The first conversation's greeting, the new conversation's, and the answer to the resent "hello" (a greeting).
    # (This counted 2 until 2026-11-30 and passed only while the answer to "hello" was still on its way.)
    expect(bot_messages(page).filter(has_text="chatbot")).to_have_count(3)
    expect(page.locator(".bcn-msg--user").filter(has_text="hello")).to_have_count(1)
    token = page.evaluate("JSON.parse(Object.values(sessionStorage)[0]).token")
    assert not token.endswith("AAAA")


def test_delete_conversation(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    open_widget(page)
    chip(page, r"parent or carer").click()
    wait_for_bot(page, r"look out for")
    old_token = page.evaluate("JSON.parse(Object.values(sessionStorage)[0]).token")
    page.locator("[data-role=delete]").click()
    expect(page.locator(".bcn-confirm")).to_be_visible()
    page.locator("[data-role=delete-no]").click()
    expect(page.locator(".bcn-confirm")).to_be_hidden()
    assert active(page)["role"] == "delete"
    page.locator("[data-role=delete]").click()
    with page.expect_response(lambda r: r.url.endswith("/webhooks/web/session")) as deleted:
        page.locator("[data-role=delete-yes]").click()
    assert deleted.value.status == 200 and deleted.value.request.method == "DELETE"
    expect(page.locator(".bcn-note").first).to_have_text("This conversation has been deleted.")
    expect(page.locator(".bcn-msg--user")).to_have_count(0)
    wait_for_bot(page, r"chatbot")  # a new conversation starts
    new_token = page.evaluate("JSON.parse(Object.values(sessionStorage)[0]).token")
    assert new_token and new_token != old_token


def test_only_session_storage_is_used(make_page, demo_url):
    page = make_page()
    open_demo(page, demo_url)
    open_widget(page)
    chip(page, r"parent or carer").click()
    wait_for_bot(page, r"look out for")
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    stored = page.evaluate("Object.entries(sessionStorage)")
    assert len(stored) == 1 and stored[0][0].startswith("beacon-web:")
    assert set(json.loads(stored[0][1])) == {"token", "lang", "items"}


# ----------------------------------------------------------------------------- accessibility audit


def test_axe_finds_no_serious_violations(make_page, demo_url):
    page = make_page(bypass_csp=True)  # only to inject the vendored axe-core
    open_demo(page, demo_url)
    open_widget(page)
    chip(page, r"parent or carer").click()
    wait_for_bot(page, r"look out for")
    serious = serious_axe_violations(page)
    assert not serious, json.dumps(serious, indent=2)
    # The closed state too (launcher and quick exit only).
    page.keyboard.press("Escape")
    closed = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
        .violations.filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id)""")
    assert closed == []
