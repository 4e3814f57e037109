"""Independent answers for cluster-tests/cases/sql/aggregates.slt (Druid SQL aggregate
functions), written from each query's meaning over the raw wikiticker rows.

Sketch cases answer the exact value the sketch estimates (the case's `tolerance` covers the
sketch's error): distinct counts for HLL and theta sketches, the exact quantile (the value
at rank floor(fraction * n) of the sorted values) and the exact rank (the fraction of values
below) for quantiles sketches. EARLIEST/LATEST refuse ties on the extreme time, ANY_VALUE
refuses groups with more than one value, ORDER BY ... LIMIT refuses ties at the cut.
"""

from collections import defaultdict

from sql_expected import T, groups, iso, java_long, nulls_first, top

HOUR = 3_600_000


def distinct(values):
    return len({value for value in values if value is not None})


def total(values):
    """SUM: null over no non-null values."""
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def earliest(rows, column, latest=False):
    """The value at the smallest (largest) __time, refusing a tie on that time."""
    if not rows:
        return None
    pick = max if latest else min
    edge = pick(row["__time"] for row in rows)
    at_edge = [row for row in rows if row["__time"] == edge]
    if len({row[column] for row in at_edge}) != 1:
        raise ValueError(f"several rows at the edge time for {column}: Druid's choice")
    return at_edge[0][column]


def only_value(rows, column):
    values = {row[column] for row in rows}
    if len(values) != 1:
        raise ValueError(f"ANY_VALUE({column}) over several values is Druid's choice")
    return values.pop()


def quantile(values, fraction):
    ordered = sorted(values)
    return float(ordered[min(int(fraction * len(ordered)), len(ordered) - 1)])


def rank(values, value):
    return sum(1 for item in values if item < value) / len(values)


def ordered_by_key(grouped, answer):
    return [answer(key, group) for key, group in sorted(grouped.items(), key=lambda item: nulls_first(item[0]))]


