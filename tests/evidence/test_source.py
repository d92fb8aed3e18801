"""Reading articles: chrome and comments removed, spans into the file as it is, metadata, hostile input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from drawdown.evidence import EvidenceError, extract, extract_text
from drawdown.evidence.source import MAX_BYTES, MAX_CHARS, article_from_text, article_paths, read_article
from tests.evidence.conftest import ARTICLES, seed


def test_spans_point_into_the_file_as_it_is(data):
    paths = [ARTICLES / "own_01_germany_cut.txt", ARTICLES / "own_03_lithuania.txt"]
    for result in extract(paths, data):
        raw = Path(result.article.path).read_bytes().decode("utf-8")  # no newline translation
        assert result.claims
        for claim in result.claims:
            start, end = claim.span
            assert raw[start:end] == claim.quote


def test_seed_spans_and_chrome(data):
    path = seed("000")
    result = extract([path], data)[0]
    raw = path.read_text(encoding="utf-8")
    for claim in result.claims:
        assert raw[claim.span[0]:claim.span[1]] == claim.quote
    body = result.article.body
    assert len(body) == len(raw)
    # the app prompt, the related stories and the empty comment box are blanked, the article is not
    assert "Download" not in body and "Anchorage" not in body and "No comments" not in body
    assert "Pistorius" in body
    assert result.article.outlet == "Russia Today" and str(result.article.date) == "2025-06-23"


def test_reader_comments_are_not_read(data):
    path = seed("001")
    result = extract([path], data)[0]
    cut = result.article.body.find("Editor's Note")
    assert cut == -1  # the comment policy and everything after it is blanked
    raw = path.read_text(encoding="utf-8")
    comments_start = raw.find("Editor's Note")
    assert comments_start > 0
    assert all(c.span[1] <= comments_start for c in result.claims)


def test_own_text_metadata_and_comment_section(data):
    result = extract([ARTICLES / "own_01_germany_cut.txt"], data)[0]
    a = result.article
    assert (a.outlet, a.author, str(a.date), a.title) == (
        "The Example Gazette", "Jane Example", "2026-03-12", "Pentagon weighs deeper cut in Germany")
    assert "Anonymous" not in a.body
    assert not any(c.troops == 80000 and c.action == "withdraw" for c in result.claims)


def test_html_scripts_navigation_related_and_comments_are_not_claims(data):
    result = extract([ARTICLES / "own_06_html.html"], data)[0]
    a = result.article
    assert (a.kind, a.outlet, a.author, str(a.date)) == ("html", "Example News", "Ana Roe", "2026-05-04")
    for word in ("10,000", "50,000", "Estonia", "35,000", "live updates"):
        assert word not in a.text
    assert {c.countries[0] for c in result.claims if c.countries} == {"ROU"}


def test_overrides_supply_missing_metadata(data):
    result = extract([ARTICLES / "own_03_lithuania.txt"], data, outlet="Example Daily",
                     date=__import__("datetime").date(2026, 1, 5))[0]
    assert result.article.outlet == "Example Daily" and str(result.article.date) == "2026-01-05"
    assert result.claims[0].attribution[0] == "Example Daily"


# ------------------------------------------------------------------------------------------------ hostile input

def test_oversized_file_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    with pytest.raises(EvidenceError) as info:
        read_article(big)
    assert "big.txt" in str(info.value) and "MB" in str(info.value)


@pytest.mark.parametrize("payload", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000),
                                     bytes(range(1, 32)) * 300])
def test_binary_files_are_refused(tmp_path, payload):
    path = tmp_path / "photo.txt"
    path.write_bytes(payload)
    with pytest.raises(EvidenceError) as info:
        read_article(path)
    assert "binary" in str(info.value) and "photo.txt" in str(info.value)


def test_text_over_the_character_limit_is_refused():
    with pytest.raises(EvidenceError):
        article_from_text("troops " * (MAX_CHARS // 7 + 10))


def test_empty_and_chrome_only_files_are_refused(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("logo\n\nComments\nNo comments yet...\n", encoding="utf-8")
    with pytest.raises(EvidenceError) as info:
        read_article(path)
    assert "no article text" in str(info.value)


def test_deeply_nested_html_is_read_in_bounded_time(tmp_path):
    """200,000 nested <div>s (libxml2 gives up at 256): the streaming fallback still finds the sentence. Run in a
    child process with a generous limit, so a regression shows as a failure, not a hung suite."""
    path = tmp_path / "nested.html"
    depth = 200_000
    path.write_text("<html><body>" + "<div>" * depth + "<p>The United States will withdraw 3,000 troops from "
                    "Poland by 2027.</p>" + "</div>" * depth + "<script>var x = 'withdraw 9,000 troops from Italy'"
                    "</script></body></html>", encoding="utf-8")
    code = ("import sys; from drawdown.evidence import extract; r = extract([sys.argv[1]])[0]; "
            "print([(c.action, c.troops, c.countries) for c in r.claims])")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
                          check=True)
    assert "('withdraw', 3000, ['POL'])" in done.stdout
    assert "9000" not in done.stdout


def test_hostile_text_never_crashes(data):
    """Numbers everywhere, unbalanced quotes, emoji, control-free junk: claims or none, never an exception."""
    junk = ("\"\"\" ' ‘ ’ “ troops 1,2,3,4 withdraw withdraw withdraw from from to to in in 💣 " * 200 +
            "\n\n" + "9" * 5000 + " troops\n" + "The US will withdraw 4,000 troops from Poland.\n")
    result = extract_text(junk, data)
    assert any(c.troops == 4000 and c.countries == ["POL"] for c in result.claims)
    for claim in result.claims:
        assert 0 <= claim.span[0] < claim.span[1] <= len(junk)


def test_folders_read_article_files_only_and_not_links(tmp_path):
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "b.html").write_text("x", encoding="utf-8")
    (tmp_path / "README.md").write_text("x", encoding="utf-8")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    assert [Path(p).name for p in article_paths(tmp_path)] == ["a.txt", "b.html"]
    with pytest.raises(EvidenceError):
        article_paths(tmp_path / "missing")


def test_article_from_text_offsets_match():
    text = "Title line here for the piece\n\nThe US will withdraw 4,000 troops from Poland by 2027, officials said.\n"
    article = article_from_text(text)
    assert len(article.body) == len(text)
    assert article.title == "Title line here for the piece"


def test_a_dense_long_article_is_read_in_bounded_time(tmp_path):
    """300,000 characters of trigger words and counts (about 10,000 claims): reading looks only inside each
    sentence, so this takes seconds; a quadratic regression would take minutes and hit the child's time limit."""
    path = tmp_path / "dense.txt"
    path.write_text("The US will withdraw 3,000 troops from Poland and send 2,000 to Romania. " * 4000,
                    encoding="utf-8")
    code = ("import sys; from drawdown.evidence import extract; r = extract([sys.argv[1]])[0]; "
            "print(len(r.claims))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
                          check=True)
    assert int(done.stdout.strip()) >= 8000


