"""pydruid against Henge: timeseries, topN, groupBy and a filtered query through
pydruid.client.PyDruid, SQL through its DB-API (pydruid.db) and the catalog through its
SQLAlchemy dialect (`druid://`, INFORMATION_SCHEMA), checked against numbers computed here from the raw wikiticker file
(stdlib only, never from Henge).

Needs a Henge broker with Druid's wikiticker quickstart data loaded as `wikipedia`, at the
URL in the HENGE_URL environment variable. Run it with the venv that scripts/venv creates:

    HENGE_URL=http://127.0.0.1:8888 .venv/bin/python cluster-tests/python/test_pydruid.py

The Rust quickstart test (cluster-tests/tests/cluster/quickstart.rs) runs it this way. It
also works under pytest: every test_* function takes no arguments.
"""

import collections
import gzip
import json
import os
import pathlib
import sys
import urllib.error  # noqa: F401  pydruid 0.6.9 uses urllib.request/urllib.error
import urllib.request  # noqa: F401  without importing them

from pydruid.client import PyDruid
from pydruid.utils.aggregators import count, doublesum, longsum
from pydruid.utils.filters import Dimension

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "wikiticker-2015-09-12-sampled.json.gz"
DATASOURCE = "wikipedia"
INTERVAL = "2015-09-12/2015-09-13"
# The first event of the file: granularity-all timeseries and topN results carry it as their
# timestamp (Druid clips the query interval to the segment's data).
FIRST_EVENT = "2015-09-12T00:46:58.771Z"


def raw_rows():
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


ROWS = raw_rows()


def client():
    url = os.environ.get("HENGE_URL")
    assert url, "set HENGE_URL to a Henge broker, e.g. http://127.0.0.1:8888"
    return PyDruid(url.rstrip("/"), "druid/v2")


def test_timeseries_totals():
    query = client().timeseries(
        datasource=DATASOURCE,
        granularity="all",
        intervals=INTERVAL,
        aggregations={"edits": count("added"), "added": longsum("added"),
                      "deleted": doublesum("deleted")},
    )
    assert len(query.result) == 1, query.result
    row = query.result[0]
    assert row["timestamp"] == FIRST_EVENT, row
    assert row["result"]["edits"] == len(ROWS) == 39244, row
    assert row["result"]["added"] == sum(r["added"] for r in ROWS), row
    assert row["result"]["deleted"] == float(sum(r["deleted"] for r in ROWS)), row


def test_topn_channels_by_edits():
    query = client().topn(
        datasource=DATASOURCE,
        granularity="all",
        intervals=INTERVAL,
        aggregations={"edits": count("added")},
        dimension="channel",
        metric="edits",
        threshold=5,
    )
    counts = collections.Counter(r["channel"] for r in ROWS)
    # Highest count first, ties by channel name.
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:5]
    assert query.result[0]["timestamp"] == FIRST_EVENT, query.result
    got = [(entry["channel"], entry["edits"]) for entry in query.result[0]["result"]]
    assert got == top, (got, top)


def test_groupby_is_robot_daily():
    query = client().groupby(
        datasource=DATASOURCE,
        granularity="day",
        intervals=INTERVAL,
        dimensions=["isRobot"],
        aggregations={"added": longsum("added"), "edits": count("added")},
    )
    sums = collections.defaultdict(lambda: [0, 0])
    for r in ROWS:
        # JSON booleans are ingested into a string dimension as "true"/"false".
        key = "true" if r["isRobot"] else "false"
        sums[key][0] += r["added"]
        sums[key][1] += 1
    got = {row["event"]["isRobot"]: [row["event"]["added"], row["event"]["edits"]]
           for row in query.result}
    assert got == dict(sums), (got, dict(sums))
    assert {row["timestamp"] for row in query.result} == {"2015-09-12T00:00:00.000Z"}


def test_filtered_timeseries():
    query = client().timeseries(
        datasource=DATASOURCE,
        granularity="hour",
        intervals=INTERVAL,
        filter=(Dimension("channel") == "#en.wikipedia") & (Dimension("isNew") == "true"),
        aggregations={"edits": count("added"), "added": longsum("added")},
    )
    hourly = collections.defaultdict(lambda: [0, 0])
    for r in ROWS:
        if r["channel"] == "#en.wikipedia" and r["isNew"]:
            hour = r["time"][:13] + ":00:00.000Z"
            hourly[hour][0] += 1
            hourly[hour][1] += r["added"]
    got = {row["timestamp"]: [row["result"]["edits"], row["result"]["added"]]
           for row in query.result if row["result"]["edits"]}
    assert got == dict(hourly), (got, dict(hourly))


