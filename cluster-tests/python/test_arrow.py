"""The `arrow` SQL result format (a Henge extension) read with pyarrow: content type, schema
types from the SQL column types, values and nulls, checked against numbers computed here
from the raw wikiticker file (stdlib only, never from Henge).

Needs a Henge broker with wikiticker loaded as `wikipedia` at HENGE_URL; run it with the
venv that scripts/venv creates (the Rust cluster test `duckdb_diff` does):

    HENGE_URL=http://127.0.0.1:8888 .venv/bin/python cluster-tests/python/test_arrow.py
"""

import collections
import datetime as dt
import gzip
import json
import math
import os
import pathlib
import sys
import urllib.request

import pyarrow as pa
import pyarrow.ipc

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "wikiticker-2015-09-12-sampled.json.gz"
UTC_MS = pa.timestamp("ms", tz="UTC")


def raw_rows():
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


ROWS = raw_rows()


def millis(text):
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(value.timestamp() * 1000)


def arrow(sql):
    url = os.environ["HENGE_URL"].rstrip("/") + "/druid/v2/sql"
    body = json.dumps({"query": sql, "resultFormat": "arrow"}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        content_type = response.headers.get("Content-Type")
        assert content_type == "application/vnd.apache.arrow.stream", content_type
        return pa.ipc.open_stream(response.read()).read_all()


def types(table):
    return [(field.name, field.type) for field in table.schema]


def test_scan_types_values_and_nulls():
    table = arrow(
        "SELECT __time, channel, cityName, added, CAST(delta AS DOUBLE) AS d FROM wikipedia "
        "WHERE channel = '#it.wikipedia' ORDER BY __time LIMIT 4")
    assert types(table) == [("__time", UTC_MS), ("channel", pa.string()), ("cityName", pa.string()),
                            ("added", pa.int64()), ("d", pa.float64())], table.schema
    assert all(field.nullable for field in table.schema)
    assert table.schema.field("added").metadata == {b"sqlType": b"BIGINT"}
    italian = sorted((row for row in ROWS if row["channel"] == "#it.wikipedia"), key=lambda row: row["time"])
    first = italian[:4]
    times = [row["time"] for row in italian[:5]]
    assert len(set(times)) == 5, "ties in the first rows would leave the order open"
    got = table.to_pydict()
    assert [t.timestamp() * 1000 for t in got["__time"]] == [millis(row["time"]) for row in first]
    assert all(t.tzinfo is not None and t.utcoffset().total_seconds() == 0 for t in got["__time"])
    assert got["channel"] == ["#it.wikipedia"] * 4
    assert got["cityName"] == [row.get("cityName") for row in first]
    assert got["added"] == [row["added"] for row in first]
    assert got["d"] == [float(row["delta"]) for row in first]


def test_grouped_aggregates():
    table = arrow(
        "SELECT channel, COUNT(*) AS edits, SUM(added) AS added, AVG(CAST(delta AS DOUBLE)) AS avg_delta "
        "FROM wikipedia WHERE channel LIKE '#e%' GROUP BY channel ORDER BY channel")
    assert types(table) == [("channel", pa.string()), ("edits", pa.int64()), ("added", pa.int64()),
                            ("avg_delta", pa.float64())], table.schema
    groups = collections.defaultdict(list)
    for row in ROWS:
        if row["channel"].startswith("#e"):
            groups[row["channel"]].append(row)
    channels = sorted(groups)
    got = table.to_pydict()
    assert got["channel"] == channels
    assert got["edits"] == [len(groups[c]) for c in channels]
    assert got["added"] == [sum(r["added"] for r in groups[c]) for c in channels]
    for channel, average in zip(channels, got["avg_delta"]):
        expected = sum(r["delta"] for r in groups[channel]) / len(groups[channel])
        assert math.isclose(average, expected, rel_tol=1e-9), (channel, average, expected)


def test_hour_buckets_are_utc_timestamps():
    table = arrow("SELECT FLOOR(__time TO HOUR) AS h, COUNT(*) AS c FROM wikipedia GROUP BY 1")
    assert types(table) == [("h", UTC_MS), ("c", pa.int64())], table.schema
    counts = collections.Counter(millis(row["time"]) // 3_600_000 * 3_600_000 for row in ROWS)
    got = dict(zip((round(t.timestamp() * 1000) for t in table.column("h").to_pylist()),
                   table.column("c").to_pylist()))
    assert got == dict(counts), (got, counts)


def test_empty_answer_has_the_schema():
    table = arrow("SELECT COUNT(*) AS c, SUM(added) AS s FROM wikipedia WHERE channel = 'no such channel'")
    assert types(table) == [("c", pa.int64()), ("s", pa.int64())]
    assert table.to_pydict() == {"c": [0], "s": [None]}
    table = arrow("SELECT page, added FROM wikipedia WHERE channel = 'no such channel'")
    assert types(table) == [("page", pa.string()), ("added", pa.int64())]
    assert table.num_rows == 0


def main():
    assert os.environ.get("HENGE_URL"), "set HENGE_URL to a Henge broker"
    tests = [value for name, value in sorted(globals().items()) if name.startswith("test_")]
    for test in tests:
        test()
        print(f"ok {test.__name__}")
    print(f"arrow result format: {len(tests)} tests passed")


if __name__ == "__main__":
    sys.exit(main())
