#!/usr/bin/env python3
"""Independent expectations for the Druid SQL golden cases (stdlib only).

Answers every case of cluster-tests/cases/sql/*.slt from the raw wikiticker file, with one
plain Python function per case written from the case's SQL (not from Henge's plan or
answer), and writes the rows (JSON arrays, as resultFormat "array" returns them) under the
case's "----" line. Rows are loaded as wikipedia-index.json ingests them
(wikiticker_expected.load_rows). Druid SQL rules applied: SQL-compatible nulls (SUM/MAX over
no rows are null, COUNT is 0; NOT and <> never match a null), TIMESTAMP values print as
ISO-8601 UTC, BETWEEN on __time includes its end (end plus 1 ms), GROUP BY without ORDER BY
sorts by the keys, nulls sort first ascending. A case whose LIMIT cuts through a tie, or
whose order Druid leaves open, raises instead of guessing.

Usage:
    scripts/golden/sql_expected.py           # rewrite the expected rows
    scripts/golden/sql_expected.py --check   # exit 1 if any file is out of date

Topic modules: every `sql_cases_*.py` beside this script defines `answers(rows)` returning
{case name: expected rows} for its own .slt file; a case name answered twice is an error.
"""

import importlib
import json
import pathlib
import sys
from collections import Counter, defaultdict

sys.dont_write_bytecode = True
import druid_native as native  # noqa: E402
import wikiticker_expected as wiki  # noqa: E402

CASES = wiki.ROOT / "cluster-tests" / "cases" / "sql"
HOUR = 3_600_000
T = native.parse_time


def iso(ms):
    return native.format_time(ms)


def nulls_first(value):
    return (value is not None, value if value is not None else "")


def top(pairs, limit, offset=0):
    """pairs sorted by value descending; refuses ties that the cut or the order would hide."""
    ranked = sorted(pairs, key=lambda pair: -pair[1])
    chosen = ranked[offset : offset + limit]
    values = [value for _, value in ranked[: offset + limit + 1]]
    if len(values) != len(set(values)):
        raise ValueError("tie inside the ranked rows: the order would be Druid's choice")
    return [list(pair) for pair in chosen]


def java_long(value):
    """Java's (long) of a double: truncation toward zero (Druid's BIGINT AVG result)."""
    return int(value)


def groups(rows, column):
    grouped = defaultdict(list)
    for row in rows:
        grouped[row[column]].append(row)
    return grouped


def robot_sum(rows):
    """SUM over the rows a FILTER keeps: null when it keeps none."""
    return sum(row["added"] for row in rows) if rows else None


def scan_rows(selected, limit):
    """The first `limit` rows by __time; refuses equal timestamps inside the window."""
    ordered = sorted(selected, key=lambda row: row["__time"])[: limit + 1]
    if len({row["__time"] for row in ordered}) != len(ordered):
        raise ValueError("equal timestamps in a scan window: the order is Druid's choice")
    return ordered[:limit]


def count_by(rows, key):
    return Counter(key(row) for row in rows)


def sum_by(rows, key, field):
    sums = defaultdict(int)
    for row in rows:
        if row[field] is not None:
            sums[key(row)] += row[field]
    return sums


