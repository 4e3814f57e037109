"""A small, plain reference evaluator for the subset of Druid's native queries that the golden
cases use, written from Druid's documentation and source (stdlib only).

It answers a query over a `Table` (the rows of one segment and the column types) with
Druid's exact response shape: key order, timestamps and SQL-compatible nulls. Anything
outside the subset raises ValueError instead of guessing. wikiticker_expected.py, beside
this file, feeds it Druid's quickstart data.
"""

import datetime as dt
import itertools
import json
import re
import zoneinfo

# ---------------------------------------------------------------------------------------
# Time

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def parse_time(text):
    """ISO-8601 instant (date-only or with time, UTC unless an offset is given) -> ms."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return (value - EPOCH) // dt.timedelta(milliseconds=1)


def format_time(ms):
    """Druid prints UTC instants as 2015-09-12T00:46:58.771Z."""
    value = dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def parse_intervals(query):
    intervals = []
    for text in query["intervals"]:
        start, end = text.split("/")
        intervals.append((parse_time(start), parse_time(end)))
    return intervals


# Simple granularities are UTC periods aligned on the epoch (all of these divide a day).
FIXED = {
    "second": 1000, "minute": 60_000, "five_minute": 300_000, "ten_minute": 600_000,
    "fifteen_minute": 900_000, "thirty_minute": 1_800_000, "hour": 3_600_000,
    "six_hour": 6 * 3_600_000, "eight_hour": 8 * 3_600_000, "day": 86_400_000,
}


def bucket_start(ms, granularity):
    """Start of the granularity bucket holding `ms` (Druid stamps buckets with their start)."""
    if isinstance(granularity, tuple):
        return zoned_floor(ms, granularity)
    if granularity == "none":
        return ms  # millisecond buckets
    if granularity in FIXED:
        return ms - ms % FIXED[granularity]
    day = dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc).date()
    if granularity == "week":  # ISO weeks, starting Monday
        day -= dt.timedelta(days=day.weekday())
    elif granularity == "month":
        day = day.replace(day=1)
    elif granularity == "quarter":
        day = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    elif granularity == "year":
        day = day.replace(month=1, day=1)
    else:
        raise ValueError(f"granularity {granularity!r} is not supported by this script")
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()) * 1000


def next_bucket(start, granularity):
    if isinstance(granularity, tuple):
        return zoned_next(start, granularity)
    if granularity == "none":
        return start + 1
    if granularity in FIXED:
        return start + FIXED[granularity]
    if granularity == "week":
        return start + 7 * 86_400_000
    # month, quarter, year: the first bucket start after this one
    probe = start + 366 * 86_400_000 if granularity == "year" else start + 32 * 86_400_000
    if granularity == "quarter":
        probe = start + 93 * 86_400_000
    return bucket_start(probe, granularity)


def granularity_of(query):
    """A simple granularity's lowercase name, or ("period", unit, zone) for a one-unit period
    granularity in a time zone without an origin."""
    granularity = query.get("granularity", "all")
    if isinstance(granularity, dict) and granularity.get("type") == "period":
        unit = ZONED_UNITS.get(granularity["period"])
        if unit is None or granularity.get("origin") is not None:
            raise ValueError("only PT1H, P1D and P1M periods without an origin are supported")
        return ("period", unit, granularity.get("timeZone") or "UTC")
    if not isinstance(granularity, str):
        raise ValueError("only simple granularity names are supported by this script")
    return granularity.lower()


# granularities.md "Period Granularities": one-unit periods without an origin start at the
# local wall clock's hour, day or month; hours then step in elapsed time, days and months on
# the local calendar (Joda's zoned chronology). Timestamps print in the zone.
ZONED_UNITS = {"PT1H": "hour", "P1D": "day", "P1M": "month"}


def local_time(ms, zone):
    return (EPOCH + dt.timedelta(milliseconds=ms)).astimezone(zoneinfo.ZoneInfo(zone))


def from_local(wall, zone):
    """Epoch ms of a local wall time; fold=0 takes the earlier instant in an overlap and
    the pre-transition offset in a gap, as Joda's getOffsetFromLocal does."""
    aware = wall.replace(tzinfo=zoneinfo.ZoneInfo(zone), fold=0)
    return (aware - EPOCH) // dt.timedelta(milliseconds=1)


def zoned_floor(ms, granularity):
    _, unit, zone = granularity
    wall = local_time(ms, zone).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    if unit in ("day", "month"):
        wall = wall.replace(hour=0)
    if unit == "month":
        wall = wall.replace(day=1)
    return from_local(wall, zone)


