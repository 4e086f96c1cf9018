#!/usr/bin/python3
"""Parse feed files with feedparser (the reference parser) and print what it saw as JSON.

Usage: validate_feed.py FILE...

Prints one JSON object: {"FILE": {"bozo": 0|1, "bozo_exception": "...", "version": "rss20",
"feed": {...}, "entries": [{"id", "link", "title", "published", "updated"}]}}. The Go test
(validate_test.go) decides what is acceptable; this script only reports.
"""
import json
import sys

import feedparser


def report(path):
    with open(path, "rb") as fh:
        d = feedparser.parse(fh.read())
    return {
        "bozo": int(bool(d.bozo)),
        "bozo_exception": str(d.get("bozo_exception", "")),
        "version": d.version,
        "encoding": d.get("encoding", ""),
        "feed": {
            "title": d.feed.get("title", ""),
            "link": d.feed.get("link", ""),
            "updated": d.feed.get("updated", ""),
            "language": d.feed.get("language", ""),
        },
        "entries": [
            {
                "id": e.get("id", ""),
                "link": e.get("link", ""),
                "title": e.get("title", ""),
                "published": e.get("published", ""),
                "updated": e.get("updated", ""),
                "author": e.get("author", ""),
            }
            for e in d.entries
        ],
    }


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    json.dump({p: report(p) for p in paths}, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