def sql_cursor(header):
    from urllib.parse import urlparse

    from pydruid.db import connect

    url = urlparse(os.environ["HENGE_URL"])
    connection = connect(
        host=url.hostname, port=url.port, path="/druid/v2/sql/", scheme=url.scheme, header=header
    )
    return connection.cursor()


def test_sql_dbapi_totals_and_description():
    rows = raw_rows()
    cursor = sql_cursor(header=True)
    cursor.execute("SELECT COUNT(*) AS edits, SUM(added) AS added FROM wikipedia")
    got = [tuple(row) for row in cursor.fetchall()]
    assert got == [(len(rows), sum(r["added"] for r in rows))], got
    assert [column[0] for column in cursor.description] == ["edits", "added"], cursor.description


def test_sql_dbapi_channels_by_added_with_parameter():
    totals = collections.Counter()
    for r in raw_rows():
        if r["channel"] != "#en.wikipedia":
            totals[r["channel"]] += r["added"]
    expected = [(channel, added) for channel, added in totals.most_common(3)]
    cursor = sql_cursor(header=False)
    cursor.execute(
        "SELECT channel, SUM(added) AS added FROM wikipedia WHERE channel <> %(skip)s "
        "GROUP BY channel ORDER BY added DESC LIMIT 3",
        {"skip": "#en.wikipedia"},
    )
    got = [tuple(row) for row in cursor.fetchall()]
    assert got == expected, (got, expected)


# wikipedia-index.json's dimensions: string ones, then the three long ones.
STRING_DIMS = [
    "channel", "cityName", "comment", "countryIsoCode", "countryName", "isAnonymous",
    "isMinor", "isNew", "isRobot", "isUnpatrolled", "metroCode", "namespace", "page",
    "regionIsoCode", "regionName", "user",
]
LONG_DIMS = ["added", "deleted", "delta"]


def test_sqlalchemy_inspector_lists_tables_and_columns():
    from urllib.parse import urlparse

    import sqlalchemy
    from sqlalchemy import types

    url = urlparse(os.environ["HENGE_URL"])
    engine = sqlalchemy.create_engine(f"druid://{url.hostname}:{url.port}/druid/v2/sql/")
    inspector = sqlalchemy.inspect(engine)
    assert "druid" in inspector.get_schema_names()
    assert DATASOURCE in inspector.get_table_names(schema="druid")
    columns = {column["name"]: column for column in inspector.get_columns(DATASOURCE, schema="druid")}
    assert sorted(columns) == sorted(["__time"] + STRING_DIMS + LONG_DIMS), sorted(columns)
    assert isinstance(columns["__time"]["type"], types.TIMESTAMP), columns["__time"]
    assert columns["__time"]["nullable"] is False
    for name in STRING_DIMS:
        assert isinstance(columns[name]["type"], types.String), columns[name]
        assert columns[name]["nullable"] is True
    for name in LONG_DIMS:
        assert isinstance(columns[name]["type"], types.BigInteger), columns[name]


def test_sqlalchemy_has_table_and_ping():
    """pydruid's has_table sends `SELECT COUNT(*) > 0 AS exists_ FROM
    INFORMATION_SCHEMA.TABLES WHERE ...`; SQLAlchemy's ping is `SELECT 1`."""
    from urllib.parse import urlparse

    import sqlalchemy
    from sqlalchemy import text

    url = urlparse(os.environ["HENGE_URL"])
    engine = sqlalchemy.create_engine(f"druid://{url.hostname}:{url.port}/druid/v2/sql/")
    with engine.connect() as connection:
        assert engine.dialect.has_table(connection, DATASOURCE) is True
        assert engine.dialect.has_table(connection, "no_such_table") is False
        assert connection.execute(text("SELECT 1")).scalar() == 1
        row = connection.execute(text("SELECT 1 + 1 AS two, 'a' AS letter")).fetchone()
        assert (row.two, row.letter) == (2, "a"), row


def main():
    tests = [value for name, value in sorted(globals().items()) if name.startswith("test_")]
    failed = 0
    for test in tests:
        try:
            test()
            print(f"ok     {test.__name__}")
        except Exception as err:  # report every test, then fail
            failed += 1
            print(f"FAILED {test.__name__}: {err!r}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
