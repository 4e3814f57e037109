#!/usr/bin/env python3
"""Henge's own golden dataset, `henge-tags`, and the independent answers to its cases.

The dataset has what wikiticker lacks: a multi-value string dimension (`tags`, from JSON
arrays, some rows empty or missing it), nulls in single-value dimensions (`country`), and
sketch metrics built at ingestion (HLLSketchBuild, thetaSketch, hyperUnique and
quantilesDoublesSketch). Rows come from a seeded generator, so the data file is the same on
every run; it is written gzipped (mtime 0) to cluster-tests/data/ with its ingestion spec.

Answers come from druid_native.py beside this file (multi-value rows match a filter when any
value does and explode in groupBy/topN/search). Sketch results are approximate by design:
their cases carry the exact value (distinct count, median) and a relative "tolerance" the
sketch's error bound allows, and the golden runner compares within it.

Usage:
    scripts/golden/henge_tags.py            # write the data and the cases' "expected"
    scripts/golden/henge_tags.py --check    # exit 1 if the data or any case is out of date
"""

import gzip
import io
import json
import pathlib
import random
import sys

sys.dont_write_bytecode = True
import druid_native as native  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "cluster-tests" / "data"
DATA = DATA_DIR / "henge-tags.json.gz"
CASES = ROOT / "cluster-tests" / "cases" / "native"
DATASOURCE = "henge-tags"
ROWS = 2_000
SEGMENT_ID = DATASOURCE + "_2024-03-01T00:00:00.000Z_2024-03-02T00:00:00.000Z_VERSION"

COUNTRIES = ["US", "DE", "FR", "JP", "BR", None]
COUNTRY_WEIGHTS = [30, 20, 15, 12, 10, 13]
DEVICES = ["mobile", "desktop", "tablet"]
TAGS = ["food", "music", "news", "sports", "tech", "travel"]


def generate():
    """ROWS events over 2024-03-01 and 2024-03-02, in time order."""
    rng = random.Random(20240301)
    start = native.parse_time("2024-03-01T00:00:00Z")
    times = sorted(rng.randrange(0, 2 * 86_400_000) for _ in range(ROWS))
    rows = []
    for offset in times:
        event = {"time": native.format_time(start + offset)}
        country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
        if country is not None:
            event["country"] = country
        event["device"] = rng.choice(DEVICES)
        shape = rng.random()
        if shape < 0.08:
            pass  # no tags field at all
        elif shape < 0.15:
            event["tags"] = []
        elif shape < 0.45:
            event["tags"] = rng.choice(TAGS)  # a plain string: a single-value row
        else:
            event["tags"] = rng.sample(TAGS, rng.randint(1, 3))
        # Users are skewed: half the events come from 50 heavy users, half from a long tail.
        heavy = rng.random() < 0.5
        event["user"] = "u%04d" % (rng.randrange(50) if heavy else rng.randrange(50, 5000))
        event["clicks"] = rng.randint(0, 15)
        event["revenue"] = round(rng.uniform(0, 50), 2)
        event["latency"] = rng.randint(1, 2000)
        rows.append(event)
    return rows


def data_bytes(rows):
    text = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.encode("utf-8"))
    return buffer.getvalue()


def table(rows):
    """The rows as Druid stores them: tags sorted (SORTED_ARRAY), a plain string as a
    one-value row, `[]` as an empty row and a missing field as a null value."""
    stored = []
    for event in rows:
        tags = event.get("tags")
        if isinstance(tags, str):
            tags = [tags]
        elif tags is not None:
            tags = sorted(tags)
        stored.append({
            "__time": native.parse_time(event["time"]),
            "country": event.get("country"),
            "device": event["device"],
            "tags": tags,
            "user": event["user"],
            "latency": event["latency"],
            "clicks": event["clicks"],
            "revenue": event["revenue"],
        })
    types = {"country": "STRING", "device": "STRING", "tags": "STRING", "user": "STRING",
             "latency": "LONG"}
    return native.Table(stored, types, SEGMENT_ID)


def exact_sketch_answer(case, tbl):
    """Sketch cases: the exact values the sketches estimate, per the case's "exact" spec:
    {"distinct": column, "by": dimension or null, "median": column, "name": output}."""
    spec = case["exact"]
    query = case["query"]
    rows = native.selected_rows(query, tbl.rows)
    by = spec.get("by")
    groups = {}
    for row in rows:
        groups.setdefault(row[by] if by else None, []).append(row)

    def answers(group):
        result = {}
        for name, (kind, column) in spec["outputs"].items():
            values = [row[column] for row in group if row[column] is not None]
            if kind == "distinct":
                result[name] = float(len(set(values)))
            elif kind == "count":
                result[name] = len(values)
            elif kind == "median":
                ordered = sorted(values)
                result[name] = float(ordered[len(ordered) // 2])
            else:
                raise ValueError(f"unknown exact kind {kind}")
        return result

    (interval_start, interval_end), = native.parse_intervals(query)
    if query["queryType"] == "timeseries":
        # Granularity all: stamped with the first row time inside the interval (the query
        # interval clipped to the data), filtered or not.
        first = min(row["__time"] for row in tbl.rows
                    if interval_start <= row["__time"] < interval_end)
        return [{"timestamp": native.format_time(first), "result": answers(rows)}]
    if query["queryType"] == "groupBy":
        return [{"version": "v1", "timestamp": native.format_time(interval_start),
                 "event": {by: key, **answers(group)}}
                for key, group in sorted(groups.items(), key=lambda item: native.null_first(item[0]))]
    raise ValueError("sketch cases are timeseries or groupBy")


def main():
    check = "--check" in sys.argv[1:]
    rows = generate()
    payload = data_bytes(rows)
    stale = 0
    if not DATA.exists() or DATA.read_bytes() != payload:
        stale += 1
        if check:
            print(f"{DATA.name} is out of date")
        else:
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            DATA.write_bytes(payload)
            print(f"wrote {DATA.name}")
    tbl = table(rows)

    def answer(_path, case):
        if "exact" in case:
            return exact_sketch_answer(case, tbl)
        return native.run(case["query"], tbl)

    stale += native.update_cases(CASES, DATASOURCE, answer, check)
    if check and stale:
        sys.exit(1)


if __name__ == "__main__":
    main()
