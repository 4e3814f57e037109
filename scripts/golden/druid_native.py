"""A small, plain reference evaluator for the subset of Druid's native queries that the golden
cases use, written from Druid's documentation and source (stdlib only).

It answers a query over a `Table` (the rows of one segment and the column types) with
Druid's exact response shape: key order, timestamps and SQL-compatible nulls. Anything
outside the subset raises ValueError instead of guessing. wikiticker_expected.py, beside
this file, feeds it Druid's quickstart data.
"""

import datetime as dt

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
    granularity = query.get("granularity", "all")
    if not isinstance(granularity, str):
        raise ValueError("only simple granularity names are supported by this script")
    return granularity.lower()

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
    value = column_value(row, flt["dimension"])
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


def aggregate(aggregators, rows):
    result = {}  # dict keeps declaration order, which is Druid's key order
    for agg in aggregators:
        kind, name = agg["type"], agg["name"]
        if kind == "count":
            result[name] = len(rows)
            continue
        values = [row.get(agg["fieldName"]) for row in rows]
        values = [value for value in values if value is not None]
        if kind.startswith("long"):
            convert = int
        elif kind.startswith("double"):
            convert = float  # Jackson prints doubles with a fraction: 9385573.0
        else:
            raise ValueError(f"aggregator {kind!r} is not supported by this script")
        numeric = (int,) if kind.startswith("long") else (int, float)
        if any(isinstance(value, bool) or not isinstance(value, numeric) for value in values):
            raise ValueError(f"{kind} over this column type is not supported by this script")
        if not values:
            result[name] = None
        elif kind.endswith("Sum"):
            result[name] = convert(sum(values))
        elif kind.endswith("Min"):
            result[name] = convert(min(values))
        elif kind.endswith("Max"):
            result[name] = convert(max(values))
        else:
            raise ValueError(f"aggregator {kind!r} is not supported by this script")
    return result


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
        result.append({"timestamp": format_time(start),
                       "result": aggregate(query.get("aggregations", []), inside)})
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
            groups.setdefault(dimension_value(row, column, output_type), []).append(row)
        entries = []
        for value, group in groups.items():
            entry = {output: value}  # entry keys: the dimension, then aggregators
            entry.update(aggregate(query["aggregations"], group))
            entries.append(entry)
        for entry in entries:
            if entry[metric] is None:
                raise ValueError("null topN metric values are not supported by this script")
        # Highest metric first; ties broken by dimension value ascending.
        entries.sort(key=lambda entry: null_first(entry[output]))
        entries.sort(key=lambda entry: entry[metric], reverse=True)
        result.append({"timestamp": format_time(start), "result": entries[: query["threshold"]]})
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
        key = (stamp,) + tuple(dimension_value(row, column, kind) for column, _, kind in dims)
        groups.setdefault(key, []).append(row)
    results = []
    # Without a limitSpec rows come ordered by time, then by every dimension ascending.
    for key in sorted(groups, key=lambda key: (key[0],) + tuple(null_first(v) for v in key[1:])):
        event = {output: value for (_, output, _), value in zip(dims, key[1:])}
        event.update(aggregate(query.get("aggregations", []), groups[key]))  # dims, then aggs
        results.append((key[0], event))
    limit_spec = query.get("limitSpec")
    if limit_spec:
        results = apply_limit_spec(limit_spec, granularity, results)
    return [{"version": "v1", "timestamp": format_time(stamp), "event": event}
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
            if column.get("dimensionOrder", "lexicographic") == "numeric" or not isinstance(value, (str, type(None))):
                part = (value is not None, float(value) if value is not None else 0.0)
            elif column.get("dimensionOrder", "lexicographic") == "lexicographic":
                part = null_first(value)
            else:
                raise ValueError("only lexicographic and numeric dimensionOrder are supported")
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
    return [{"timestamp": stamp, "result": result}]


ENGINES = {
    "timeseries": timeseries, "topN": topn, "groupBy": group_by, "scan": scan,
    "timeBoundary": time_boundary,
}
