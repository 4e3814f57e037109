"""Independent answers for cluster-tests/cases/sql/functions.slt (Druid SQL scalar functions,
sqlTimeZone and literals), written from each case's SQL with plain Python over the raw rows.

Druid rules applied here: TIMESTAMP results print as Joda prints a DateTime in the query's
sqlTimeZone (`2015-09-11T17:00:00.000-07:00`, `Z` for UTC); TIMESTAMP literals and timestamp
texts are wall-clock time in that zone; BIGINT / BIGINT and MOD truncate toward zero (Java);
LENGTH counts UTF-16 units; ROUND is BigDecimal HALF_UP of the double's shortest decimal;
NOT, IS FALSE and comparisons treat null as unknown; GROUP BY without ORDER BY sorts by the
keys, nulls first; aggregates skip nulls.
"""

import datetime as dt
import math
import re
import zoneinfo
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

HOUR = 3_600_000
DAY = 86_400_000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
LA = "America/Los_Angeles"


def zone_of(name):
    if name in (None, "UTC"):
        return dt.timezone.utc
    match = re.fullmatch(r"([+-])(\d\d):(\d\d)", name)
    if match:
        sign = 1 if match.group(1) == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
    return zoneinfo.ZoneInfo(name)


def local(ms, zone=None):
    return (EPOCH + dt.timedelta(milliseconds=ms)).astimezone(zone_of(zone))


def instant(text, zone=None):
    """Epoch ms of a wall-clock text `yyyy-MM-dd[ HH:mm[:ss]]` in the zone."""
    wall = dt.datetime.fromisoformat(text)
    return (wall.replace(tzinfo=zone_of(zone)) - EPOCH) // dt.timedelta(milliseconds=1)


def iso(ms, zone=None):
    """Joda's ISODateTimeFormat.dateTime() of the instant in the zone."""
    moment = local(ms, zone)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    offset = moment.utcoffset()
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return text + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def floor_local(ms, zone, unit):
    """Start of the local hour or day holding ms."""
    moment = local(ms, zone).replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        moment = moment.replace(hour=0)
    return (moment - EPOCH) // dt.timedelta(milliseconds=1)


def java_div(a, b):
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient


def java_mod(a, b):
    return a - b * java_div(a, b)


def utf16_len(text):
    return len(text.encode("utf-16-le")) // 2


def half_up(value, scale):
    """Druid's round(x, scale) of a double: BigDecimal.valueOf(x).setScale(scale, HALF_UP)."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP))


def round_long(value, digits):
    unit = 10 ** digits
    quotient, remainder = divmod(abs(value), unit)
    if remainder * 2 >= unit:
        quotient += 1
    return int(math.copysign(quotient * unit, value)) if value else 0


def add_months(ms, months, zone=None):
    moment = local(ms, zone)
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    days = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28,
            31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    wall = moment.replace(tzinfo=None, year=year, month=month, day=min(moment.day, days))
    return (wall.replace(tzinfo=zone_of(zone)) - EPOCH) // dt.timedelta(milliseconds=1)


def months_between(start, end):
    """Joda's Months.monthsBetween in UTC."""
    a, b = local(start), local(end)
    months = (b.year * 12 + b.month) - (a.year * 12 + a.month)
    if months > 0 and add_months(start, months) > end:
        months -= 1
    elif months < 0 and add_months(start, months) < end:
        months += 1
    return months


def nulls_first(value):
    return (value is not None, value if value is not None else "")


def grouped(rows, key, ordering=None):
    """[key..., count] rows of COUNT(*) GROUP BY key (a tuple), ordered by the keys."""
    counts = Counter(key(row) for row in rows)
    items = [list(k) + [n] for k, n in counts.items()]
    return sorted(items, key=ordering or (lambda item: [nulls_first(v) for v in item[:-1]]))


def ranked(items, sort_key, limit, tie_key):
    """Rows sorted by sort_key, cut at limit; refuses a cut or an order that tie_key leaves open."""
    ordered = sorted(items, key=sort_key)
    window = ordered[: limit + 1]
    keys = [tie_key(item) for item in window]
    if len(keys) != len(set(keys)):
        raise ValueError("tie inside the ranked rows: the order would be Druid's choice")
    return ordered[:limit]


