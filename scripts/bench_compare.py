"""Turns Henge's native results and DuckDB's SQL rows into comparable rows, and compares them
(exact for integers and strings, relative 1e-9 for doubles, a given relative tolerance for
approximate columns). Used by scripts/bench.py."""

import datetime

EPOCH = datetime.datetime(1970, 1, 1)


def iso(value):
    """Druid's ISO form of a DuckDB timestamp (UTC, milliseconds, Z)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def native_rows(query, result):
    """Flattens a native query result into a list of dicts."""
    kind = query["queryType"]
    if kind == "timeseries":
        return [{"timestamp": row["timestamp"], **row["result"]} for row in result]
    if kind == "topN":
        return [entry for row in result for entry in row["result"]]
    if kind == "groupBy":
        return [{"timestamp": row["timestamp"], **row["event"]} for row in result]
    if kind == "scan":
        rows = []
        for batch in result:
            for event in batch["events"]:
                rows.append(dict(zip(batch["columns"], event)))
        return rows
    raise ValueError(f"unknown query type {kind}")


def sql_rows(cursor):
    """DuckDB rows as dicts; timestamps named __time become epoch millis, others ISO text."""
    names = [column[0] for column in cursor.description]
    rows = []
    for values in cursor.fetchall():
        row = {}
        for name, value in zip(names, values):
            if isinstance(value, datetime.datetime):
                if name == "__time":
                    value = (value - EPOCH) // datetime.timedelta(milliseconds=1)
                else:
                    value = iso(value)
            row[name] = value
        rows.append(row)
    return rows


def values_differ(expected, actual, tolerance):
    if isinstance(expected, float) or isinstance(actual, float):
        if expected is None or actual is None:
            return expected is not actual
        scale = max(abs(float(expected)), abs(float(actual)), 1e-300)
        return abs(float(expected) - float(actual)) / scale > (tolerance or 1e-9)
    if tolerance and expected is not None and actual is not None:
        return abs(expected - actual) > tolerance * max(abs(expected), 1)
    return expected != actual


def diff(expected_rows, actual_rows, ordered, approximate=None, limit=10):
    """Differences between two row lists over the expected rows' columns (empty when equal)."""
    approximate = approximate or {}
    problems = []
    if len(expected_rows) != len(actual_rows):
        problems.append(f"row count: expected {len(expected_rows)}, got {len(actual_rows)}")
    if not expected_rows:
        return problems
    columns = list(expected_rows[0].keys())
    exact_columns = [c for c in columns if c not in approximate]

    def project(row):
        return {column: row.get(column) for column in columns}

    expected = [project(row) for row in expected_rows]
    actual = [project(row) for row in actual_rows]
    if not ordered:
        key = lambda row: tuple(str(row[c]) for c in exact_columns)  # noqa: E731
        expected.sort(key=key)
        actual.sort(key=key)
    for index, (want, got) in enumerate(zip(expected, actual)):
        bad = [
            column
            for column in columns
            if values_differ(want[column], got[column], approximate.get(column))
        ]
        if bad:
            problems.append(f"row {index}: expected {want}, got {got} (columns {bad})")
            if len(problems) >= limit:
                problems.append("...")
                break
    return problems
