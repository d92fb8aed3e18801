"""Reading articles: files, folders or URLs in; the article's own text and metadata out.

Text and HTML alike lose what is not the article (site chrome, app prompts, related stories, reader comments).
For plain text the removed parts are blanked with spaces rather than cut, so that every character offset the
reader reports is an offset into the file as it is on disk. For HTML, offsets refer to the extracted text
(``Article.text``), which ``drawdown evidence extract --json`` prints.

Hostile input is refused before anything expensive runs: files over :data:`MAX_BYTES`, binary files, and text
over :data:`MAX_CHARS` after extraction. HTML too deeply nested for the extractor falls back to a streaming
tag stripper (linear time and memory).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from drawdown.errors import DrawdownError, Location

MAX_BYTES = 5_000_000
MAX_CHARS = 1_000_000
MAX_FILES = 2_000
ARTICLE_SUFFIXES = (".txt", ".text", ".html", ".htm", ".xhtml")
MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
MONTHS.update({k[:3]: v for k, v in list(MONTHS.items())})
MONTHS["sept"] = 9


class EvidenceError(DrawdownError):
    """An article that cannot be read (too large, binary, empty, unreachable)."""


@dataclass
class Article:
    """One news article: where it came from, its metadata, and its text with non-article parts blanked."""

    id: str
    path: str
    kind: str  # text | html
    text: str  # what spans refer to: the file's text (plain text) or the extracted text (HTML)
    body: str  # ``text`` with headers, chrome and comments replaced by spaces (same length)
    outlet: str | None = None
    title: str | None = None
    date: dt.date | None = None
    author: str | None = None
    removed: list[str] = field(default_factory=list)  # what was stripped, in words

    def meta(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "kind": self.kind, "outlet": self.outlet, "title": self.title,
                "date": self.date.isoformat() if self.date else None, "author": self.author, "removed": self.removed}


# ------------------------------------------------------------------------------------------------ input

def article_paths(target: str | Path) -> list[str]:
    """Files to read for one argument: a URL, a file, or the article files in a folder (not following links)."""
    text = str(target)
    if re.match(r"^https?://", text, re.I):
        return [text]
    path = Path(text)
    if path.is_dir():
        found: list[str] = []
        for child in sorted(path.rglob("*")):
            if child.is_symlink() or not child.is_file() or child.suffix.lower() not in ARTICLE_SUFFIXES:
                continue
            found.append(str(child))
            if len(found) > MAX_FILES:
                raise EvidenceError.single(f"more than {MAX_FILES} article files in this folder", Location(text),
                                           suggestion="pass a smaller folder or the files themselves")
        if not found:
            raise EvidenceError.single(f"no article files ({', '.join(ARTICLE_SUFFIXES)}) in this folder",
                                       Location(text))
        return found
    if not path.exists():
        raise EvidenceError.single("no such file or folder", Location(text))
    return [text]


def read_article(target: str | Path, *, outlet: str | None = None, date: dt.date | None = None,
                 title: str | None = None) -> Article:
    """Read one article file or URL. ``outlet``, ``date`` and ``title`` override what the text says."""
    name = str(target)
    raw = _fetch(name) if re.match(r"^https?://", name, re.I) else _read_file(Path(name))
    text = _decode(raw, name)
    html = name.lower().endswith((".html", ".htm", ".xhtml")) or _looks_like_html(text)
    article = _from_html(text, name) if html else _from_text(text, name)
    article.id = hashlib.sha256(raw).hexdigest()[:16]
    if outlet:
        article.outlet = outlet
    if date:
        article.date = date
    if title:
        article.title = title
    if not article.body.strip():
        raise EvidenceError.single("no article text found (empty, or only site chrome and comments)", Location(name))
    return article


def article_from_text(text: str, name: str = "<text>", **overrides: Any) -> Article:
    """An article from a string (tests, the Python API)."""
    if len(text) > MAX_CHARS:
        raise EvidenceError.single(f"text of {len(text):,} characters; drawdown reads articles up to {MAX_CHARS:,}",
                                   Location(name))
    html = _looks_like_html(text)
    article = _from_html(text, name) if html else _from_text(text, name)
    article.id = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    for key, value in overrides.items():
        if value is not None:
            setattr(article, key, value)
    return article


def _read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise EvidenceError.single(f"cannot read: {exc.strerror}", Location(str(path))) from None
    if not path.is_file():
        raise EvidenceError.single("not a regular file", Location(str(path)))
    if size > MAX_BYTES:
        raise EvidenceError.single(f"file is {size:,} bytes; drawdown reads articles up to {MAX_BYTES:,} bytes "
                                   f"({MAX_BYTES / 1e6:g} MB)",
                                   Location(str(path)), suggestion="save the article text alone and pass that")
    with path.open("rb") as handle:
        return handle.read(MAX_BYTES + 1)


def _fetch(url: str) -> bytes:  # pragma: no cover - needs network; never used in tests
    request = urllib.request.Request(url, headers={"User-Agent": "drawdown-evidence/1 (+research)"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            data = response.read(MAX_BYTES + 1)
    except OSError as exc:
        raise EvidenceError.single(f"cannot fetch: {exc}", Location(url),
                                   suggestion="no network? save the page and pass the file") from None
    if len(data) > MAX_BYTES:
        raise EvidenceError.single(f"page over {MAX_BYTES / 1e6:.0f} MB", Location(url))
    return data


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark (Windows "Unicode" text)
        try:
            return _checked(raw.decode("utf-16"), name)
        except UnicodeDecodeError:
            raise EvidenceError.single("undecodable UTF-16 file", Location(name)) from None
    head = raw[:65536]
    if b"\x00" in head:
        raise EvidenceError.single("binary file (contains NUL bytes), not an article", Location(name),
                                   suggestion="pass a .txt or .html file")
    try:
        text = raw.decode("utf-8")  # a byte-order mark stays (one character, blanked later): offsets match the file
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(raw).best()
        if best is None:
            raise EvidenceError.single("binary or undecodable file, not an article", Location(name)) from None
        text = str(best)
    return _checked(text, name)


def _checked(text: str, name: str) -> str:
    control = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if control > 0.01 * max(1, min(len(text), 65536)):
        raise EvidenceError.single("binary file (control characters), not an article", Location(name))
    if len(text) > MAX_CHARS and not _looks_like_html(text):
        raise EvidenceError.single(f"text of {len(text):,} characters; drawdown reads articles up to {MAX_CHARS:,}",
                                   Location(name))
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")  # old Mac line ends: same length, so offsets still hold
    return text


def _looks_like_html(text: str) -> bool:
    head = text[:4096].lower()
    return bool(re.search(r"<!doctype html|<html[\s>]|<body[\s>]|<p[\s>]|<div[\s>]|<article[\s>]", head))


# ------------------------------------------------------------------------------------------------ HTML

class _Stripper(HTMLParser):
    """Streaming text extraction (no tree, so no depth limit): skips script, style and page furniture."""

    SKIP = {"script", "style", "noscript", "template", "nav", "footer", "aside", "form", "button", "svg", "iframe",
            "header", "select"}
    BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "article", "section", "tr", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.size = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping and self.size < MAX_CHARS:
            self.parts.append(data)
            self.size += len(data)


def _from_html(html: str, name: str) -> Article:
    import trafilatura

    removed = ["HTML markup, scripts and page furniture"]
    try:
        doc = trafilatura.bare_extraction(html, with_metadata=True, favor_precision=True, include_comments=False,
                                          include_tables=False)
    except Exception:  # noqa: BLE001 - a malformed page must not crash the reader; fall back below
        doc = None
    meta: dict[str, Any] = {}
    text = ""
    if doc is not None:
        text = doc.text or ""
        meta = {"title": doc.title, "author": doc.author, "outlet": doc.sitename, "date": plausible(_iso_date(doc.date))}
    if not text.strip():
        stripper = _Stripper()
        stripper.feed(html[: MAX_CHARS * 5])
        stripper.close()
        text = re.sub(r"\n\s*\n+", "\n\n", "".join(stripper.parts)).strip()
        removed.append("extractor found no article; tags stripped instead")
    text = text[:MAX_CHARS]
    article = _from_text(text, name)
    article.kind = "html"
    article.removed = removed + article.removed
    for key, value in meta.items():
        if value:
            setattr(article, key, value)
    return article


def _iso_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------------ plain text

@cache
def _boilerplate() -> tuple[list[re.Pattern[str]], list[re.Pattern[str]], list[str]]:
    from drawdown.evidence.lexicon import load_lexicon

    lex = load_lexicon()
    ends = [re.compile(p, re.I) for p in lex["boilerplate"]["end_markers"]]
    drops = [re.compile(p, re.I) for p in lex["boilerplate"]["drop_lines"]]
    return ends, drops, list(lex["outlets"])


def _lines(text: str) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line), line))
        pos += len(line) + 1
    return out


def _is_body(line: str) -> bool:
    words = line.split()
    return len(words) >= 25 or (len(words) >= 6 and line.rstrip().endswith((".", ".”", '."', "?”", ".'")))


def _wrapped(lines: list[tuple[int, int, str]], i: int) -> bool:
    """The first line of hard-wrapped prose: long, no sentence end, and the next line goes on in lower case."""
    line = lines[i][2].strip()
    if len(line) < 40 or line.endswith((".", "!", "?", '"', "”", ":")) or i + 1 >= len(lines):
        return False
    nxt = lines[i + 1][2].strip()
    return bool(nxt) and (nxt[0].islower() or nxt[0].isdigit())


def _from_text(original: str, name: str) -> Article:
    ends, drops, outlets = _boilerplate()
    # carriage returns and a byte-order mark become spaces (same length): spans stay offsets into the file
    text = original.replace("\r", " ").replace("\ufeff", " ")
    lines = _lines(text)
    body = list(text)
    removed: list[str] = []

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if body[i] != "\n":
                body[i] = " "

    first_body = next((i for i, (_, _, line) in enumerate(lines) if _is_body(line) or _wrapped(lines, i)), None)
    header = lines[:first_body] if first_body is not None else lines  # no paragraph at all: nothing to read
    outlet = author = title = None
    date = None
    header_outlets: list[str] = []
    for start, end, line in header:
        stripped = line.strip()
        date = date or _find_date(stripped)
        dateline = re.match(r"^(?P<outlet>[A-Z][\w.&' -]{1,40}?),\s+(?=\S*\s*\S*\s*\d{4}\s*$)", stripped)
        if dateline and _find_date(stripped) and not outlet:
            outlet = dateline.group("outlet").strip()  # "Example Wire, 24 January 2022"
        byline = re.match(r"^by\s+(?P<author>[^–—|]+?)\s*[–—|-]\s*(?P<outlet>.+)$", stripped, re.I)
        if byline:
            author, outlet = byline.group("author").strip(), byline.group("outlet").strip()
        header_outlets += [o for o in outlets if re.match(rf"^{re.escape(o)}(?![A-Za-z])", stripped) and len(o) > 2]
        blank(start, end)
    if header:
        removed.append("header (title, dateline, byline)")
        candidates = [re.sub(r"^\s*date\s+\d{4}-\d{2}-\d{2}\s*", "", line).strip() for _, _, line in header]
        candidates = [c for c in candidates if len(c.split()) >= 4 and not any(p.search(c) for p in drops)
                      and not c.lower().startswith("by ") and not _find_date(c)]
        if candidates:
            title = max(candidates[:3], key=len)
    # the body ends at the first comment section, related-stories block or app prompt after some text
    end_at = None
    body_chars = 0
    for i, (start, end, line) in enumerate(lines):
        if first_body is None or i < first_body:
            continue
        stripped = line.strip()
        if body_chars > 200 and any(p.search(stripped) for p in ends):
            end_at = i
            break
        if any(p.search(stripped) for p in drops) or stripped in outlets:
            if stripped in outlets:
                header_outlets.append(stripped)
            blank(start, end)
            continue
        if title and stripped == title:
            blank(start, end)
            continue
        body_chars += len(stripped)
    tail = ""
    if end_at is not None:
        tail = text[lines[end_at][0]:]
        blank(lines[end_at][0], len(text))
        removed.append(f"everything from line {end_at + 1} ('{lines[end_at][2].strip()[:40]}'): comments, "
                       "related stories or app prompts")
    if not outlet and header_outlets:
        outlet = header_outlets[0]
    if not outlet:
        outlet = _domain(tail) or _domain(text[: lines[first_body][0]] if first_body else "")
    if date is None and first_body is not None:
        date = _find_date(text[lines[first_body][0]: lines[first_body][1]][:300])
    return Article(id="", path=name, kind="text", text=original, body="".join(body), outlet=outlet, title=title,
                   date=date, author=author, removed=removed)


def _domain(text: str) -> str | None:
    found = Counter(m.group(0).lower() for m in re.finditer(r"\b[a-z0-9-]{3,}\.(?:com|org|net|co\.uk|news|info)\b",
                                                            text, re.I))
    return found.most_common(1)[0][0] if found else None


_DATE_PATTERNS = [
    (re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(\d{1,2})[-./](\d{1,2})[-./](\d{4})(?!\d)"), "dmy"),
    (re.compile(r"\b([A-Z][a-z]{2,8})\.? (\d{1,2}),? (\d{4})\b"), "mdy"),
    (re.compile(r"\b(\d{1,2}) ([A-Z][a-z]{2,8}),? (\d{4})\b"), "dmy_name"),
]


EARLIEST_YEAR = 1945


def plausible(day: dt.date | None) -> dt.date | None:
    """A publication date drawdown can use: from 1945 to next year (else None)."""
    if day is None or not (EARLIEST_YEAR <= day.year <= dt.date.today().year + 1):
        return None
    return day


def _find_date(text: str) -> dt.date | None:
    """A full date (day, month and year) in a header line: ISO, dd-mm-yyyy, 'February 8, 2022', '8 February 2022'
    (European day-month order for numeric dates); dates outside 1945 to next year are ignored."""
    found = _any_date(text)
    return plausible(found)


def _any_date(text: str) -> dt.date | None:
    for pattern, kind in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            try:
                a, b, c = match.groups()
                if kind == "ymd":
                    return dt.date(int(a), int(b), int(c))
                if kind == "dmy":
                    return dt.date(int(c), int(b), int(a))
                if kind == "mdy" and a.lower() in MONTHS:
                    return dt.date(int(c), MONTHS[a.lower()], int(b))
                if kind == "dmy_name" and b.lower() in MONTHS:
                    return dt.date(int(c), MONTHS[b.lower()], int(a))
            except ValueError:
                continue
    return None