def first_by_time(rows, limit):
    ordered = sorted(rows, key=lambda row: row["__time"])[: limit + 1]
    if len({row["__time"] for row in ordered}) != len(ordered):
        raise ValueError("equal timestamps in a scan window")
    return ordered[:limit]


def answers(rows):
    def count(predicate):
        return sum(1 for row in rows if predicate(row))

    def channel(name):
        return [row for row in rows if row["channel"] == name]

    de, fr, ru, es = (channel(f"#{lang}.wikipedia") for lang in ("de", "fr", "ru", "es"))
    en, ja, zh, it = (channel(f"#{lang}.wikipedia") for lang in ("en", "ja", "zh", "it"))
    t = lambda text, zone=None: instant(text, zone)  # noqa: E731
    out = {}

    kolkata = defaultdict(lambda: [0, 0])
    for row in rows:
        bucket = kolkata[floor_local(row["__time"], "Asia/Kolkata", "hour")]
        bucket[0] += 1
        bucket[1] += row["deleted"]
    out["fn_edits_per_hour_kolkata"] = [[iso(k, "Asia/Kolkata"), n, d] for k, (n, d) in sorted(kolkata.items())]
    out["fn_time_floor_day_los_angeles"] = [
        [iso(k, LA), n] for k, n in sorted(Counter(floor_local(r["__time"], LA, "day") for r in rows).items())
    ]
    origin, six = t("2015-09-12 03:00:00"), 6 * HOUR
    out["fn_time_floor_origin"] = [
        [iso(k), n] for k, n in sorted(Counter((r["__time"] - origin) // six * six + origin for r in rows).items())
    ]
    ny_days = defaultdict(int)
    for row in rows:
        ny_days[floor_local(row["__time"], "America/New_York", "day")] += row["added"]
    out["fn_time_floor_zone_argument"] = [[iso(k), v] for k, v in sorted(ny_days.items())]
    out["fn_time_floor_with_other_keys"] = [
        [c, iso(k), n]
        for c, k, n in grouped(
            [r for r in rows if r["channel"] in ("#de.wikipedia", "#ja.wikipedia")],
            lambda r: (r["channel"], r["__time"] // six * six),
        )
    ]
    out["fn_time_floor_key_second_in_zone"] = [
        [robot, iso(k, "-05:00"), n]
        for robot, k, n in grouped(rows, lambda r: (r["isRobot"], floor_local(r["__time"], "-05:00", "day")))
    ]

    def ceil_hour(ms):
        return ms if ms % HOUR == 0 else (ms // HOUR + 1) * HOUR

    out["fn_time_ceil"] = [
        [iso(k), n] for k, n in grouped([r for r in rows if r["__time"] < t("2015-09-12 03:00:00")], lambda r: (ceil_hour(r["__time"]),))
    ]
    out["fn_ceil_to_hour"] = [
        [iso(k), n] for k, n in grouped([r for r in rows if r["__time"] >= t("2015-09-12 21:00:00")], lambda r: (ceil_hour(r["__time"]),))
    ]
    out["fn_time_shift"] = [[count(lambda r: r["__time"] + 2 * HOUR >= t("2015-09-13 00:00:00"))]]
    out["fn_time_extract_hour_zone"] = grouped(de, lambda r: (local(r["__time"], LA).hour,))
    out["fn_time_parse_filter"] = [[
        count(lambda r: r["__time"] < t("2015-09-12 06:00:00")),
        count(lambda r: r["__time"] >= t("2015-09-12 20:00:00")),
    ]]
    out["fn_time_parse_zone"] = [[iso(t("2015-09-12 10:30", "Asia/Tokyo")), len(rows)]]
    early = [r for r in rows if r["__time"] < t("2015-09-12 03:00:00")]
    out["fn_time_format_zone"] = grouped(early, lambda r: (local(r["__time"], LA).strftime("%Y-%m-%d %H"),))
    out["fn_time_format_default_in_sql_zone"] = grouped(
        rows, lambda r: (iso(floor_local(r["__time"], "+09:00", "day"), "+09:00"),)
    )
    out["fn_millis_round_trip"] = [[iso(k), n] for k, n in grouped(de, lambda r: (r["__time"] // HOUR * HOUR,))][:3]
    before_four = defaultdict(int)
    for row in rows:
        if row["__time"] < t("2015-09-12 04:00:00"):
            before_four[row["__time"] // HOUR * HOUR] += row["added"]
    out["fn_date_trunc"] = [[iso(k), v] for k, v in sorted(before_four.items())]
    out["fn_extract_units"] = grouped(
        rows,
        lambda r: (local(r["__time"], LA).day, local(r["__time"], LA).month,
                   local(r["__time"], LA).isoweekday(), local(r["__time"], LA).year),
    )
    out["fn_extract_hour"] = grouped(ja, lambda r: (local(r["__time"]).hour,))[:6]
    out["fn_current_timestamp"] = [[len(rows)]]
    day = t("2015-09-12 00:00:00")
    out["fn_timestampadd"] = [[iso(add_months(day, -1)), iso(day + 90 * 60_000), len(rows)]]
    out["fn_timestampadd_filter"] = [[count(lambda r: r["__time"] + 3 * HOUR >= t("2015-09-13 00:00:00"))]]
    late = [r for r in rows if r["__time"] >= t("2015-09-12 21:00:00")]
    out["fn_timestampdiff"] = grouped(
        late,
        lambda r: (
            java_div(t("2015-09-13 00:00:00") - r["__time"], HOUR),
            months_between(t("2015-01-31 00:00:00"), r["__time"]),
            java_div(months_between(r["__time"], t("2017-09-12 00:00:00")), 12),
        ),
    )
    window = [r for r in rows if t("2015-09-12 10:30:00") <= r["__time"] < t("2015-09-12 13:00:00")]
    out["fn_timestamp_minus_interval_is_an_interval"] = [[len(window), sum(r["added"] for r in window)]]
    out["fn_timestamp_literal_in_zone"] = [[count(lambda r: r["__time"] >= t("2015-09-12 00:00:00", LA))]]
    out["fn_time_string_in_zone"] = [[count(lambda r: r["__time"] < t("2015-09-11 18:00:00", LA))]]
    out["fn_scan_prints_time_in_zone"] = [[iso(r["__time"], LA), r["page"]] for r in first_by_time(it, 2)]
    out["fn_cast_time_to_date"] = [[iso(day), len(rows)]]
    out["fn_cast_timestamp_to_varchar"] = grouped(
        [r for r in rows if r["__time"] < t("2015-09-12 02:00:00")],
        lambda r: (local(r["__time"] // HOUR * HOUR).strftime("%Y-%m-%d %H:%M:%S"),),
    )
    out["fn_cast_string_to_timestamp"] = [[count(lambda r: r["__time"] >= t("2015-09-12 23:00:00"))]]

    us = [r for r in rows if r["countryIsoCode"] == "US"]
    regions = grouped(us, lambda r: ("US-" + r["regionIsoCode"] if r["regionIsoCode"] is not None else None,))
    out["fn_concat_region"] = ranked(regions, lambda i: (-i[1], nulls_first(i[0])), 5, lambda i: (i[1], i[0]))
    out["fn_pipes_concat_scan"] = [
        [r["channel"] + "|" + str(r["added"]), r["user"].upper() if r["user"] is not None else None]
        for r in first_by_time(it, 3)
    ]
    out["fn_textcat_lower_upper"] = grouped(
        [r for r in rows if r["countryIsoCode"] in ("GB", "FR")],
        lambda r: (r["countryName"].lower() + r["countryIsoCode"].upper() if r["countryName"] is not None else None,),
    )
    subs = grouped(en, lambda r: (r["page"][:5], r["channel"][1:], r["channel"][1:3]))
    out["fn_substring_forms"] = ranked(subs, lambda i: (-i[3], i[0]), 5, lambda i: (i[3], i[0]))
    out["fn_trim_family"] = grouped(
        [r for r in rows if r["channel"] in ("#de.wikipedia", "#es.wikipedia")],
        lambda r: (r["channel"].strip("#"), r["channel"].lstrip("#"), r["channel"].rstrip("aidekpw."),
                   r["channel"].strip("#a"), r["channel"].lstrip("#e")),
    )
    lengths = defaultdict(lambda: [0, None])
    for row in zh:
        entry = lengths[utf16_len(row["page"])]
        entry[0] += 1
        if row["comment"] is not None:
            size = utf16_len(row["comment"])
            entry[1] = size if entry[1] is None else max(entry[1], size)
    out["fn_length_and_char_length"] = ranked(
        [[k, n, m] for k, (n, m) in lengths.items()], lambda i: (-i[1], i[0]), 5, lambda i: (i[1], i[0])
    )
    langs = defaultdict(int)
    for row in rows:
        langs[row["channel"].replace(".wikipedia", "")] += row["added"]
    out["fn_replace"] = ranked([[k, v] for k, v in langs.items()], lambda i: -i[1], 4, lambda i: i[1])

    def prefix(page):
        match = re.search(r"^([A-Za-z]+):", page)
        return match.group(1) if match else None

    prefixes = grouped(en, lambda r: (prefix(r["page"]),))
    out["fn_regexp_extract"] = ranked(prefixes, lambda i: -i[1], 5, lambda i: i[1])
    out["fn_regexp_like"] = [[
        count(lambda r: re.search(r"^[0-9]{4}", r["page"]) is not None),
        count(lambda r: r["comment"] is not None and re.search("bot", r["comment"]) is None),
    ]]
    ium = grouped([r for r in rows if re.search("ium$", r["page"])], lambda r: (r["channel"],))
    out["fn_regexp_like_where"] = ranked(ium, lambda i: (-i[1], i[0]), 3, lambda i: (i[1], i[0]))
    not_en = [r for r in rows if r["channel"] != "#en.wikipedia"]
    out["fn_like_escape_on_expression"] = [[
        sum(1 for r in not_en if "_" in r["comment"].lower()),
        sum(1 for r in not_en if r["page"].upper().startswith("TALK:")),
    ]]

    def find(text, needle, start=0):
        return text.find(needle, start) + 1

    positions = grouped(de, lambda r: (find(r["page"], ":"), find(r["channel"], "i"), find(r["channel"][6:], "i")))
    out["fn_strpos_position"] = positions[:4]

    def pad(text, length, filler, left):
        if len(text) >= length:
            return text[:length]
        fill = (filler * length)[: length - len(text)]
        return fill + text if left else text + fill

    out["fn_lpad_rpad"] = grouped(
        [r for r in rows if r["countryIsoCode"] in ("US", "GB", "DE")],
        lambda r: (pad(r["countryIsoCode"], 4, "*", True), pad(r["countryIsoCode"], 5, "xy", False),
                   pad(r["countryIsoCode"], 1, " ", True)),
    )
    out["fn_reverse_left_right"] = grouped(
        [r for r in rows if r["channel"].startswith("#e")], lambda r: (r["channel"][:4][::-1], r["channel"][-9:])
    )
    metros = [r["metroCode"] for r in rows if r["metroCode"] is not None]
    out["fn_parse_long"] = [[sum(int(m) for m in metros), len(metros), max(int("f" + m[2], 16) for m in metros)]]

    out["fn_abs_mod_power"] = [[
        sum(abs(r["delta"]) for r in fr), sum(java_mod(r["delta"], 7) for r in fr), float(sum(r["added"] ** 2 for r in fr)),
    ]]
    out["fn_ceil_floor_round"] = [[
        float(sum(math.ceil(r["delta"] / 10.0) for r in ru)),
        float(sum(math.floor(r["delta"] / 10.0) for r in ru)),
        sum(half_up(r["delta"] / 7.0, 1) for r in ru),
        sum(round_long(r["delta"], 2) for r in ru),
        sum(r["delta"] for r in ru),
    ]]
    out["fn_truncate"] = [[
        sum(int(r["delta"] / 3.0 * 10.0) / 10.0 for r in es),
        sum(java_div(r["added"], 100) * 100 for r in es),
        sum(int(r["delta"] / 7.0 * 1.0) / 1.0 for r in es),
    ]]
    out["fn_sqrt_exp_ln_log10"] = [[
        sum(math.sqrt(r["added"]) for r in de),
        sum(math.log(r["added"] + 1) for r in de),
        sum(math.log10(r["added"] + 1) for r in de),
        max(math.exp(r["deleted"] / 1000.0) for r in de),
    ]]
    out["fn_integer_division"] = [[
        sum(java_div(r["added"], 7) for r in fr), sum(r["added"] / 7.0 for r in fr), sum(java_div(r["delta"], 3) for r in fr),
    ]]
    divisible = [r for r in fr if r["added"] != 0]
    out["fn_safe_divide"] = [[
        sum(java_div(r["delta"], r["added"]) for r in divisible), len(divisible),
        sum(java_div(r["deleted"], 7) for r in fr), sum(r["delta"] / 2.0 for r in fr),
    ]]
    out["fn_greatest_least"] = [[
        sum(max(r["added"], r["deleted"], 10) for r in rows),
        sum(min(r["added"], 50) for r in rows),
        sum(max(float(r["delta"]), -10.5) for r in rows),
    ]]
    out["fn_arithmetic_group_key"] = sorted(grouped(rows, lambda r: (r["added"] // 1000,)), reverse=True)[:5]

    def size(row):
        return "big" if row["added"] > 1000 else "medium" if row["added"] > 100 else "small"

    out["fn_case_searched"] = grouped(rows, lambda r: (size(r),))
    out["fn_case_in_aggregates"] = [[
        count(lambda r: r["isRobot"] == "true"),
        sum(r["added"] for r in rows if r["isNew"] == "true"),
        sum(r["delta"] for r in rows if r["cityName"] is not None),
    ]]

    def place(row):
        for column in ("cityName", "regionName", "countryName"):
            if row[column] is not None:
                return row[column]
        return "unknown"

    places = grouped(rows, lambda r: (place(r),))
    out["fn_coalesce_group"] = ranked(places, lambda i: (-i[1], i[0]), 5, lambda i: (i[1], i[0]))
    out["fn_nvl_ifnull_nullif"] = [[
        count(lambda r: r["namespace"] is not None and r["namespace"] != "Main"),
        count(lambda r: r["namespace"] is not None),
        sum(utf16_len(r["cityName"] if r["cityName"] is not None else "xx") for r in rows),
        sum(utf16_len(r["regionName"] if r["regionName"] is not None else "") for r in rows),
    ]]
    out["fn_cast_numbers"] = [[
        sum(r["added"] / 2.0 for r in rows),
        sum(int(r["delta"] / 3.0) for r in rows),
        sum(int(m) for m in metros),
        float(sum(r["added"] for r in rows)),
        count(lambda r: r["deleted"] != 0),
    ]]
    out["fn_cast_to_varchar_group"] = grouped([r for r in rows if 1 <= r["added"] <= 3], lambda r: (str(r["added"]),))
    out["fn_is_true_false"] = [[
        count(lambda r: r["added"] > 100),
        count(lambda r: r["cityName"] != "Paris"),
        count(lambda r: r["cityName"] is not None and r["cityName"] != "Paris"),
        count(lambda r: r["cityName"] is None or r["cityName"] == "Paris"),
    ]]
    out["fn_in_between_any_column"] = [[
        count(lambda r: -5 <= r["delta"] <= 5),
        count(lambda r: r["added"] not in (0, 1)),
        count(lambda r: r["countryIsoCode"] in ("US", "GB")),
        count(lambda r: t("2015-09-12 10:00:00") <= r["__time"] <= t("2015-09-12 11:00:00")),
        count(lambda r: r["countryIsoCode"] is not None and r["countryIsoCode"] not in ("US", "GB")),
    ]]
    out["fn_is_null_on_expressions"] = [[
        count(lambda r: r["cityName"] is None or r["regionName"] is None),
        count(lambda r: r["countryName"] is not None),
    ]]
    out["fn_column_comparisons"] = [[
        count(lambda r: r["added"] < r["deleted"]),
        count(lambda r: r["cityName"] is not None and r["cityName"] == r["regionName"]),
        count(lambda r: r["added"] + r["delta"] > r["deleted"] * 2),
    ]]
    out["fn_boolean_group_key"] = [[big, n] for big, n in grouped(rows, lambda r: (r["added"] > 1000,))]
    removed = defaultdict(int)
    for row in rows:
        if row["isRobot"] != "true":
            removed[row["channel"]] += -row["delta"] if row["delta"] < 0 else 0
    out["fn_case_where_and_order"] = ranked([[k, v] for k, v in removed.items()], lambda i: -i[1], 3, lambda i: i[1])
    sums = defaultdict(lambda: [0, 0])
    for row in rows:
        sums[row["channel"]][0] += row["deleted"]
        sums[row["channel"]][1] += row["added"]
    kept = [[k, d, a] for k, (d, a) in sums.items() if d > java_div(a, 10)]
    out["fn_having_compares_two_aggregates"] = ranked(kept, lambda i: -i[1], 4, lambda i: i[1])
    return out
