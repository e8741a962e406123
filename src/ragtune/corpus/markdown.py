"""Markdown -> the text a reader sees, with its headings, parsed by markdown-it-py (CommonMark plus tables).

What is indexed and shown is the text, not its markup: a README's badge row `[![Build Status](https://...)](...)`
is no part of its title, and a small reader that copies spans must not copy `**`, backticks or a link's URL into an
answer. So images and raw HTML tags are dropped, a link keeps its words, emphasis and code keep their text, a table
row becomes one block with its cells joined by " | " (as the HTML and DOCX loaders write it), and a list item keeps
its marker ("- ", "2. ") so it still reads as one item of a list. Setext headings (`Title` over `=====`) count as
headings too. A front-matter block (`---` lines around `title: ...`, as static-site generators write) is metadata:
its title is used, the block is not indexed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt

from ragtune.corpus.structure import HeadingPath

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<body>.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FRONT_TITLE = re.compile(r"^title:[ \t]*(?P<title>.+?)[ \t]*$", re.MULTILINE)
# Inline tokens whose own text is shown; every other inline token (emphasis marks, link and image markup, raw HTML)
# adds nothing. An image's alt text is dropped too: in a README it is a badge's label ("Build Status", "codecov").
_SHOWN_INLINE = frozenset(["text", "code_inline"])
_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True)
class MarkdownText:
    """A Markdown file as plain blocks: `blocks` of (text, heading path or None), and the first level-1 heading (or
    the front matter's title) as `title`."""

    title: str
    blocks: tuple[tuple[str, str | None], ...]


def _inline_text(token: Any) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in _SHOWN_INLINE:
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return _SPACES.sub(" ", "".join(parts)).strip()  # a dropped badge leaves two spaces


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "lxml").get_text(" ", strip=True)


def _front_matter(text: str) -> tuple[str, str]:
    """(the text without a leading front-matter block, its title or "")."""
    match = _FRONT_MATTER.match(text)
    if match is None or ":" not in match.group("body"):
        return text, ""
    title = _FRONT_TITLE.search(match.group("body"))
    return text[match.end() :], title.group("title").strip("\"'") if title else ""


def read_markdown(source: str) -> MarkdownText:
    """The blocks and title of Markdown `source` (see the module's docstring for what is kept)."""
    text, front_title = _front_matter(source)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    title = front_title
    blocks: list[tuple[str, str | None]] = []
    headings = HeadingPath()
    markers: list[str] = []  # the marker the next paragraph of each open list item starts with
    row: list[str] | None = None
    for i, token in enumerate(tokens):
        kind = token.type
        if kind == "heading_open":
            name = _inline_text(tokens[i + 1])
            level = int(token.tag[1:])
            if name:
                if level == 1 and not title:
                    title = name
                blocks.append((name, headings.push(level, name)))
        elif kind == "list_item_open":
            markers.append(f"{token.info}. " if token.info else f"{token.markup or '-'} ")
        elif kind == "list_item_close":
            markers.pop()
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            if line := " | ".join(cell for cell in row if cell):
                blocks.append((line, None))
            row = None
        elif kind == "inline" and row is not None:
            row.append(_inline_text(token))
        elif kind == "inline" and tokens[i - 1].type == "paragraph_open":
            marker = markers[-1] if markers else ""
            if markers:
                markers[-1] = ""  # a second paragraph of the same item is no new item
            if body := _inline_text(token):
                blocks.append((marker + body, None))
        elif kind in ("fence", "code_block"):
            blocks.append((token.content.rstrip("\n"), None))
        elif kind == "html_block":
            blocks.append((_html_text(token.content), None))
    return MarkdownText(title, tuple(blocks))
