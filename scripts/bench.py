"""The benchmark runner behind scripts/bench: Henge against DuckDB on the generated events.

Steps: generate the dataset with `henge bench gen` (cached by rows and seed in .bench-data/),
convert it to Parquet with DuckDB, start `henge quickstart` (no demo data, temp data dir, a
free loopback port), ingest through the task API and time it, load DuckDB (file-backed,
threads = cores) from the Parquet file, check both engines against the checksums and every
query's answers against each other (exits non-zero with a diff otherwise), then time 1 cold +
5 hot runs of each query, alternating engines, and print the table.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from bench_compare import diff, native_rows, sql_rows

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "bench" / "queries"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
HENGE = Path(os.environ.get("HENGE_BIN", TARGET / "release" / "henge"))
# Broker caches by mode: off; per-segment only; the result-level cache (which answers first).
CACHE_CONTEXT = {
    "off": {"useCache": False, "populateCache": False},
    "segment": {"useResultLevelCache": False, "populateResultLevelCache": False},
    "result": {},
}


def log(message):
    print(f"== {message}", file=sys.stderr, flush=True)


def fail(message):
    print(f"BENCH FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def dataset(rows, seed):
    out = ROOT / ".bench-data" / f"rows-{rows}-seed-{seed}"
    if not (out / "checksums.json").exists():
        log(f"generating {rows} rows into {out}")
        started = time.monotonic()
        subprocess.run([HENGE, "bench", "gen", "--rows", str(rows), "--seed", str(seed),
                        "--out", out], check=True, stdout=subprocess.DEVNULL)
        log(f"generated in {time.monotonic() - started:.1f} s")
    parquet = out / "events.parquet"
    if not parquet.exists():
        log("writing events.parquet with DuckDB")
        con = duckdb.connect()
        con.execute(f"""COPY (SELECT epoch_ms(ts) AS __time, country, device, campaign, page,
                user_id, clicks, revenue, latency_ms
            FROM read_json('{out / 'events.json'}', format = 'newline_delimited',
                columns = {{ts: 'BIGINT', country: 'VARCHAR', device: 'VARCHAR',
                campaign: 'VARCHAR', page: 'VARCHAR', user_id: 'VARCHAR', clicks: 'BIGINT',
                revenue: 'DOUBLE', latency_ms: 'BIGINT'}}))
            TO '{parquet}.tmp' (FORMAT parquet)""")
        con.close()
        os.replace(f"{parquet}.tmp", parquet)
    return out, json.loads((out / "checksums.json").read_text())


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Henge:
    def __init__(self, data_dir, allow_dir, rows):
        self.port = free_port()
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(data_dir / "henge.log", "wb")
        self.process = subprocess.Popen(
            # Q9's inner groupBy holds one group per distinct user_id (up to the row count):
            # the in-memory group limit (default 1 M) must allow it, as Druid's
            # maxResults would have to.
            [HENGE, "quickstart", "--demo-rows", "0", "--http-port", str(self.port),
             "--data-dir", data_dir, "--allow-dir", allow_dir,
             "--groupby-max-rows", str(max(1_000_000, rows))],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.conn = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                fail(f"henge exited with {self.process.returncode}; see {data_dir}/henge.log")
            try:
                if self.request("GET", "/status/health") is True:
                    return
            except (OSError, RuntimeError):
                self.conn = None
            time.sleep(0.2)
        fail("henge did not become healthy in 60 s")

    def request(self, method, path, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn = None
            raise
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:2000]!r}")
        return json.loads(data)

    def query(self, native, cache="off"):
        body = dict(native)
        body["context"] = {**native.get("context", {}), **CACHE_CONTEXT[cache]}
        return self.request("POST", "/druid/v2", body)

    def proc_status(self, field):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def ingest(henge, data, rows):
    spec = json.loads((data / "spec.json").read_text())
    cpu_before = henge.cpu_seconds()
    started = time.monotonic()
    task = henge.request("POST", "/druid/indexer/v1/task", spec)["task"]
    while True:
        status = henge.request("GET", f"/druid/indexer/v1/task/{task}/status")["status"] or {}
        state = status.get("status") or status.get("statusCode")
        if state == "SUCCESS":
            break
        if state == "FAILED":
            fail(f"ingestion task failed: {status}")
        time.sleep(0.1)
    task_seconds = time.monotonic() - started
    cpu = henge.cpu_seconds() - cpu_before
    count_query = json.loads((QUERIES / "q6.json").read_text())
    count_query = {key: count_query[key] for key in ("queryType", "dataSource", "intervals",
                                                    "granularity")}
    count_query["aggregations"] = [{"type": "count", "name": "count"}]
    while True:
        result = henge.query(count_query)
        if result and result[0]["result"]["count"] == rows:
            break
        if time.monotonic() - started > 600:
            fail(f"only {result} rows queryable after 600 s")
        time.sleep(0.1)
    return task_seconds, time.monotonic() - started, cpu


def check_checksums(henge, con, checksums):
    native = json.loads((QUERIES / "q6.json").read_text())
    native.pop("filter")
    native["aggregations"] = [
        {"type": "count", "name": "count"},
        {"type": "longSum", "name": "sum_clicks", "fieldName": "clicks"},
        {"type": "doubleSum", "name": "sum_revenue", "fieldName": "revenue"},
        {"type": "longSum", "name": "sum_latency_ms", "fieldName": "latency_ms"}]
    expected = [{k: checksums[k] for k in ("count", "sum_clicks", "sum_revenue",
                                           "sum_latency_ms")}]
    problems = diff(expected, native_rows(native, henge.query(native)), True)
    if problems:
        fail("Henge does not reproduce the checksums:\n  " + "\n  ".join(problems))
    sql = """SELECT count(*) AS "count", sum(clicks) AS sum_clicks, sum(revenue) AS sum_revenue,
        sum(latency_ms) AS sum_latency_ms FROM events"""
    problems = diff(expected, sql_rows(con.execute(sql)), True)
    distinct = ", ".join(f"count(DISTINCT {c}) AS {c}" for c in checksums["distinct"])
    problems += diff([checksums["distinct"]],
                     sql_rows(con.execute(f"SELECT {distinct} FROM events")), True)
    if problems:
        fail("DuckDB does not reproduce the checksums:\n  " + "\n  ".join(problems))


def timed(run):
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--hot", type=int, default=5, help="hot runs per query and engine")
    args = parser.parse_args()
    cores = os.cpu_count()
    data, checksums = dataset(args.rows, args.seed)
    suite = json.loads((QUERIES / "suite.json").read_text())["queries"]
    for query in suite:
        query["native"] = json.loads((QUERIES / f"{query['id']}.json").read_text())
        query["sql"] = (QUERIES / f"{query['id']}.sql").read_text()

    work = Path(tempfile.mkdtemp(prefix="henge-bench-"))
    henge = Henge(work / "henge", data, args.rows)
    try:
        log("ingesting into Henge through the task API")
        task_s, queryable_s, ingest_cpu = ingest(henge, data, args.rows)
        rss_after_ingest = henge.proc_status("VmRSS")
        log(f"DuckDB: loading events.parquet (threads = {cores})")
        con = duckdb.connect(str(work / "events.duckdb"))
        con.execute(f"SET threads = {cores}")
        duck_load_s = timed(lambda: con.execute(
            f"CREATE TABLE events AS SELECT * FROM read_parquet('{data / 'events.parquet'}')"
        )) / 1000
        con.execute("CHECKPOINT")
        log("checking checksums and answers")
        check_checksums(henge, con, checksums)
        for query in suite:
            # The first (cold) run of each query is the one whose answer is checked.
            answers = {}
            cold_henge = timed(lambda: answers.update(henge=henge.query(query["native"])))
            cold_duck = timed(lambda: answers.update(duck=con.execute(query["sql"]).fetchall()))
            query["cold"] = (cold_henge, cold_duck)
            henge_rows = native_rows(query["native"], answers["henge"])
            duck_rows = sql_rows(con.execute(query.get("check_sql", query["sql"])))
            problems = diff(duck_rows, henge_rows, query["ordered"], query.get("approximate"))
            if problems:
                fail(f"{query['id']} ({query['title']}): answers differ:\n  "
                     + "\n  ".join(problems))
        log(f"answers agree on all {len(suite)} queries; timing {args.hot} hot runs each")
        for query in suite:
            native, sql = query["native"], query["sql"]
            run_henge = lambda: henge.query(native)  # noqa: E731
            run_duck = lambda: con.execute(sql).fetchall()  # noqa: E731
            query["henge"], query["duck"] = [], []
            for _ in range(args.hot):
                query["henge"].append(timed(run_henge))
                query["duck"].append(timed(run_duck))
            for mode in ("segment", "result"):
                henge.query(native, cache=mode)
                query[mode] = min(timed(lambda: henge.query(native, cache=mode))
                                  for _ in range(3))
        peak_rss = henge.proc_status("VmHWM")
        segment_bytes = sum(f.stat().st_size for f in (work / "henge" / "deep-storage").rglob("*")
                            if f.is_file())
        con.close()
    finally:
        henge.stop()
    report(args, cores, suite, task_s, queryable_s, ingest_cpu, rss_after_ingest, peak_rss,
           duck_load_s, segment_bytes, (data / "events.parquet").stat().st_size)
    shutil.rmtree(work, ignore_errors=True)


def report(args, cores, suite, task_s, queryable_s, ingest_cpu, rss_after_ingest, peak_rss,
           duck_load_s, segment_bytes, parquet_bytes):
    rows = args.rows
    print(f"\nHenge vs DuckDB {duckdb.__version__}: {rows:,} rows, seed {args.seed}, {cores} cores,"
          f" load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print("times in ms over HTTP (Henge, broker cache off) and the Python API (DuckDB); "
          f"1 cold + {args.hot} hot runs\n")
    print("| query | Henge min | Henge median | DuckDB min | DuckDB median | Henge/DuckDB "
          "| Henge rows/s | DuckDB rows/s | cold Henge | cold DuckDB | Henge segment cache "
          "| Henge result cache |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for query in suite:
        h_med, d_med = statistics.median(query["henge"]), statistics.median(query["duck"])
        print(f"| {query['id']} {query['title']} | {min(query['henge']):.1f} | {h_med:.1f} "
              f"| {min(query['duck']):.1f} | {d_med:.1f} | {h_med / d_med:.2f}x "
              f"| {rows / h_med * 1000 / 1e6:.0f} M | {rows / d_med * 1000 / 1e6:.0f} M "
              f"| {query['cold'][0]:.1f} | {query['cold'][1]:.1f} | {query['segment']:.1f} "
              f"| {query['result']:.1f} |")
    print(f"\nHenge ingestion (index_parallel, rollup off): task {task_s:.2f} s "
          f"({rows / task_s:,.0f} rows/s, {rows / task_s / cores:,.0f} rows/s/core over "
          f"{cores} cores; {rows / max(ingest_cpu, 1e-9):,.0f} rows per CPU-second, "
          f"{ingest_cpu:.2f} CPU-s); all rows queryable after {queryable_s:.2f} s")
    print(f"DuckDB load from Parquet: {duck_load_s:.2f} s ({rows / duck_load_s:,.0f} rows/s)")
    print(f"Henge RSS after ingestion {rss_after_ingest / 2**20:.0f} MiB, peak (VmHWM) "
          f"{peak_rss / 2**20:.0f} MiB")
    print(f"Segments in deep storage {segment_bytes / 2**20:.1f} MiB vs events.parquet "
          f"{parquet_bytes / 2**20:.1f} MiB ({segment_bytes / parquet_bytes:.2f}x)")


if __name__ == "__main__":
    main()
