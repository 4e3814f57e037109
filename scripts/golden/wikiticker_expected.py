#!/usr/bin/env python3
"""Independent expectations for the golden wikiticker cases (stdlib only).

Reads Druid's quickstart file ../shared/data/wikiticker-2015-09-12-sampled.json.gz row by
row and answers every case in cluster-tests/cases/native/*.json whose "dataset" is
"wikipedia" and whose "source" is "independent", then writes the answer into the case's
"expected" field. Nothing here asks Henge anything: the answers come from druid_native.py
beside this file, a small, slow, plain reference evaluator for the subset of Druid's native
query language the cases use, written from Druid's documentation and source. Anything outside
that subset raises an error instead of guessing.

Usage:
    scripts/golden/wikiticker_expected.py           # rewrite "expected" of independent cases
    scripts/golden/wikiticker_expected.py --check   # exit 1 if any file is out of date

Druid rules followed (each is commented where it is applied, mostly in druid_native.py):
  * ingestion as wikipedia-index.json: one DAY segment, no rollup, queryGranularity none;
    JSON booleans and numbers in string dimensions become strings ("true", "123");
  * SQL-compatible nulls (Druid's default since 28): sums/min/max over no rows are null,
    count is 0; filters use three-valued logic (NOT never matches a row whose value is null);
  * result shapes and key order per query type, timestamps per granularity;
  * aggregators, post-aggregators, the SQL-compatible filters (equals/null/inType/range),
    like/regex/search/columnComparison/interval/true/false, having and limitSpec orders each
    cite the Druid class or doc they follow where druid_native.py applies them. Cases whose
    answer Druid leaves to chance (first/last ties on __time, any aggregators, limitSpec ties,
    float sums that round) are refused rather than guessed.
"""

import gzip
import json
import pathlib
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the script in the repo
import druid_native as native  # noqa: E402  beside this file

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "wikiticker-2015-09-12-sampled.json.gz"
CASES = ROOT / "cluster-tests" / "cases" / "native"
DATASOURCE = "wikipedia"

# wikipedia-index.json: these are string dimensions, the last three long dimensions.
STRING_DIMS = [
    "channel", "cityName", "comment", "countryIsoCode", "countryName", "isAnonymous",
    "isMinor", "isNew", "isRobot", "isUnpatrolled", "metroCode", "namespace", "page",
    "regionIsoCode", "regionName", "user",
]
LONG_DIMS = ["added", "deleted", "delta"]
# The segment id's version is the ingestion time, unknowable here; the Rust runner puts
# this placeholder in place of the version of every segmentId it receives.
SEGMENT_ID = DATASOURCE + "_2015-09-12T00:00:00.000Z_2015-09-13T00:00:00.000Z_VERSION"

# ---------------------------------------------------------------------------------------
# Rows


def load_rows():
    rows = []
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            raw = json.loads(line)
            row = {"__time": native.parse_time(raw["time"])}
            for dim in STRING_DIMS:
                value = raw.get(dim)
                # Druid's string dimension indexer stores String.valueOf(value): JSON
                # true/false become "true"/"false", numbers their decimal text, null stays null.
                if isinstance(value, bool):
                    value = "true" if value else "false"
                elif value is not None:
                    value = str(value)
                row[dim] = value
            for dim in LONG_DIMS:
                row[dim] = raw.get(dim)
            rows.append(row)
    return rows


def main():
    check = "--check" in sys.argv[1:]
    rows = load_rows()
    assert len(rows) == 39_244, "the raw file changed"
    types = {**{dim: "STRING" for dim in STRING_DIMS}, **{dim: "LONG" for dim in LONG_DIMS}}
    table = native.Table(rows, types, SEGMENT_ID)
    # What wikipedia-index.json stores with the segment: no metricsSpec, its timestampSpec
    # with Druid's defaults filled in, queryGranularity none ({"type": "none"} as Druid
    # serializes NONE) and rollup false.
    table.stored = {
        "aggregators": {},
        "timestampSpec": {"column": "time", "format": "iso", "missingValue": None},
        "queryGranularity": {"type": "none"},
        "rollup": False,
    }

    def answer(path, case):
        query = case["query"]
        source = query.get("dataSource")
        while isinstance(source, dict) and source.get("type") == "query":
            source = source["query"].get("dataSource")
        if source != DATASOURCE:
            raise ValueError(f"{path.name}: query dataSource must be {DATASOURCE}")
        return native.run(query, table)

    stale = native.update_cases(CASES, DATASOURCE, answer, check)
    if check and stale:
        sys.exit(1)


if __name__ == "__main__":
    main()
