"""Answers for cluster-tests/cases/sql/lookups.slt, written from each case's SQL.

The lookup `channel_names` is read from cluster-tests/data/channel-names-lookup.json, the
same file the cluster tests register. Druid's LOOKUP: a key missing from the map (or a null
key) gives the replacement argument, or null without one; GROUP BY ... ORDER BY 1 sorts
nulls first.
"""

import json
from collections import Counter, defaultdict

import wikiticker_expected as wiki

LOOKUP_FILE = wiki.ROOT / "cluster-tests" / "data" / "channel-names-lookup.json"


def channel_names():
    body = json.loads(LOOKUP_FILE.read_text())
    return body["__default"]["channel_names"]["lookupExtractorFactory"]["map"]


def answers(rows):
    names = channel_names()

    def lookup(key, replacement=None):
        value = names.get(key) if key is not None else None
        return value if value else replacement

    def null_first(value):
        return (value is not None, value or "")

    by_language = Counter(lookup(row["channel"]) for row in rows)
    ranked = sorted(by_language.items(), key=lambda pair: -pair[1])
    counts = [edits for _, edits in ranked[:6]]
    assert len(set(counts)) == len(counts), "a tie inside the top 5 would make the order open"

    added = defaultdict(int)
    edits = Counter()
    for row in rows:
        language = lookup(row["channel"], "Other")
        added[language] += row["added"] or 0
        edits[language] += 1

    norwegian = [row for row in rows if lookup(row["channel"]) == "Norwegian"]
    pairs = Counter(
        (lookup(row["channel"]), row["channel"])
        for row in rows
        if lookup(row["channel"]) in ("English", "Norwegian")
    )
    starts_n = Counter(
        lookup(row["channel"].lower())
        for row in rows
        if row["channel"] is not None and row["channel"].startswith("#n")
    )
    return {
        "lookup_group_by_language_top": [[language, count] for language, count in ranked[:5]],
        "lookup_replace_missing_sum": [
            [language, added[language], edits[language]] for language in sorted(edits)
        ],
        "lookup_in_where": [[len(norwegian), sum(row["deleted"] or 0 for row in norwegian)]],
        "lookup_is_null": [[sum(1 for row in rows if lookup(row["channel"]) is None)]],
        "lookup_with_channel": [
            [language, channel, count] for (language, channel), count in sorted(pairs.items())
        ],
        "lookup_of_expression": [
            [language, count]
            for language, count in sorted(starts_n.items(), key=lambda pair: null_first(pair[0]))
        ],
        "lookup_schema_tables": [["lookup", "channel_names", "TABLE", "YES", "YES"]],
        "lookup_schema_columns": [["k", "VARCHAR", 1], ["v", "VARCHAR", 2]],
    }