def case_answers(rows):
    en = [row for row in rows if row["channel"] == "#en.wikipedia"]
    times = [row["__time"] for row in rows]
    deltas = [row["delta"] for row in rows if row["delta"] is not None]

    def count(predicate):
        return sum(1 for row in rows if predicate(row))

    def scan(selected, columns, limit, offset=0, descending=False):
        ordered = sorted(selected, key=lambda row: row["__time"], reverse=descending)
        window = ordered[offset : offset + limit + 1]
        stamps = [row["__time"] for row in window]
        if len(stamps) != len(set(stamps)):
            raise ValueError("equal timestamps in a scan window: the order is Druid's choice")
        return [[iso(row[c]) if c == "__time" else row[c] for c in columns] for row in ordered[offset : offset + limit]]

    def between(row, low, high):
        return row is not None and low <= row <= high

    hourly = defaultdict(lambda: [0, 0])
    for row in rows:
        bucket = hourly[row["__time"] // HOUR * HOUR]
        bucket[0] += 1
        bucket[1] += row["deleted"] or 0
    six_hours = sum_by(en, lambda row: row["__time"] // (6 * HOUR) * (6 * HOUR), "added")
    by_channel = count_by(rows, lambda row: row["channel"])
    two_dims = count_by(
        [row for row in rows if row["countryName"] is not None],
        lambda row: (row["countryName"], row["isRobot"]),
    )
    two_dims_sorted = sorted(two_dims.items(), key=lambda item: (-item[1], item[0][0], item[0][1]))
    en_pages = sorted(count_by(en, lambda row: row["page"]).items(), key=lambda item: (-item[1], item[0]))
    lowered = count_by(
        [row for row in rows if row["channel"] is not None and row["channel"].startswith("#e")],
        lambda row: row["channel"].lower(),
    )
    answers = {
        "count_all": [[len(rows)]],
        "sum_added": [[sum(row["added"] for row in rows)]],
        "totals_min_max": [[
            len(rows), sum(row["added"] for row in rows), sum(row["deleted"] for row in rows),
            min(deltas), max(deltas), iso(min(times)), iso(max(times)),
        ]],
        "no_rows_aggregates": [[0, None, None]],
        "count_column_skips_nulls": [[
            count(lambda row: row["cityName"] is not None), count(lambda row: row["cityName"] is None),
        ]],
        "top_pages_by_edits": top(count_by(rows, lambda row: row["page"]).items(), 5),
        "top_pages_by_edits_exact": [list(item) for item in en_pages[:7]],
        "channels_by_added": top(sum_by(rows, lambda row: row["channel"], "added").items(), 10),
        "channels_by_added_offset": top(sum_by(rows, lambda row: row["channel"], "added").items(), 3, 2),
        "edits_per_hour": [[iso(hour), edits, deleted] for hour, (edits, deleted) in sorted(hourly.items())],
        "en_added_per_six_hours_descending": [[iso(start), added] for start, added in sorted(six_hours.items(), reverse=True)],
        "scan_limit_by_time": scan(
            [row for row in rows if row["__time"] >= T("2015-09-12T12:00:00Z")],
            ["__time", "channel", "page", "added"], 5,
        ),
        "scan_limit_by_time_descending_offset": scan(
            [row for row in rows if row["channel"] == "#fr.wikipedia"], ["__time", "user", "delta"], 3, 1, True,
        ),
        "between_hour_takes_end_plus_one_ms": [[count(
            lambda row: T("2015-09-12T01:00:00Z") <= row["__time"] <= T("2015-09-12T01:59:59Z")
        )]],
        "half_open_interval": [[
            count(lambda row: T("2015-09-12T06:30:00Z") <= row["__time"] < T("2015-09-12T07:15:00Z")),
            sum(row["added"] for row in rows if T("2015-09-12T06:30:00Z") <= row["__time"] < T("2015-09-12T07:15:00Z")),
        ]],
        "filters_in_and_range": [[count(
            lambda row: row["channel"] in ("#de.wikipedia", "#fr.wikipedia") and row["added"] is not None and row["added"] > 100
        )]],
        "filters_not_in_and_not_equal": [[count(
            lambda row: row["channel"] is not None
            and row["channel"] not in ("#en.wikipedia", "#vi.wikipedia")
            and row["namespace"] is not None and row["namespace"] != "Main"
        )]],
        "filters_like_or_between": [[count(
            lambda row: (row["page"] is not None and row["page"].startswith("Talk:")) or between(row["delta"], -10, 10)
        )]],
        # NOT (a OR b) is true only when both a and b are false (not unknown).
        "filters_null_and_not": [[count(
            lambda row: row["countryName"] is not None
            and row["isRobot"] is not None and row["isRobot"] != "true" and row["cityName"] is not None
        )]],
        "having_count": [[channel, edits] for channel, edits in sorted(by_channel.items(), key=lambda item: nulls_first(item[0])) if edits > 1000],
        "two_dimensions": [[country, robot, edits] for (country, robot), edits in two_dims_sorted[:6]],
        "distinct_namespaces": [[value] for value in sorted({row["namespace"] for row in en}, key=nulls_first)[:6]],
        "lower_channel_expression": [[channel, edits] for channel, edits in sorted(lowered.items())],
        "sum_of_expression": [[
            sum(row["added"] - row["deleted"] for row in en), sum(row["delta"] for row in en),
        ]],
        "avg_is_bigint_for_bigint_columns": [[
            java_long(sum(row["added"] for row in rows) / len(rows)),
            java_long(sum(row["delta"] for row in rows) / len(rows)),
            sum(row["added"] for row in rows) / len(rows),
        ]],
        "avg_per_channel_truncates_toward_zero": [
            [channel, java_long(sum(r["delta"] for r in group) / len(group)), len(group)]
            for channel, group in sorted(groups(rows, "channel").items(), key=lambda item: nulls_first(item[0]))
        ][:8],
        "group_by_long_dimension": [
            [added, edits] for added, edits in sorted(count_by([r for r in rows if r["added"] > 20000], lambda r: r["added"]).items())
        ][:5],
        "scan_expressions": [
            [iso(row["__time"]), row["added"] * 2, row["channel"] + "/" + row["page"],
             row["countryIsoCode"].upper() if row["countryIsoCode"] is not None else None]
            for row in scan_rows([r for r in rows if r["channel"] == "#it.wikipedia"], 3)
        ],
        "hour_and_channel_group_by": [
            [iso(hour), channel, edits]
            for (hour, channel), edits in sorted(count_by(
                [r for r in rows if r["channel"] in ("#de.wikipedia", "#fr.wikipedia") and r["__time"] < T("2015-09-12T03:00:00Z")],
                lambda r: (r["__time"] // HOUR * HOUR, r["channel"]),
            ).items())
        ],
        "last_hours_descending_limit": [[iso(hour), edits] for hour, (edits, _) in sorted(hourly.items(), reverse=True)[:3]],
        "filtered_aggregates_per_channel": [
            [channel, sum(1 for r in group if r["isNew"] == "true"), robot_sum([r for r in group if r["isRobot"] == "true"])]
            for channel, group in sorted(groups([r for r in rows if r["channel"].startswith("#d")], "channel").items())
        ],
        "where_on_expression": [[count(
            lambda row: row["channel"].lower() == "#en.wikipedia" and row["added"] + row["deleted"] >= 1000
        )]],
        "where_double_literal_on_long": [[count(lambda row: 100.5 < row["added"] <= 200)]],
        "like_with_escape": [[
            count(lambda row: row["comment"] is not None and "_" in row["comment"]),
            count(lambda row: row["comment"] is not None and "_" in row["comment"] and "%" in row["comment"]),
        ]],
        "approximate_count_distinct_channels": [[
            len({row["channel"] for row in rows if row["channel"] is not None}),
            len({row["countryName"] for row in rows if row["countryName"] is not None}),
        ]],
        "having_on_alias_and_aggregate": sorted(
            [
                [namespace, sum(r["added"] for r in group), len(group)]
                for namespace, group in groups(rows, "namespace").items()
                if len(group) > 500 and sum(r["added"] for r in group) < 1_000_000
            ],
            key=lambda row: -row[2],
        ),
        # BIGINT / BIGINT divides as Java longs do: truncation toward zero.
        "arithmetic_over_aggregates_per_channel": [
            [channel, per_edit, edits]
            for (channel, per_edit), edits in [
                ((channel, java_long(sum(r["added"] for r in group) / len(group))), len(group))
                for channel, group in groups(rows, "channel").items()
                if len(group) > 100
            ]
        ],
        "arithmetic_over_aggregates_totals": [[
            java_long(sum(row["added"] for row in rows) / len(rows)),
            sum(row["deleted"] for row in rows) * 1.0 / len(rows),
            sum(row["added"] for row in rows) - sum(row["deleted"] for row in rows),
        ]],
        "approximate_count_distinct_users": [[len({row["user"] for row in rows if row["user"] is not None})]],
    }
    answers.update(catalog_answers())
    per_edit = answers["arithmetic_over_aggregates_per_channel"]
    ranked = top([((channel, edits), value) for channel, value, edits in per_edit], 4)
    answers["arithmetic_over_aggregates_per_channel"] = [[channel, value, edits] for (channel, edits), value in ranked]
    return answers


def catalog_answers():
    """INFORMATION_SCHEMA rows from wikipedia-index.json's dimensions: __time is a NOT NULL
    TIMESTAMP (JDBC 93), string dimensions nullable VARCHAR (12), long ones BIGINT (-5)."""
    columns = [("__time", "TIMESTAMP", "NO", 93)]
    columns += [(name, "VARCHAR", "YES", 12) for name in wiki.STRING_DIMS]
    columns += [(name, "BIGINT", "YES", -5) for name in wiki.LONG_DIMS]
    columns.sort()
    like_is = sorted(
        (name for name, kind, _, _ in columns if name.startswith("is") and kind != "BIGINT"),
        reverse=True,
    )
    return {
        "information_schema_schemata": [
            ["druid", "INFORMATION_SCHEMA", None],
            ["druid", "druid", None],
        ],
        "information_schema_tables_wikipedia": [["druid", "druid", "wikipedia", "TABLE", "NO", "NO"]],
        "information_schema_system_tables": [
            ["COLUMNS", "SYSTEM_TABLE"], ["SCHEMATA", "SYSTEM_TABLE"], ["TABLES", "SYSTEM_TABLE"],
        ],
        "information_schema_columns_wikipedia": [list(column) for column in columns],
        "information_schema_columns_like": [[name] for name in like_is[:3]],
    }


def topic_answers(rows):
    """Answers from every sql_cases_*.py module, refusing a case name answered twice."""
    merged = {}
    for path in sorted(pathlib.Path(__file__).parent.glob("sql_cases_*.py")):
        for name, expected in importlib.import_module(path.stem).answers(rows).items():
            if name in merged:
                raise ValueError(f"{path.name}: case {name} is answered twice")
            merged[name] = expected
    return merged


def split_cases(text):
    """(name, first line index of the expected block, end line index) per case."""
    lines = text.split("\n")
    cases, index = [], 0
    while index < len(lines):
        if lines[index].startswith("query "):
            name = lines[index].split()[1]
            while lines[index] != "----":
                index += 1
            start = index + 1
            end = start
            while end < len(lines) and lines[end].strip():
                end += 1
            cases.append((name, start, end))
            index = end
        index += 1
    return lines, cases


def main():
    check = "--check" in sys.argv[1:]
    rows = wiki.load_rows()
    assert len(rows) == 39_244, "the raw file changed"
    answers = case_answers(rows)
    for name, expected in topic_answers(rows).items():
        if name in answers:
            raise ValueError(f"case {name} is answered twice")
        answers[name] = expected
    stale = False
    for path in sorted(CASES.glob("*.slt")):
        text = path.read_text()
        lines, cases = split_cases(text)
        for name, start, end in reversed(cases):
            if name not in answers:
                raise ValueError(f"{path.name}: no independent answer for case {name}")
            expected = [json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in answers[name]]
            lines[start:end] = expected
        updated = "\n".join(lines)
        if updated != text:
            stale = True
            if check:
                print(f"{path.name} is out of date")
            else:
                path.write_text(updated)
                print(f"rewrote {path.name}")
    if check and stale:
        sys.exit(1)


if __name__ == "__main__":
    main()
