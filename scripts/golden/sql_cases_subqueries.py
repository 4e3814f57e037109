"""Expected rows of cluster-tests/cases/sql/subqueries.slt, computed from the raw rows by the
SQL's meaning: an inner GROUP BY is a dict of groups, the outer query works on those groups;
UNION ALL concatenates the branches' answers in order."""

from collections import Counter, defaultdict

import druid_native as native

HOUR = 3_600_000
T = native.parse_time


def iso(ms):
    return native.format_time(ms)


def ranked(pairs, limit):
    """pairs by value descending; refuses ties that the cut or the order would hide."""
    ordered = sorted(pairs, key=lambda pair: -pair[1])
    values = [value for _, value in ordered[: limit + 1]]
    if len(values) != len(set(values)):
        raise ValueError("tie inside the ranked rows")
    return [list(pair) for pair in ordered[:limit]]


def answers(rows):
    per_page = Counter(row["page"] for row in rows)
    per_channel_page = Counter((row["channel"], row["page"]) for row in rows)
    per_channel = Counter(row["channel"] for row in rows)
    per_hour = Counter(row["__time"] // HOUR * HOUR for row in rows)
    pages_of = defaultdict(list)
    for (channel, _page), edits in per_channel_page.items():
        pages_of[channel].append(edits)
    channels = sorted(pages_of)
    added_by_channel = Counter()
    for row in rows:
        added_by_channel[row["channel"]] += row["added"]
    by_time = sorted(rows, key=lambda row: row["__time"])
    if len({row["__time"] for row in by_time[:11]}) != 11:
        raise ValueError("equal timestamps among the first rows")
    if len({row["__time"] for row in by_time[-3:]}) != 3:
        raise ValueError("equal timestamps among the last rows")
    per_user = Counter(row["user"] for row in rows)
    user_buckets = Counter(per_user.values())
    over = lambda n: sum(1 for edits in per_page.values() if edits > n)  # noqa: E731
    fr = [row for row in rows if row["channel"] == "#fr.wikipedia"]
    top5 = ranked(added_by_channel.items(), 5)
    busy_channels = [(c, e) for c, e in per_channel.items() if e > 2000]
    return {
        "sub_pages_over_10_edits": [[over(10)]],
        "sub_pages_having_over_10": [[over(10)]],
        "cte_pages_over_10_edits": [
            [over(10), sum(edits for edits in per_page.values() if edits > 10)]
        ],
        "sub_pages_per_channel": [
            [channel, len(pages_of[channel]), sum(pages_of[channel])] for channel in channels
        ],
        "sub_avg_edits_per_page_per_channel": [
            [channel, sum(pages_of[channel]) * 1.0 / len(pages_of[channel])]
            for channel in channels
        ],
        "sub_max_page_edits_per_channel": [
            [channel, max(pages_of[channel])] for channel in channels
        ],
        "sub_top_channels_by_pages": ranked(
            [(channel, len(pages_of[channel])) for channel in channels], 5
        ),
        "sub_busiest_hour": [
            [max(per_hour.values()), min(per_hour.values()), sum(per_hour.values())]
        ],
        "sub_hours_first_three": [
            [iso(hour), per_hour[hour]] for hour in sorted(per_hour)[:3]
        ],
        "sub_hours_over_2000_edits": [[sum(1 for n in per_hour.values() if n > 2000)]],
        "sub_hours_by_day": [
            [iso(day), sum(n for h, n in per_hour.items() if h // 86_400_000 * 86_400_000 == day),
             sum(1 for h in per_hour if h // 86_400_000 * 86_400_000 == day)]
            for day in sorted({h // 86_400_000 * 86_400_000 for h in per_hour})
        ],
        "sub_hours_time_filter": [
            [sum(n for h, n in per_hour.items() if h >= T("2015-09-12T12:00:00Z"))]
        ],
        "sub_outer_string_filter": [[per_channel["#en.wikipedia"]]],
        "sub_over_topn": [[sum(added for _, added in top5), len(top5)]],
        "sub_over_scan": [[len(fr), sum(row["added"] for row in fr)]],
        "sub_over_scan_limit": [[sum(row["added"] for row in by_time[:10])]],
        "sub_nested_twice": [
            [sum(1 for channel in channels if len(pages_of[channel]) > 100)]
        ],
        "sub_column_aliases": [
            [sum(n for c, n in per_channel.items() if c is not None and c.startswith("#e"))]
        ],
        "cte_chain": [[over(50)]],
        "sub_qualified_having": ranked(busy_channels, len(busy_channels)),
        "sub_user_edit_buckets": [
            [edits, user_buckets[edits]] for edits in sorted(user_buckets)[:5]
        ],
        "union_all_channels": [
            ["#en.wikipedia", per_channel["#en.wikipedia"]],
            ["#fr.wikipedia", per_channel["#fr.wikipedia"]],
        ],
        "union_all_three_counts": [
            [sum(1 for row in rows if row["isRobot"] == "true")],
            [sum(1 for row in rows if row["isRobot"] == "false")],
            [len(rows)],
        ],
        "union_all_scans": [[iso(row["__time"]), row["page"]] for row in by_time[:2]]
        + [[iso(row["__time"]), row["page"]] for row in reversed(by_time[-2:])],
        "union_all_subqueries": [[over(10)], [over(100)]],
        "union_all_cte": [[max(per_channel.values())], [min(per_channel.values())]],
    }
