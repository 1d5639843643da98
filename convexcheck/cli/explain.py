"""``convexcheck explain [TOPIC]``: a topic's argument in words and its numbers, computed now.

The topics and their numbers come from :mod:`convexcheck.explain.topics`; this module only lays
them out on the terminal (or prints them as JSON).
"""

from __future__ import annotations

import argparse

from convexcheck.cli.common import EXIT_OK, emit_json
from convexcheck.schemas import FORMATS


def add_arguments(explain: argparse.ArgumentParser) -> None:
    """The options of ``convexcheck explain``."""
    explain.add_argument("topic", metavar="TOPIC", nargs="?")
    explain.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    """Run ``convexcheck explain`` for parsed ``args``: list the topics, or explain one."""
    from convexcheck.explain.topics import explain_topic, format_numbers, list_topics

    if args.topic is None:
        topics = list_topics()
        if args.json:
            emit_json({"format": FORMATS["explain"], "topics": topics}, "explain")
        else:
            width = max(len(t["name"]) for t in topics)
            for t in topics:
                print(f"{t['name']:<{width}}  {t['title']}")
            print("\nconvexcheck explain TOPIC computes the topic's numbers live.")
        return EXIT_OK
    answer = explain_topic(args.topic)
    if args.json:
        emit_json({"format": FORMATS["explain"], **answer}, "explain")
        return EXIT_OK
    import textwrap

    print(answer["title"])
    print("=" * len(answer["title"]))
    print(textwrap.fill(answer["text"], width=96))
    print()
    print(f"Numbers (computed now, {answer['seconds']:.2f} s):")
    for line in format_numbers(answer["numbers"], indent=1):
        print(line)
    return EXIT_OK
