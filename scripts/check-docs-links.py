#!/usr/bin/env python3
"""Link check of the built book and of the Markdown sources (scripts/check-docs).

Usage: scripts/check-docs-links.py BOOK_DIR MARKDOWN_FILE...   (run from the repository root)

1. Every page under BOOK_DIR (mdbook's HTML output): each relative `href`/`src` must name an
   existing file or directory, and each `#fragment` an existing `id` (or `name`) in the target
   page. A root-relative link ("/x") is taken from BOOK_DIR, as is every link of a page with
   `<base href="/">` (mdbook's 404 page). Links out of the book (../../config/...) are checked
   against the repository, where they point on GitHub too.
2. Every MARKDOWN_FILE (README.md and docs/src/*.md), as GitHub shows it: each relative link must
   name an existing file or directory; a fragment into a Markdown file must be a heading's
   anchor as GitHub makes it, and for a page of the book also an `id` in its built page.
External links (http, https, mailto) are listed, never fetched. Exits 1 with the list of broken
links.
"""

import html.parser
import os
import re
import sys
import urllib.parse
from collections import defaultdict

EXTERNAL = ("http:", "https:", "mailto:", "ftp:", "data:", "javascript:")


class Page(html.parser.HTMLParser):
    """Collects a page's links, its ids and its <base href>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []  # (attribute, value, line)
        self.ids = set()
        self.base = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and tag != "meta":
                self.ids.add(value)
            if name in ("href", "src") and tag not in ("meta",):
                if tag == "base" and name == "href":
                    self.base = value
                else:
                    self.links.append((name, value, self.getpos()[0]))

    handle_startendtag = handle_starttag


_pages = {}


def parse_html(path):
    if path not in _pages:
        page = Page()
        with open(path, encoding="utf-8") as f:
            page.feed(f.read())
        page.close()
        _pages[path] = page
    return _pages[path]


def github_slug(text):
    """The anchor GitHub gives a heading (github-slugger): lower case, punctuation dropped,
    spaces to hyphens."""
    text = text.strip().lower()
    return "".join(
        "-" if ch == " " else ch
        for ch in text
        if ch in "-_ " or ch.isalnum()
    )


def heading_text(md):
    """A heading's text as rendered: links to their text, code spans and emphasis unwrapped."""
    md = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", md)
    md = re.sub(r"<[^>]+>", "", md)
    return md.replace("`", "").replace("*", "")


def markdown_lines(path):
    """The lines of a Markdown file outside fenced code blocks, with their numbers."""
    fence = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = re.match(r"^\s*(`{3,}|~{3,})", line)
            if fence is None and m:
                fence = m.group(1)
                continue
            if fence is not None:
                if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                        and line.strip() == m.group(1):
                    fence = None
                continue
            yield number, line.rstrip("\n")


_anchors = {}


def markdown_anchors(path):
    if path not in _anchors:
        seen = defaultdict(int)
        anchors = set()
        for _, line in markdown_lines(path):
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            slug = github_slug(heading_text(m.group(1)))
            anchors.add(slug if seen[slug] == 0 else f"{slug}-{seen[slug]}")
            seen[slug] += 1
        # Explicit anchors written as HTML.
        with open(path, encoding="utf-8") as f:
            anchors.update(re.findall(r'<a\s+(?:id|name)="([^"]+)"', f.read()))
        _anchors[path] = anchors
    return _anchors[path]


def markdown_links(path):
    """(target, line) of every inline link and image of a Markdown file, code spans skipped."""
    for number, line in markdown_lines(path):
        line = re.sub(r"(`+).*?\1", "", line)
        for m in re.finditer(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", line):
            yield m.group(1), number
        for m in re.finditer(r'<(?:a|img)\s[^>]*?(?:href|src)="([^"]+)"', line):
            yield m.group(1), number


def split(link):
    parsed = urllib.parse.urlsplit(link)
    return urllib.parse.unquote(parsed.path), urllib.parse.unquote(parsed.fragment)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    book = os.path.normpath(sys.argv[1])
    markdown = sys.argv[2:]
    broken = []
    external = defaultdict(set)
    checked = 0

    # 1. The built book.
    for root, _, files in os.walk(book):
        for name in sorted(files):
            if not name.endswith(".html"):
                continue
            page_path = os.path.join(root, name)
            page = parse_html(page_path)
            for attr, link, line in page.links:
                where = f"{os.path.relpath(page_path)}:{line}"
                if link.startswith(EXTERNAL) or link.startswith("//"):
                    external[link].add(where)
                    continue
                path, fragment = split(link)
                if page.base == "/" or path.startswith("/"):
                    base_dir = book
                    path = path.lstrip("/")
                else:
                    base_dir = os.path.dirname(page_path)
                target = os.path.normpath(os.path.join(base_dir, path)) if path else page_path
                checked += 1
                if not os.path.exists(target):
                    broken.append(f"{where}: {attr}=\"{link}\": no file {os.path.relpath(target)}")
                    continue
                if fragment:
                    if target.endswith(".html"):
                        if fragment not in parse_html(target).ids:
                            broken.append(f"{where}: {attr}=\"{link}\": no id \"{fragment}\" in {os.path.relpath(target)}")
                    elif target.endswith(".md"):
                        if fragment not in markdown_anchors(target):
                            broken.append(f"{where}: {attr}=\"{link}\": no heading \"#{fragment}\" in {os.path.relpath(target)}")
                    else:
                        broken.append(f"{where}: {attr}=\"{link}\": a fragment into a file that is not a page")

    # 2. Markdown as GitHub shows it.
    src_dir = None
    for md in markdown:
        for link, line in markdown_links(md):
            where = f"{md}:{line}"
            if link.startswith(EXTERNAL) or link.startswith("//"):
                external[link].add(where)
                continue
            path, fragment = split(link)
            if path.startswith("/"):
                broken.append(f"{where}: ({link}): a root-relative link does not work on GitHub")
                continue
            target = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else os.path.normpath(md)
            checked += 1
            if not os.path.exists(target):
                broken.append(f"{where}: ({link}): no file {target}")
                continue
            if not fragment:
                continue
            if not target.endswith(".md"):
                broken.append(f"{where}: ({link}): a fragment into a file that is not Markdown")
                continue
            if fragment not in markdown_anchors(target):
                broken.append(f"{where}: ({link}): no heading with anchor \"#{fragment}\" in {target}")
            # A page of the book: mdbook must make the same anchor.
            if os.path.dirname(target) == os.path.normpath("docs/src"):
                built = os.path.join(book, os.path.basename(target)[:-3] + ".html")
                if os.path.basename(target) == "introduction.md" and not os.path.exists(built):
                    built = os.path.join(book, "index.html")
                if os.path.exists(built) and fragment not in parse_html(built).ids:
                    broken.append(f"{where}: ({link}): no id \"{fragment}\" in the built {os.path.relpath(built)}")

    print(f"check-docs-links: {checked} relative links checked in {book} and {len(markdown)} Markdown file(s)")
    if external:
        print(f"check-docs-links: {len(external)} external link(s), not fetched:")
        for link in sorted(external):
            print(f"  {link}  ({', '.join(sorted(external[link])[:2])}{', …' if len(external[link]) > 2 else ''})")
    if broken:
        print(f"check-docs-links: {len(broken)} broken link(s):", file=sys.stderr)
        for b in broken:
            print(f"  {b}", file=sys.stderr)
        sys.exit(1)
    print("check-docs-links: ok")


if __name__ == "__main__":
    main()
