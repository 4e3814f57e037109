"""Answers for cluster-tests/cases/sql/joins.slt, written from each case's SQL.

Join rules (SQL): an INNER join keeps the pairs of rows whose keys are equal; a LEFT join
also keeps each left row without a partner, with nulls on the right; a null key never
equals anything. VALUES columns take the common type of their values (BIGINT and DOUBLE
make DOUBLE). A lookup table has the string columns k and v.
"""

from collections import Counter, defaultdict

import sql_cases_lookups as lookups
import wikiticker_expected as wiki
from druid_native import format_time, parse_time

HOUR = 3_600_000


def ranked(pairs, limit):
    """(key, value) pairs by value descending; refuses a tie the LIMIT or order would hide."""
    ordered = sorted(pairs, key=lambda pair: -pair[1])
    values = [value for _, value in ordered[: limit + 1]]
    if len(values) != len(set(values)):
        raise ValueError("tie inside the ranked rows: the order would be Druid's choice")
    return ordered[:limit]


def null_first(value):
    return (value is not None, value if value is not None else "")


def answers(rows):
    out = {}
    edits_of_page = Counter(row["page"] for row in rows)

    per_channel = defaultdict(int)
    count_channel = Counter()
    for row in rows:
        per_channel[row["channel"]] += edits_of_page[row["page"]]
        count_channel[row["channel"]] += 1
    out["join_page_edits_per_channel"] = [
        [channel, total, count_channel[channel]]
        for channel, total in ranked(per_channel.items(), 5)
    ]

    busy = {page for page, edits in edits_of_page.items() if edits > 20}
    added = defaultdict(int)
    for row in rows:
        if row["page"] in busy:
            added[row["page"]] += row["added"] or 0
    out["join_busy_pages"] = [
        [page, edits_of_page[page], added[page]]
        for page in sorted(busy, key=lambda page: (-edits_of_page[page], page))
    ]

    langs = {"#en.wikipedia": "English", "#de.wikipedia": "German", "#xx.wikipedia": "Nobody"}
    by_lang = Counter()
    deleted = defaultdict(int)
    for row in rows:
        lang = langs.get(row["channel"])
        by_lang[lang] += 1
        deleted[lang] += row["deleted"] or 0
    out["left_join_values_keeps_unmatched"] = [
        [lang, by_lang[lang], deleted[lang]] for lang in sorted(by_lang, key=null_first)
    ]

    wanted = {"#en.wikipedia", "#fr.wikipedia", "#xx.wikipedia"}
    out["inner_join_values_count"] = [[sum(1 for row in rows if row["channel"] in wanted)]]

    names = lookups.channel_names()
    languages = Counter(names[row["channel"]] for row in rows if row["channel"] in names)
    out["join_lookup_table_top_languages"] = [list(pair) for pair in ranked(languages.items(), 4)]

    deleted_by_language = defaultdict(int)
    for row in rows:
        deleted_by_language[names.get(row["channel"], "Other")] += row["deleted"] or 0
    out["left_join_lookup_coalesce"] = [
        [language, deleted_by_language[language]] for language in sorted(deleted_by_language)
    ]

    channels = Counter(names.values())
    out["lookup_table_alone_grouped"] = [[v, channels[v]] for v in sorted(channels)]
    # A scan without ORDER BY: rows come in the lookup's key order (its k column sorted).
    out["lookup_table_alone_filtered"] = [
        [k] for k in sorted(k for k, v in names.items() if v == "Norwegian")
    ]

    out["values_alone_grouped"] = [["a", 4, 2], ["b", 2, 1], ["c", None, 1]]
    out["values_alone_aggregates"] = [[3, 3.5, 1.5]]

    robot_edits = Counter(row["page"] for row in rows if row["isRobot"] == "true")
    out["self_join_table_right_side"] = [
        [sum(robot_edits[row["page"]] for row in rows if row["channel"] == "#de.wikipedia")]
    ]

    per_user = Counter(row["user"] for row in rows)
    active = {user for user, edits in per_user.items() if edits >= 50 and user is not None}
    end = parse_time("2015-09-12T03:00:00.000Z")
    hours = Counter(
        row["__time"] // HOUR * HOUR
        for row in rows
        if row["user"] in active and row["__time"] < end
    )
    out["join_active_users_by_hour"] = [[format_time(hour), hours[hour]] for hour in sorted(hours)]

    ranks = {"English": 1, "Norwegian": 2}
    pairs = Counter(
        names[row["channel"]]
        for row in rows
        if row["channel"] in names and names[row["channel"]] in ranks
    )
    out["two_joins_lookup_then_values"] = [
        [language, ranks[language], pairs[language]]
        for language in sorted(pairs, key=lambda language: ranks[language])
    ]

    upper = {"EN.WIKIPEDIA", "DE.WIKIPEDIA"}
    out["join_on_left_expression"] = [
        [sum(1 for row in rows if row["channel"] is not None and row["channel"][1:].upper() in upper)]
    ]

    popular = {page for page, edits in edits_of_page.items() if edits >= 30}
    window = sorted((row for row in rows if row["page"] in popular), key=lambda row: row["__time"])
    if len({row["__time"] for row in window[:4]}) != 4:
        raise ValueError("equal timestamps in the scan window")
    out["join_scan_in_time_order"] = [
        [format_time(row["__time"]), row["page"], edits_of_page[row["page"]]] for row in window[:3]
    ]

    page_added = defaultdict(int)
    for row in rows:
        page_added[row["page"]] += row["added"] or 0
    countries = Counter(
        row["countryName"]
        for row in rows
        if page_added[row["page"]] > 10000 and row["countryName"] is not None
    )
    ordered = sorted(countries.items(), key=lambda pair: (-pair[1], pair[0]))
    out["join_filter_on_both_sides"] = [list(pair) for pair in ordered[:5]]
    return out


if __name__ == "__main__":
    for name, expected in answers(wiki.load_rows()).items():
        print(name, expected)