def test_crlf_and_byte_order_mark_keep_offsets(tmp_path, data):
    path = tmp_path / "windows.txt"
    text = "\ufeffUS pulls troops from Poland\r\n\r\nThe US will withdraw 4,000 troops from Poland by 2027.\r\n"
    path.write_bytes(text.encode("utf-8"))
    result = extract([path], data)[0]
    raw = path.read_bytes().decode("utf-8")
    [claim] = result.claims
    assert raw[claim.span[0]:claim.span[1]] == claim.quote and claim.countries == ["POL"]
    assert result.article.title == "US pulls troops from Poland"


def test_utf16_files_are_read(tmp_path, data):
    path = tmp_path / "unicode.txt"
    path.write_bytes("Title of the piece here\n\nThe US will withdraw 4,000 troops from Poland.\n".encode("utf-16"))
    [claim] = extract([path], data)[0].claims
    assert claim.troops == 4000


def test_interstitials_do_not_cut_the_article(data):
    text = ("Title of the piece here\n\nThe US will withdraw 4,000 troops from Poland by 2027, officials said on "
            "Tuesday in Warsaw, adding that the move was planned.\nAdvertisement\nRead more: US to withdraw 9,000 "
            "troops from Italy\nThe US will also send 500 troops to Estonia next year, the officials said.\n")
    claims = extract_text(text, data).claims
    assert [(c.action, c.troops) for c in claims] == [("withdraw", 4000), ("deploy", 500)]


def test_implausible_dates_are_ignored(data):
    result = extract_text("Title of the piece here\n9999-12-31\n\nThe US will withdraw 4,000 troops from Poland.\n",
                          data)
    assert result.article.date is None
