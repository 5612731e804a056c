"""Splitting long replies for Telegram and rendering link lists."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.telegram_text import TELEGRAM_TEXT_LIMIT, link_lines, split_text, utf16_len


def _words(text: str) -> list:
    return text.split()


def test_short_text_is_one_message() -> None:
    assert split_text("  Hi there!  ") == ["Hi there!"]


def test_blank_text_is_no_message() -> None:
    assert split_text("") == []
    assert split_text(" \n\n ") == []


def test_splits_at_paragraphs_first() -> None:
    first, second = "a" * 3000, "b" * 3000
    assert split_text(f"{first}\n\n{second}") == [first, second]


def test_keeps_paragraphs_together_while_they_fit() -> None:
    paragraphs = ["p" * 1000, "q" * 1000, "r" * 1000, "s" * 1500]
    chunks = split_text("\n\n".join(paragraphs))
    assert chunks == ["\n\n".join(paragraphs[:3]), paragraphs[3]]


def test_falls_back_to_lines_then_words() -> None:
    lines = "\n".join(f"line {i:04d} " + "x" * 40 for i in range(200))  # one paragraph, ~10k chars
    chunks = split_text(lines)
    assert len(chunks) == 3
    assert all(utf16_len(c) <= TELEGRAM_TEXT_LIMIT for c in chunks)
    assert all(c.startswith("line ") for c in chunks)  # every chunk starts at a line boundary
    words = " ".join(["word"] * 2000)  # one line
    chunks = split_text(words)
    assert all(c.split(" ") == ["word"] * len(c.split(" ")) for c in chunks)  # no word cut


def test_hard_cut_only_inside_an_overlong_word() -> None:
    chunks = split_text("x" * 9000)
    assert [len(c) for c in chunks] == [4096, 4096, 808]


def test_counts_emoji_as_telegram_does_and_never_breaks_one() -> None:
    text = "😀" * 3000  # 6000 UTF-16 code units
    chunks = split_text(text)
    assert [utf16_len(c) for c in chunks] == [4096, 1904]
    assert "".join(chunks) == text


def test_tail_of_a_long_piece_shares_a_message_with_the_next() -> None:
    chunks = split_text("word " * 1000 + "\nCall: 112")
    assert len(chunks) == 2
    assert chunks[-1].endswith("Call: 112")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab😀é \n"), min_size=0, max_size=900), max_size=12),
       st.integers(min_value=8, max_value=600))
def test_property_chunks_fit_and_lose_nothing(parts: list, limit: int) -> None:
    text = "\n\n".join(parts)
    chunks = split_text(text, limit)
    assert all(0 < utf16_len(c) <= limit for c in chunks)
    # Only whitespace at the cut points may disappear; characters and their order are kept.
    assert "".join("".join(chunks).split()) == "".join(text.split())


def test_links_keep_https_and_phone_numbers_only() -> None:
    links = [
        {"title": "Telefono Azzurro", "url": "https://azzurro.it"},
        {"title": "Emergency", "url": "tel:112"},
        {"title": "Helpline", "url": "tel:+39 02 550 275"},
        {"title": "Plain http", "url": "http://example.org"},
        {"title": "Script", "url": "javascript:alert(1)"},
        {"title": "Bad tel", "url": "tel:call-me"},
        {"title": "Spaces", "url": "https://exa mple.org"},
        "not a link",
        {"url": "https://www.childhelplineinternational.org"},
    ]
    assert link_lines(links) == [
        "Telefono Azzurro: https://azzurro.it",
        "Emergency: 112",
        "Helpline: +39 02 550 275",
        "https://www.childhelplineinternational.org",
    ]


def test_links_tolerate_nothing() -> None:
    assert link_lines([]) == []
    assert link_lines(None) == []  # type: ignore[arg-type]


def test_links_do_not_repeat_what_is_already_written() -> None:
    links = [{"title": "Telefono Azzurro: 19696", "url": "tel:19696"},
             {"title": "Childline: 0800 1111", "url": "tel:08001111"},
             {"title": "Emergency", "url": "tel:112"},
             {"title": "Azzurro", "url": "https://azzurro.it"},
             {"title": "Childline", "url": "https://www.childline.org.uk"}]
    assert link_lines(links) == ["Telefono Azzurro: 19696", "Childline: 0800 1111", "Emergency: 112",
                                 "Azzurro: https://azzurro.it", "Childline: https://www.childline.org.uk"]
    shown = "Telefono Azzurro – 19696 (24/7)\nChildline 0800 1111 · https://www.childline.org.uk"
    assert link_lines(links, already_shown=shown) == ["Emergency: 112", "Azzurro: https://azzurro.it"]
