"""Expected rows of cluster-tests/cases/sql/system.slt: SELECT without FROM, aggregates over
INFORMATION_SCHEMA and over sys.segments, worked out from the SQL's meaning, the raw
wikiticker rows and wikipedia-index.json (one DAY segment per day with rows, no rollup, so
each segment holds that day's raw rows; dimensions as wiki.STRING_DIMS and wiki.LONG_DIMS).
"""

from collections import Counter

import druid_native as native
import wikiticker_expected as wiki

DAY = 86_400_000


def answers(rows):
    days = Counter(row["__time"] // DAY for row in rows)
    # INFORMATION_SCHEMA.COLUMNS of wikipedia: __time TIMESTAMP, strings VARCHAR, longs BIGINT.
    types = {"TIMESTAMP": ["__time"], "VARCHAR": list(wiki.STRING_DIMS), "BIGINT": list(wiki.LONG_DIMS)}
    by_count = sorted(
        ((kind, names) for kind, names in types.items() if len(names) > 1),
        key=lambda pair: -len(pair[1]),
    )
    assert len({len(names) for _, names in by_count}) == len(by_count), "tie in ORDER BY n"
    return {
        "system_select_one": [[1]],
        "system_select_without_from": [[1 + 1, "a", 7 // 2, True]],
        "system_has_table_wikipedia": [[True]],
        "system_has_table_missing": [[False]],
        # Druid's system schemas: INFORMATION_SCHEMA (SCHEMATA, TABLES,
        # COLUMNS) and sys (segments, servers, server_segments, tasks, supervisors).
        "system_tables_per_schema": [["INFORMATION_SCHEMA", 3], ["sys", 5]],
        "system_wikipedia_column_types": [
            [kind, len(names), min(names), max(names)] for kind, names in by_count
        ],
        "system_segments_wikipedia": [
            [
                "wikipedia",
                len(days),
                len(rows),
                native.format_time(min(days) * DAY),
                native.format_time((max(days) + 1) * DAY),
            ]
        ],
        # Every published wikipedia segment is served, not realtime, not overshadowed.
        "system_segments_wikipedia_flags": [[1, 1, 0, 0, 1, len(days)]],
    }