def answers(rows):
    en = [row for row in rows if row["channel"] == "#en.wikipedia"]
    fr = [row for row in rows if row["channel"] == "#fr.wikipedia"]
    de = [row for row in rows if row["channel"] == "#de.wikipedia"]
    e_channels = groups([row for row in rows if row["channel"].startswith("#e")], "channel")
    by_channel = groups(rows, "channel")
    by_namespace = groups(rows, "namespace")
    added = [row["added"] for row in rows]
    early_en = [row for row in en if row["__time"] < T("2015-09-12T06:00:00Z")]
    hourly_users = defaultdict(set)
    for row in early_en:
        hourly_users[row["__time"] // HOUR * HOUR].add(row["user"])
    users_by_page_count = groups(rows, "user")
    countries = groups([row for row in rows if row["countryName"] is not None], "countryName")
    robots = [row for row in rows if row["isRobot"] == "true"]
    en_users = {row["user"] for row in en}
    de_users = {row["user"] for row in de}
    day_pages = defaultdict(int)
    for row in en:
        day_pages[(row["__time"] // (24 * HOUR) * (24 * HOUR), row["page"])] += 1
    channel_robot_added = defaultdict(int)
    for row in rows:
        channel_robot_added[(row["channel"], row["isRobot"])] += row["added"]

    return {
        # Exact COUNT(DISTINCT): a groupBy over a groupBy.
        "exact_distinct_users": [[distinct(row["user"] for row in rows)]],
        "exact_distinct_cities_skip_null": [[
            distinct(row["cityName"] for row in rows), sum(1 for row in rows if row["cityName"] is not None),
        ]],
        "exact_distinct_pages_per_channel_top": top(
            [(channel, distinct(row["page"] for row in group)) for channel, group in by_channel.items()], 5
        ),
        "exact_distinct_with_other_aggregates": ordered_by_key(e_channels, lambda channel, group: [
            channel, len(group), sum(row["added"] for row in group), distinct(row["user"] for row in group),
            min(row["delta"] for row in group), max(row["deleted"] for row in group),
            java_long(sum(row["added"] for row in group) / len(group)),
        ]),
        "exact_distinct_per_hour_timeseries": [
            [iso(hour), len(users)] for hour, users in sorted(hourly_users.items())
        ],
        "exact_distinct_having": [
            [namespace, distinct(row["page"] for row in group)]
            for namespace, group in sorted(by_namespace.items(), key=lambda item: nulls_first(item[0]))
            if distinct(row["page"] for row in group) > 500
        ],
        "exact_distinct_numeric_column": [[
            distinct(row["added"] for row in fr), min(row["added"] for row in fr),
            max(row["delta"] for row in fr), len(fr),
        ]],
        "exact_distinct_expression": [[distinct(len(row["page"]) for row in en)]],
        "exact_distinct_users_top_pages": top(
            [(user, distinct(row["page"] for row in group)) for user, group in users_by_page_count.items()], 5
        ),
        "exact_distinct_ratio_having": [
            [namespace, java_long(edits / pages), pages]
            for (namespace, edits), pages in top(
                [
                    ((namespace, len(group)), distinct(row["page"] for row in group))
                    for namespace, group in groups(en, "namespace").items()
                    if len(group) > 200
                ],
                100,
            )
        ],
        # Sketches (tolerance against the exact value).
        "ds_hll_distinct_users": [[distinct(row["user"] for row in rows), distinct(row["page"] for row in rows)]],
        "approx_count_distinct_builtin": [[distinct(row["page"] for row in de), distinct(row["user"] for row in de)]],
        "ds_hll_per_channel": ordered_by_key(e_channels, lambda channel, group: [
            channel, distinct(row["user"] for row in group),
        ]),
        "ds_theta_distinct_users": [[distinct(row["user"] for row in rows), distinct(row["page"] for row in en)]],
        "hll_sketch_estimate_of_ds_hll": [[float(distinct(row["user"] for row in rows))]],
        "theta_sketch_estimate_of_ds_theta": [[float(distinct(row["user"] for row in de))]],
        "theta_sketch_intersect_users": [[float(len(en_users & de_users)), float(len(en_users | de_users))]],
        "hll_sketch_union_of_filtered_sketches": [[
            float(distinct(row["user"] for row in rows if row["channel"] in ("#fr.wikipedia", "#it.wikipedia")))
        ]],
        "approx_quantile_ds_median": [[quantile(added, 0.5), quantile([row["added"] for row in en], 0.5)]],
        "ds_get_quantile_and_rank": [[quantile(added, 0.5), rank(added, 100)]],
        "approx_count_distinct_ds_hll_filtered": [[
            distinct(row["user"] for row in rows if row["isAnonymous"] == "true"),
            distinct(row["user"] for row in rows if row["isAnonymous"] == "false"),
        ]],
        "ds_theta_having": [
            [channel, distinct(row["user"] for row in group)]
            for channel, group in sorted(by_channel.items())
            if distinct(row["user"] for row in group) > 400
        ],
        # EARLIEST, LATEST, their _BY forms and ANY_VALUE.
        "earliest_latest_string_and_numeric": [[
            earliest(fr, "page"), earliest(fr, "page", latest=True),
            earliest(fr, "added"), earliest(fr, "delta", latest=True),
        ]],
        "earliest_latest_per_channel": ordered_by_key(
            groups([row for row in rows if row["channel"].startswith("#d") or row["channel"].startswith("#n")], "channel"),
            lambda channel, group: [channel, earliest(group, "user"), earliest(group, "deleted", latest=True)],
        ),
        "earliest_by_latest_by_time": [[earliest(de, "comment"), earliest(de, "added", latest=True)]],
        "earliest_filtered": [[earliest(de, "page"), earliest(fr, "page", latest=True)]],
        "any_value_country_code": [
            [country, only_value(group, "countryIsoCode"), len(group)]
            for country, group in sorted(countries.items())
        ][:6],
        "earliest_time_column": [[iso(min(row["__time"] for row in fr)), iso(max(row["__time"] for row in de))]],
        # Expressions, CASE, FILTER, HAVING, ORDER BY an aggregate.
        "aggregates_over_expressions": [[
            sum(row["added"] * 2 for row in en), min(row["delta"] - row["deleted"] for row in en),
            max(len(row["page"]) for row in en), java_long(sum(row["added"] + row["deleted"] for row in en) / len(en)),
        ]],
        "count_of_expression": [[
            sum(1 for row in rows if row["cityName"] is not None),
            sum(1 for row in rows if row["added"] is not None),
        ]],
        "case_inside_aggregates": [[
            total(row["added"] for row in robots),
            sum(1 for row in rows if row["isNew"] == "true"),
            sum(1 for row in rows if row["namespace"] == "Main"),
            max(row["delta"] for row in en),
        ]],
        "case_per_channel_filtered": ordered_by_key(e_channels, lambda channel, group: [
            channel,
            sum(1 for row in group if row["isMinor"] == "true"),
            total(row["deleted"] for row in group if row["isAnonymous"] == "true"),
        ]),
        "having_on_expression_sum": [
            [namespace, sum(row["added"] - row["deleted"] for row in group)]
            for namespace, group in sorted(by_namespace.items(), key=lambda item: nulls_first(item[0]))
            if sum(row["added"] - row["deleted"] for row in group) > 100000
        ],
        "order_by_aggregate_two_dimensions": [
            [key[0], key[1], value] for key, value in top(list(channel_robot_added.items()), 5)
        ],
        "top_pages_per_day_tutorial": [
            [iso(day), page, edits]
            for (day, page), edits in sorted(day_pages.items(), key=lambda item: (-item[1], item[0][1]))[:5]
        ],
        "filtered_sum_and_count_expression": [[
            sum(row["added"] * 2 for row in de if row["isRobot"] == "true"),
            sum(1 for row in de if row["isRobot"] == "false" and row["cityName"] is not None),
        ]],
    }