def zoned_next(start, granularity):
    _, unit, zone = granularity
    if unit == "hour":
        return start + 3_600_000
    wall = local_time(start, zone).replace(tzinfo=None)
    if unit == "day":
        wall += dt.timedelta(days=1)
    else:
        wall = wall.replace(year=wall.year + wall.month // 12, month=wall.month % 12 + 1)
    return from_local(wall, zone)


def format_stamp(ms, granularity):
    """A bucket timestamp as Druid prints it: in the period granularity's zone
    (2015-09-11T17:00:00.000-07:00), else UTC."""
    if not isinstance(granularity, tuple):
        return format_time(ms)
    local = local_time(ms, granularity[2])
    offset = local.utcoffset()
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + ".%03d" % (ms % 1000)
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return text + "%s%02d:%02d" % (sign, abs(minutes) // 60, abs(minutes) % 60)

class Table:
    """One segment's rows (dicts with "__time" in ms), its column types ("STRING"/"LONG")
    and its segment id as the golden runner prints it."""

    def __init__(self, rows, types, segment_id):
        self.rows, self.types, self.segment_id = rows, types, segment_id


# ---------------------------------------------------------------------------------------
# Filters: three-valued logic. matches() returns True, False or None (unknown).


def compare_values(left, right, ordering):
    """Druid's StringComparators: lexicographic is Unicode code point order (as Python
    compares str); numeric compares the parsed numbers."""
    if ordering == "numeric":
        left, right = float(left), float(right)
    elif ordering != "lexicographic":
        raise ValueError(f"bound ordering {ordering!r} is not supported by this script")
    return (left > right) - (left < right)


def column_value(row, column):
    if column not in row:
        return None  # a column the datasource lacks reads as null everywhere
    return row[column]


def equal_value(value, match):
    """selector/in: numeric columns compare as numbers, string columns as strings."""
    if isinstance(value, (int, float)):
        return float(match) == value
    return value == match


def matches(flt, row):
    kind = flt["type"]
    if kind == "and":
        results = [matches(field, row) for field in flt["fields"]]
        if False in results:
            return False
        return None if None in results else True
    if kind == "or":
        results = [matches(field, row) for field in flt["fields"]]
        if True in results:
            return True
        return None if None in results else False
    if kind == "not":
        # 3VL (druid.generic.useThreeValueLogicForNativeFilters, default true): NOT of
        # unknown is unknown, so rows whose value is null never pass a NOT.
        inner = matches(flt["field"], row)
        return None if inner is None else not inner
    if kind == "true":  # TrueDimFilter matches every row
        return True
    if kind == "false":  # FalseDimFilter matches no row
        return False
    if kind == "null":
        # NullFilter (filters.md "Null filter"): IS NULL; never unknown, so NOT(null) is IS NOT NULL.
        return column_value(row, flt["column"]) is None
    if kind == "columnComparison":
        # ColumnComparisonFilter compares the columns' values as strings (longs by their decimal
        # text). How it treats null is not pinned down here, so cases avoid nullable columns.
        values = [column_value(row, dim if isinstance(dim, str) else dim["dimension"])
                  for dim in flt["dimensions"]]
        if any(value is None for value in values):
            raise ValueError("columnComparison over null values is not supported by this script")
        texts = [value if isinstance(value, str) else str(value) for value in values]
        return all(text == texts[0] for text in texts)
    if kind == "interval":
        # IntervalDimFilter: an OR of numeric bounds [start, end) on the millisecond values.
        if flt["dimension"] != "__time":
            raise ValueError("interval filters on other columns are not supported by this script")
        spans = [tuple(parse_time(part) for part in text.split("/")) for text in flt["intervals"]]
        return any(start <= row["__time"] < end for start, end in spans)
    if kind in ("equals", "range", "inType"):
        return typed_match(flt, row)
    value = column_value(row, flt["dimension"])
    if isinstance(value, list):
        # Multi-value rows (multi-value-dimensions.md): a filter matches a row when any of its
        # values matches; an empty row reads as null.
        if not value:
            return matches(flt, {**row, flt["dimension"]: None})
        results = [matches(flt, {**row, flt["dimension"]: item}) for item in value]
        return True if True in results else (None if None in results else False)
    if kind in ("like", "regex", "search"):
        # All three are string predicates; in SQL-compatible mode a null value makes the
        # predicate UNKNOWN (DruidPredicateMatch.UNKNOWN), so NOT of them skips null rows too.
        if value is None:
            return None
        text = value if isinstance(value, str) else str(value)
        if kind == "like":
            return like_regex(flt["pattern"], flt.get("escape")).fullmatch(text) is not None
        if kind == "regex":
            # RegexDimFilter uses Pattern.matcher(value).find(): a match anywhere in the value.
            return re.search(flt["pattern"], text) is not None
        return search_match(flt["query"], text)
    if kind == "selector":
        match = flt.get("value")
        if match is None:
            return value is None  # selector with a null value is IS NULL
        return None if value is None else equal_value(value, match)
    if kind == "in":
        values = flt["values"]
        if value is None:
            return True if None in values else None
        return any(match is not None and equal_value(value, match) for match in values)
    if kind == "bound":
        lower, upper = flt.get("lower"), flt.get("upper")
        ordering = flt.get("ordering", "lexicographic")
        if value is None:
            # BoundFilter.doesMatch: "preserve sad backwards compatible behavior where bound
            # filter matches 'null' if the lower bound is not set".
            return True if lower is None else None
        text = value if isinstance(value, str) else str(value)
        if not isinstance(value, str) and ordering == "lexicographic":
            raise ValueError("lexicographic bounds on numeric columns are not supported here")
        if lower is not None:
            sign = compare_values(text, lower, ordering)
            if sign < 0 or (sign == 0 and flt.get("lowerStrict", False)):
                return False
        if upper is not None:
            sign = compare_values(text, upper, ordering)
            if sign > 0 or (sign == 0 and flt.get("upperStrict", False)):
                return False
        return True
    raise ValueError(f"filter type {kind!r} is not supported by this script")


def typed_match(flt, row):
    """equals / range / inType (filters.md "Equality filter", "Range filter", "In filter" with
    matchValueType): the SQL-compatible filters Druid 28+ plans SQL into. None of them ever
    matches null: a null value is UNKNOWN (so NOT keeps skipping it), except inType whose
    sortedValues contains null (TypedInFilter matches nulls then)."""
    kind = flt["type"]
    value = column_value(row, flt["column"])
    match_type = flt["matchValueType"].upper()
    if kind == "inType":
        values = flt["sortedValues"]
        if value is None:
            return True if None in values else None
        return any(item is not None and typed_equal(value, item, match_type) for item in values)
    if value is None:
        return None
    if kind == "equals":
        return typed_equal(value, flt["matchValue"], match_type)
    # RangeFilter: STRING compares lexicographically (UTF-8 bytes = code points); LONG/DOUBLE
    # compare numerically. lowerOpen/upperOpen make a bound strict; a missing bound is unbounded.
    if isinstance(value, str) and match_type != "STRING":
        raise ValueError("numeric ranges over string columns are not supported by this script")
    if match_type == "STRING":
        if not isinstance(value, str):
            raise ValueError("string ranges over numeric columns are not supported by this script")
        cast = str
    else:
        cast = float
    lower, upper = flt.get("lower"), flt.get("upper")
    if lower is not None:
        if cast(value) < cast(lower) or (cast(value) == cast(lower) and flt.get("lowerOpen", False)):
            return False
    if upper is not None:
        if cast(value) > cast(upper) or (cast(value) == cast(upper) and flt.get("upperOpen", False)):
            return False
    return True


def typed_equal(value, match, match_type):
    if isinstance(value, str):
        if match_type != "STRING":
            raise ValueError("typed numeric matches on string columns are not supported here")
        return value == match
    if match_type == "STRING":
        raise ValueError("typed string matches on numeric columns are not supported here")
    return float(value) == float(match)


def like_regex(pattern, escape):
    """LikeDimFilter.LikeMatcher.from: '%' is any run of characters, '_' exactly one, and the
    escape character (if any) makes the next character literal; everything else is literal
    and the whole value must match (SQL LIKE), case-sensitively."""
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if escape is not None and char == escape and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(out), re.DOTALL)


def search_match(spec, text):
    """SearchQuerySpecs (filters.md "Search query spec"): contains (caseSensitive defaults to
    false), insensitive_contains, fragment (every value must be contained). Case-insensitive
    specs lower-case both sides (ASCII queries only here, so locale rules cannot matter)."""
    kind = spec["type"]
    if kind == "insensitive_contains":
        return spec["value"].lower() in text.lower()
    if kind == "contains":
        if spec.get("caseSensitive", False):
            return spec["value"] in text
        return spec["value"].lower() in text.lower()
    if kind == "fragment":
        values = spec["values"]
        if spec.get("caseSensitive", False):
            return all(value in text for value in values)
        return all(value.lower() in text.lower() for value in values)
    raise ValueError(f"search query spec {kind!r} is not supported by this script")


def selected_rows(query, rows):
    """Rows inside the query's intervals (start inclusive, end exclusive) and its filter."""
    intervals = parse_intervals(query)
    flt = query.get("filter")
    return [
        row for row in rows
        if any(start <= row["__time"] < end for start, end in intervals)
        and (flt is None or matches(flt, row) is True)
    ]


# ---------------------------------------------------------------------------------------
# Aggregators (SQL-compatible nulls: everything but count is null over no non-null input)


def aggregate(aggregators, rows, post_aggregators=()):
    result = {}  # dict keeps declaration order, which is Druid's key order
    for agg in aggregators:
        result[output_name(agg)] = aggregate_one(agg, rows)
    # Post-aggregators follow the aggregators, in declaration order; each may read the ones
    # before it (Queries.prepareAggregations computes them in order into the same row).
    for post in post_aggregators:
        result[post["name"]] = post_aggregate(post, result)
    return result


def output_name(agg):
    """A filtered aggregator's name defaults to its delegate's (FilteredAggregatorFactory)."""
    if agg["type"] == "filtered" and not agg.get("name"):
        return output_name(agg["aggregator"])
    return agg["name"]


FLOAT_EXACT = 2 ** 24  # every integer below this is a float exactly, so float sums are exact


def aggregate_one(agg, rows):
    kind = agg["type"]
    if kind == "count":
        return len(rows)
    if kind == "filtered":
        # FilteredAggregatorFactory: the delegate aggregates only the rows its filter matches
        # (matches() is True; unknown counts as no match); its name is the delegate's name.
        inner = dict(agg["aggregator"])
        if agg.get("name"):
            inner["name"] = agg["name"]
        return aggregate_one(inner, [row for row in rows if matches(agg["filter"], row) is True])
    if kind.endswith("Any"):
        raise ValueError("any aggregators are nondeterministic; keep them out of golden cases")
    if kind.endswith("First") or kind.endswith("Last"):
        return first_last(agg, rows)
    values = [row.get(agg["fieldName"]) for row in rows]
    values = [value for value in values if value is not None]
    if any(isinstance(value, bool) or not isinstance(value, (int, float)) for value in values):
        raise ValueError(f"{kind} over this column type is not supported by this script")
    if not kind.startswith("double") and any(isinstance(value, float) for value in values):
        # double columns only under double aggregators: their sums depend on the order of
        # additions only in the last bits, within the golden runner's 1e-9 tolerance.
        raise ValueError(f"{kind} over a double column is not supported by this script")
    if kind == "doubleMean":
        # DoubleMeanAggregatorFactory keeps a DoubleMeanHolder(sum, count) and finalizes it
        # with DoubleMeanHolder.mean(): `count == 0 ? 0 : sum / count`. The holder is not a
        # nullable numeric aggregator, so no rows (a filtered doubleMean matching nothing, an
        # empty bucket) give 0.0, not null, even in SQL-compatible mode.
        if not values:
            return 0.0
        return float(sum(values)) / len(values)
    if kind.startswith("long"):
        convert = int
    elif kind.startswith("double"):
        convert = float  # Jackson prints doubles with a fraction: 9385573.0
    elif kind.startswith("float"):
        # floatSum/Min/Max accumulate 32-bit floats; over integers below 2^24 every partial
        # sum is exact, which this script insists on so the answer is the double it prints.
        convert = float
        if sum(abs(value) for value in values) >= FLOAT_EXACT:
            raise ValueError("float aggregation beyond 2^24 would round; choose another case")
    else:
        raise ValueError(f"aggregator {kind!r} is not supported by this script")
    if not values:
        return None
    if kind.endswith("Sum"):
        return convert(sum(values))
    if kind.endswith("Min"):
        return convert(min(values))
    if kind.endswith("Max"):
        return convert(max(values))
    raise ValueError(f"aggregator {kind!r} is not supported by this script")


def first_last(agg, rows):
    """long/double/float/string First/Last (aggregations.md "First and last aggregators"): the
    value of the row with the earliest (First) or latest (Last) __time; null over no rows in
    SQL-compatible mode. Druid keeps whichever of several rows sharing that __time it meets
    first, which depends on segment order, so ties with different values are refused.
    stringFirst/stringLast truncate to maxStringBytes (default 1024) UTF-8 bytes
    (StringFirstLastUtils / StringUtils.chop); cases truncate ASCII values only."""
    kind = agg["type"]
    if agg.get("timeColumn", "__time") != "__time":
        raise ValueError("first/last over another time column is not supported by this script")
    if not rows:
        return None
    pick = min if kind.endswith("First") else max
    stamp = pick(row["__time"] for row in rows)
    candidates = {row.get(agg["fieldName"]) for row in rows if row["__time"] == stamp}
    if len(candidates) != 1:
        raise ValueError("rows tied on __time decide this first/last; choose another case")
    value, = candidates
    if value is None:
        raise ValueError("null first/last values are not supported by this script")
    if kind.startswith("string"):
        text = value if isinstance(value, str) else str(value)
        limit = agg.get("maxStringBytes", 1024)
        if len(text.encode("utf-8")) > limit:
            if not text.isascii():
                raise ValueError("truncating non-ASCII strings is not supported by this script")
            text = text[:limit]
        return text
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{kind} over this column type is not supported by this script")
    if kind.startswith("long"):
        return value
    if kind.startswith("float") and abs(value) >= FLOAT_EXACT:
        raise ValueError("float first/last beyond 2^24 would round; choose another case")
    return float(value)


def post_aggregate(post, result):
    """Post-aggregators (post-aggregations.md)."""
    kind = post["type"]
    if kind in ("fieldAccess", "finalizingFieldAccess"):
        # No complex aggregators here, so both return the aggregator's (finalized) value.
        return result[post["fieldName"]]
    if kind == "constant":
        value = post["value"]
        if isinstance(value, int):
            raise ValueError("integer constants print as Jackson's Integer; use them inside arithmetic")
        return float(value)
    values = [post_aggregate(field, result) for field in post["fields"]]
    if kind == "arithmetic":
        # ArithmeticPostAggregator: always floating point, folded left to right over the
        # fields; "/" returns 0 when dividing by 0 (regardless of the numerator), "quotient"
        # is plain IEEE division, "pow" is Math.pow. SQL-compatible: a null field gives null.
        if any(value is None for value in values):
            return None
        values = [float(value) for value in values]
        fn, acc = post["fn"], values[0]
        for value in values[1:]:
            if fn == "+":
                acc += value
            elif fn == "-":
                acc -= value
            elif fn == "*":
                acc *= value
            elif fn == "/":
                acc = 0.0 if value == 0 else acc / value
            elif fn == "quotient":
                if value == 0:
                    raise ValueError("quotient by zero gives NaN/Infinity; choose another case")
                acc /= value
            elif fn == "pow":
                acc = acc ** value
            else:
                raise ValueError(f"arithmetic fn {fn!r} is not supported by this script")
        return acc
    if kind in ("doubleGreatest", "doubleLeast", "longGreatest", "longLeast"):
        # (Double|Long)(Greatest|Least)PostAggregator: nulls are skipped, all null gives null;
        # long variants compare and return longValue(), double variants doubleValue().
        present = [value for value in values if value is not None]
        if not present:
            return None
        convert = int if kind.startswith("long") else float
        present = [convert(value) for value in present]
        return max(present) if kind.endswith("Greatest") else min(present)
    raise ValueError(f"post-aggregator {kind!r} is not supported by this script")


def having_match(spec, stamp, event):
    """groupBy having (having.md), applied to each result row before the limitSpec
    (GroupingEngine / GroupByQueryQueryToolChest apply having, then the limit)."""
    kind = spec["type"]
    if kind == "filter":
        # A query filter over the result row's columns; only a match (True) keeps the row.
        return matches(spec["filter"], dict(event, __time=stamp)) is True
    if kind in ("equalTo", "greaterThan", "lessThan"):
        # HavingSpecMetricComparator: a null metric never matches; otherwise numeric compare.
        value = event.get(spec["aggregation"])
        if value is None:
            return False
        target = spec["value"]
        if kind == "equalTo":
            return value == target
        return value > target if kind == "greaterThan" else value < target
    if kind == "dimSelector":
        # DimensionSelectorHavingSpec: the row's value for the dimension equals the value.
        return event.get(spec["dimension"]) == spec.get("value")
    if kind == "and":
        return all(having_match(inner, stamp, event) for inner in spec["havingSpecs"])
    if kind == "or":
        return any(having_match(inner, stamp, event) for inner in spec["havingSpecs"])
    if kind == "not":
        return not having_match(spec["havingSpec"], stamp, event)
    raise ValueError(f"having {kind!r} is not supported by this script")


# ---------------------------------------------------------------------------------------
# Key order of maps Druid builds as a java.util.HashMap (groupBy events:
# ResultRow.toMap; timeBoundary results: TimeBoundaryQuery.buildResult). Jackson writes
# them in the table's iteration order: buckets by index, each bucket's chain oldest first.


def java_string_hash(text):
    """String.hashCode: h = 31*h + c over the UTF-16 code units, as a 32-bit int."""
    units = text.encode("utf-16-be")
    h = 0
    for i in range(0, len(units), 2):
        h = (h * 31 + int.from_bytes(units[i:i + 2], "big")) & 0xFFFFFFFF
    return h


def java_hash_map(pairs):
    """A dict in the order `new HashMap<>()` iterates after put(k, v) for each pair in
    turn. The table starts at 16 buckets; putVal appends to the bucket's chain, calls
    treeifyBin when the chain reaches 9 nodes (below 64 buckets that only doubles the
    table), and doubles the table when size > 0.75 * capacity. A resize splits each chain
    into two keeping its order, so chains stay oldest first."""
    capacity = 16
    table = [[] for _ in range(capacity)]
    size = 0

    def bucket(key):
        h = java_string_hash(key)
        return (h ^ (h >> 16)) & (capacity - 1)

    def resize():
        nonlocal capacity, table
        old = table
        capacity *= 2
        table = [[] for _ in range(capacity)]
        for chain in old:
            for key, value in chain:
                table[bucket(key)].append((key, value))

    for key, value in pairs:
        chain = table[bucket(key)]
        for i, (known, _) in enumerate(chain):
            if known == key:
                chain[i] = (key, value)
                break
        else:
            chain.append((key, value))
            if len(chain) >= 9:
                if capacity < 64:
                    resize()
                else:
                    raise ValueError("a treeified HashMap bin is not supported by this script")
            size += 1
            if size > capacity * 0.75:
                resize()
    return {key: value for chain in table for key, value in chain}


# ---------------------------------------------------------------------------------------
# Query types


def data_interval(rows):
    """The one segment's data interval [min __time, max __time + 1) over all its rows."""
    times = [row["__time"] for row in rows]
    return min(times), max(times) + 1


def clipped_interval(query, rows):
    """Druid clips the query interval to the segment's data interval before it cuts buckets
    (CursorGranularizer.create), which is why granularity-all timeseries and topN are stamped
    2015-09-12T00:46:58.771Z rather than the interval start."""
    (start, end), = parse_intervals(query)  # one interval keeps these cases unambiguous
    low, high = data_interval(rows)
    start, end = max(start, low), min(end, high)
    if start >= end:
        raise ValueError("the query interval misses the data; choose another case")
    return start, end


def buckets(query, rows):
    """(bucket start, bucket end) for every bucket the segment's cursor walks, in order."""
    start, end = clipped_interval(query, rows)
    granularity = granularity_of(query)
    if granularity == "all":
        return [(start, end)]  # one bucket stamped with the clipped start
    result, bucket = [], bucket_start(start, granularity)
    while bucket < end:
        result.append((bucket, next_bucket(bucket, granularity)))
        bucket = next_bucket(bucket, granularity)
    return result


def timeseries(query, table):
    rows = table.rows
    selected = selected_rows(query, rows)
    context = query.get("context", {})
    result = []
    for start, end in buckets(query, rows):
        inside = [row for row in selected if start <= row["__time"] < end]
        # skipEmptyBuckets defaults to false: empty buckets inside the clipped interval are
        # zero-filled (count 0, other aggregators null).
        if not inside and context.get("skipEmptyBuckets", False):
            continue
        # Result keys: aggregators in declaration order (no post-aggregators used here).
        result.append({"timestamp": format_stamp(start, granularity_of(query)),
                       "result": aggregate(query.get("aggregations", []), inside,
                                          query.get("postAggregations", []))})
    if query.get("descending", False):
        result.reverse()
    if "limit" in query:
        result = result[: query["limit"]]
    return result


def dimension_spec(spec):
    """(input column, output name, output type) of a plain or `default` dimension spec."""
    if isinstance(spec, str):
        return spec, spec, "STRING"
    if spec.get("type", "default") != "default":
        raise ValueError("only default dimension specs are supported by this script")
    return spec["dimension"], spec.get("outputName", spec["dimension"]), spec.get("outputType", "STRING")


def grouping_values(row, column, output_type, empty_as_null=True):
    """The values a row groups under: one, or each value of a multi-value row (grouping
    explodes it). An empty row (from `[]`; a missing value is a null row) groups as null in
    groupBy; topN and search walk the row's values, so they skip it."""
    value = row.get(column)
    if isinstance(value, list):
        values = [dimension_value({column: item}, column, output_type) for item in value]
        return values or ([None] if empty_as_null else [])
    return [dimension_value(row, column, output_type)]


def dimension_value(row, column, output_type):
    """A grouping value in the dimension spec's outputType. dimensionspecs.md: outputType
    defaults to STRING, so grouping on a long column yields strings ("36"), which then sort
    as strings."""
    value = row.get(column)
    if value is None:
        return None
    if output_type == "STRING":
        if isinstance(value, float):
            raise ValueError("doubles as STRING grouping values are not supported by this script")
        return value if isinstance(value, str) else str(value)
    if output_type == "LONG" and isinstance(value, int):
        return value
    raise ValueError(f"outputType {output_type} over this column is not supported by this script")


def null_first(value):
    """Druid's lexicographic comparator puts null before every string."""
    return (value is not None, value if value is not None else "")


def topn(query, table):
    rows = table.rows
    selected = selected_rows(query, rows)
    column, output, output_type = dimension_spec(query["dimension"])
    metric = query["metric"]
    if isinstance(metric, dict):
        if metric.get("type") != "numeric":
            raise ValueError("only numeric topN metric specs are supported by this script")
        metric = metric["metric"]
    result = []
    for start, end in buckets(query, rows):
        inside = [row for row in selected if start <= row["__time"] < end]
        # Every bucket of the clipped interval gets an entry, with an empty list when no row
        # matches (Druid's TopNQueryRunnerTest.testTopNWithNonExistentFilter expects
        # [{"timestamp", "result": []}]): TopNMapFn builds a result for every cursor bucket.
        groups = {}
        for row in inside:
            for value in grouping_values(row, column, output_type, empty_as_null=False):
                groups.setdefault(value, []).append(row)
        entries = []
        for value, group in groups.items():
            entry = {output: value}  # entry keys: the dimension, then aggregators
            entry.update(aggregate(query["aggregations"], group, query.get("postAggregations", [])))
            entries.append(entry)
        for entry in entries:
            if entry[metric] is None:
                raise ValueError("null topN metric values are not supported by this script")
        # Highest metric first; ties broken by dimension value ascending.
        entries.sort(key=lambda entry: null_first(entry[output]))
        entries.sort(key=lambda entry: entry[metric], reverse=True)
        result.append({"timestamp": format_stamp(start, granularity_of(query)),
                       "result": entries[: query["threshold"]]})
    return result


def group_by(query, table):
    rows = table.rows
    selected = selected_rows(query, rows)
    dims = [dimension_spec(spec) for spec in query.get("dimensions", [])]
    granularity = granularity_of(query)
    (interval_start, _), = parse_intervals(query)
    groups = {}
    for row in selected:
        if granularity == "all":
            # groupBy with granularity all stamps rows with the query interval's start (not
            # clipped to the data, unlike timeseries and topN).
            stamp = interval_start
        else:
            stamp = bucket_start(row["__time"], granularity)
        for values in itertools.product(
                *(grouping_values(row, column, kind) for column, _, kind in dims)):
            groups.setdefault((stamp,) + values, []).append(row)
    results = []
    # Without a limitSpec rows come ordered by time, then by every dimension ascending.
    for key in sorted(groups, key=lambda key: (key[0],) + tuple(null_first(v) for v in key[1:])):
        event = {output: value for (_, output, _), value in zip(dims, key[1:])}
        event.update(aggregate(query.get("aggregations", []), groups[key],
                               query.get("postAggregations", [])))  # dims, aggs, post-aggs
        results.append((key[0], event))
    if query.get("having"):
        results = [(stamp, event) for stamp, event in results
                   if having_match(query["having"], stamp, event)]
    limit_spec = query.get("limitSpec")
    if limit_spec:
        results = apply_limit_spec(limit_spec, granularity, results)
    # ResultRow.toMap puts dims, aggs, post-aggs (in that order) into a new HashMap.
    return [{"version": "v1", "timestamp": format_stamp(stamp, granularity),
             "event": java_hash_map(event.items())}
            for stamp, event in results]


def apply_limit_spec(spec, granularity, results):
    """DefaultLimitSpec: order by the given columns (time first unless granularity is all),
    then offset and limit. Druid does not promise an order between rows equal on every
    ordering column, so this refuses cases where such ties decide the answer."""
    if spec.get("type", "default") != "default":
        raise ValueError("only the default limitSpec is supported by this script")
    columns = [{"dimension": c} if isinstance(c, str) else c for c in spec.get("columns", [])]

    def sort_key(item):
        stamp, event = item
        key = [] if granularity == "all" else [stamp]
        for column in columns:
            value = event[column["dimension"]]
            order = column.get("dimensionOrder", "lexicographic")
            if order == "numeric" or not isinstance(value, (str, type(None))):
                part = (value is not None, float(value) if value is not None else 0.0)
            elif order == "lexicographic":
                part = null_first(value)
            elif order == "strlen":
                # StringComparators.StrlenComparator (sorting-orders.md "Strlen"): by
                # String.length() (UTF-16 units), ties by String.compareTo (UTF-16 units,
                # which big-endian UTF-16 bytes compare like).
                if value is None:
                    raise ValueError("strlen ordering of null is not supported by this script")
                units = value.encode("utf-16-be")
                part = (len(units) // 2, units)
            elif order == "alphanumeric":
                # AlphanumericComparator (sorting-orders.md "Alphanumeric", java-alphanum):
                # runs of digits compare as numbers. This script only orders all-digit values
                # without leading zeros, where that is plain numeric order.
                if value is None or not value.isdigit() or not value.isascii() or (
                        len(value) > 1 and value[0] == "0"):
                    raise ValueError("alphanumeric order of this value is not supported here")
                part = (len(value), value)
            else:
                raise ValueError(f"dimensionOrder {order!r} is not supported by this script")
            if column.get("direction", "ascending") == "descending":
                part = Reverse(part)
            key.append(part)
        return key

    ordered = sorted(results, key=sort_key)
    offset = spec.get("offset", 0)
    limit = spec.get("limit", len(ordered))
    window = ordered[: offset + limit + 1]  # the rows kept and the first one dropped
    if columns:
        keys = [sort_key(item) for item in window]
        for left, right in zip(keys, keys[1:]):
            if left == right:
                raise ValueError("limitSpec ordering ties decide this answer; choose another case")
    return ordered[offset: offset + limit]


class Reverse:
    """Sort key wrapper that inverts the order of what it wraps (descending direction)."""

    def __init__(self, value):
        self.value = value

    def __lt__(self, other):
        return other.value < self.value

    def __eq__(self, other):
        return self.value == other.value


def scan(query, table):
    rows = table.rows
    """Scan returns one batch per segment. Rows come in segment order, which is __time
    order; rows sharing a timestamp have no order this script can promise, so such ties at
    the edge of the answer are refused."""
    selected = selected_rows(query, rows)
    order = query.get("order", "none")
    selected.sort(key=lambda row: row["__time"], reverse=(order == "descending"))
    offset, limit = query.get("offset", 0), query.get("limit", len(selected))
    window = selected[offset: offset + limit]
    edges = selected[max(offset - 1, 0): offset + limit + 1]
    times = [row["__time"] for row in edges]
    if len(set(times)) != len(times):
        raise ValueError("rows with equal __time decide this scan; choose another case")
    if not window:
        return []
    columns = query["columns"]  # cases always name their columns
    kinds = dict(table.types, __time="LONG")
    if query.get("resultFormat", "list") == "compactedList":
        events = [[row.get(column) for column in columns] for row in window]
    else:
        events = [{column: row.get(column) for column in columns} for row in window]
    return [{
        # Time-ordered scans are merged and re-batched on the broker: Druid's
        # ScanQueryLimitRowIterator builds those batches as
        # new ScanResultValue(null, columns, events, rowSignature), so their segmentId is null
        # and the row signature stays. Unordered scans keep the segment's id.
        "segmentId": table.segment_id if order == "none" else None,
        "columns": columns,
        "events": events,
        "rowSignature": [{"name": column, "type": kinds[column]} for column in columns],
    }]


def time_boundary(query, table):
    rows = table.rows
    if "intervals" not in query:
        query = dict(query, intervals=["1000-01-01/3000-01-01"])
    times = [row["__time"] for row in selected_rows(query, rows)]
    if not times:
        raise ValueError("an empty timeBoundary is not supported by this script")
    bound = query.get("bound")
    result = {}
    if bound in (None, "minTime"):
        result["minTime"] = format_time(min(times))
    if bound in (None, "maxTime"):
        result["maxTime"] = format_time(max(times))
    # The row's timestamp is minTime unless only maxTime was asked for.
    stamp = result.get("minTime", result.get("maxTime"))
    return [{"timestamp": stamp, "result": java_hash_map(result.items())}]


def search(query, table):
    """SearchQueryRunner: per segment one result stamped with the segment's interval start
    (bucketed unless granularity is all); hits counted per (dimension, value) over the
    selected rows; numeric dimensions searched as their decimal text; only the `all` spec
    accepts null; hits sorted by value with the sort's comparator, then dimension name
    (SearchSortSpec), and cut at `limit` (default 1000). Cases keep matches under the limit
    or use string dimensions without a filter, where Druid's index strategy walks the sorted
    dictionary and so returns the same first `limit` values."""
    rows = table.rows
    selected = selected_rows(query, rows)
    spec = query.get("query") or {"type": "all"}
    ordering = (query.get("sort") or {"type": "lexicographic"})["type"]
    if ordering != "lexicographic":
        raise ValueError("only the lexicographic search sort is supported by this script")
    dims = query.get("searchDimensions") or [
        column for column in table.types if column != "__time"]
    counts = {}
    for dim in dims:
        column, output, _ = dimension_spec(dim)
        for row, value in ((row, value) for row in selected
                           for value in grouping_values(row, column, "STRING",
                                                        empty_as_null=False)):
            if spec["type"] == "all":
                accepted = True
            elif value is None:
                accepted = False
            elif spec["type"] == "regex":
                accepted = re.search(spec["pattern"], value) is not None
            else:
                accepted = search_match(spec, value)
            if accepted:
                counts[(output, value)] = counts.get((output, value), 0) + 1
    hits = sorted(counts.items(), key=lambda item: (null_first(item[0][1]), item[0][0]))
    limit = query.get("limit") or 1000
    granularity = granularity_of(query)
    start = parse_time(table.segment_id.split("_")[1])
    stamp = start if granularity == "all" else bucket_start(start, granularity)
    return [{"timestamp": format_stamp(stamp, granularity), "result": [
        {"dimension": dim, "value": value, "count": count}
        for (dim, value), count in hits[:limit]]}]


def segment_metadata(query, table):
    """segmentMetadata of the one segment with `toInclude: none` (column analyses are not
    modelled here): SegmentAnalysis in its property order. `interval` gives the segment's
    interval; the stored analyses come from the ingestion spec (`table.stored`): aggregators
    as a map of combining factories (empty without a metricsSpec), the timestampSpec with
    Druid's defaults filled in, the query granularity as Druid serializes it, and rollup."""
    if query.get("toInclude") != {"type": "none"}:
        raise ValueError("only toInclude none is supported by this script")
    kinds = [kind.lower() for kind in query.get("analysisTypes", [])]
    stored = table.stored
    start, end = table.segment_id.split("_")[1:3]
    return [{
        "id": table.segment_id,
        "intervals": [f"{start}/{end}"] if "interval" in kinds else None,
        "columns": {},
        "size": 0,
        "numRows": len(table.rows),
        "aggregators": stored["aggregators"] if "aggregators" in kinds else None,
        "timestampSpec": stored["timestampSpec"] if "timestampspec" in kinds else None,
        "queryGranularity": stored["queryGranularity"] if "querygranularity" in kinds else None,
        "rollup": stored["rollup"] if "rollup" in kinds else None,
    }]


def run(query, table):
    """Answers a query; a query data source (query-datasource docs: the outer query reads the
    inner result as a table) runs the inner groupBy first and reads its events as rows,
    stamped with their timestamps."""
    source = query.get("dataSource")
    if isinstance(source, dict) and source.get("type") == "query":
        inner = source["query"]
        if inner["queryType"] != "groupBy":
            raise ValueError("only groupBy subqueries are supported by this script")
        rows = [dict(result["event"], __time=parse_time(result["timestamp"]))
                for result in run(inner, table)]
        types = {}
        for row in rows:
            for column, value in row.items():
                if column != "__time" and value is not None:
                    kind = "STRING" if isinstance(value, str) else (
                        "LONG" if isinstance(value, int) else "DOUBLE")
                    types[column] = kind if types.get(column, kind) == kind else "STRING"
        return run(dict(query, dataSource=inner["dataSource"]),
                   Table(rows, types, table.segment_id))
    return ENGINES[query["queryType"]](query, table)


ENGINES = {
    "timeseries": timeseries, "topN": topn, "groupBy": group_by, "scan": scan,
    "timeBoundary": time_boundary, "search": search, "segmentMetadata": segment_metadata,
}


def update_cases(cases_dir, dataset, answer, check):
    """Recomputes `expected` of every independent case of `dataset` in `cases_dir` with
    `answer(path, case)`; rewrites stale files (or, with `check`, only reports them).
    Returns how many were stale. The comparison is on the JSON text: key order and 1 vs
    1.0 are part of Druid's answer."""
    stale = 0
    for path in sorted(cases_dir.glob("*.json")):
        case = json.loads(path.read_text())
        if case.get("dataset") != dataset or case.get("source") != "independent":
            continue
        try:
            expected = answer(path, case)
        except (KeyError, ValueError) as err:
            raise SystemExit(f"{path.name}: {err!r}")
        if json.dumps(expected) == json.dumps(case.get("expected")):
            continue
        stale += 1
        if check:
            print(f"{path.name}: expected is out of date")
            continue
        case["expected"] = expected
        path.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {path.name}")
    return stale
