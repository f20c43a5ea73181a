#!/usr/bin/env python3
"""Writes the Parquet fixtures of src/cf/factors_import.rs's tests, in the exact schema Spark
MLlib's ALS writes `itemFactors` with (Spark 3.x, spark.sql.parquet.writeLegacyFormat=false):

    message spark_schema {
      required int32 id;
      optional group features (LIST) {
        repeated group list {
          required float element;
        }
      }
    }

Snappy compression and version-1 data pages, as Spark writes by default.
Values: item `id` has features[k] = id / 8 + k - 1.5 (exact in float32).

    python3 -m venv /tmp/venv-pyarrow && /tmp/venv-pyarrow/bin/pip install pyarrow
    /tmp/venv-pyarrow/bin/python tests/data/cf/make_parquet_fixture.py
"""
import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

HERE = pathlib.Path(__file__).parent
FACTORS = 4
SPARK_SCHEMA = {
    "type": "struct",
    "fields": [
        {"name": "id", "type": "integer", "nullable": False, "metadata": {}},
        {
            "name": "features",
            "type": {"type": "array", "elementType": "float", "containsNull": False},
            "nullable": True,
            "metadata": {},
        },
    ],
}
SCHEMA = pa.schema(
    [
        pa.field("id", pa.int32(), nullable=False),
        pa.field("features", pa.list_(pa.field("element", pa.float32(), nullable=False))),
    ],
    metadata={
        "org.apache.spark.version": "3.5.1",
        "org.apache.spark.sql.parquet.row.metadata": json.dumps(SPARK_SCHEMA),
    },
)


def table(ids):
    features = [[i / 8 + k - 1.5 for k in range(FACTORS)] for i in ids]
    return pa.table({"id": pa.array(ids, pa.int32()), "features": features}, schema=SCHEMA)


def write(t, path, row_group_size):
    pq.write_table(
        t,
        path,
        compression="snappy",
        data_page_version="1.0",
        use_compliant_nested_type=True,
        row_group_size=row_group_size,
    )


# One file, two row groups, ids in no particular order.
write(table([10, 3, 7, 42, 0]), HERE / "item_factors.parquet", row_group_size=3)
# A Spark output folder: part files, a _SUCCESS marker.
parts = HERE / "itemFactors"
parts.mkdir(exist_ok=True)
write(table([5, 1, 9]), parts / "part-00000-c000.snappy.parquet", row_group_size=1024)
write(table([2, 8]), parts / "part-00001-c000.snappy.parquet", row_group_size=1024)
(parts / "_SUCCESS").write_bytes(b"")
print(pq.read_schema(HERE / "item_factors.parquet"))
print(pq.ParquetFile(HERE / "item_factors.parquet").schema)
