#!/usr/bin/env python3
"""Same-run baselines for the auditlog query benchmark: DuckDB (NDJSON, Parquet) and jq.

It answers the same 8 questions as our engine, over the same NDJSON file, and
prints latencies and answers as one JSON object on stdout (progress on stderr)
so the Rust benchmark can compare answers and report ratios.

Usage:
    pip install -r scripts/requirements-bench.txt      # duckdb, pinned
    apt-get install -y jq                              # or use --no-jq
    python3 scripts/query_baselines.py --ndjson data.ndjson --params params.json \\
        [--parquet data.parquet] [--rebuild-parquet] [--rounds 5] \\
        [--jq-subset 100000] [--jq-subset-mode head|stride] [--rounds-jq 1] [--no-jq] \\
        [--queries q1,q5] [--ids-dir DIR] [--threads N] [--parquet-compression snappy]
    python3 scripts/query_baselines.py --ndjson data.ndjson --suggest-params > params.json

Parameters (--params, a JSON object of strings):
    q1  method, t_from, t_to     data.methodName = method AND t_from <= time < t_to
    q2  scope                    target CRN = scope OR starts with scope + "/"
    q3  principal                the principal's id = principal
    q4  env, day_from, day_to    result.status = FAILURE AND environment = env AND day_from <= time < day_to
    q5  text                     free-text word (see "Free text" below)
    q6  -                        count by method, all records
    q7  r_from, r_to             count by result.status, r_from <= time < r_to
    q8  -                        top 10 principals by count, all records
Times are RFC 3339; they are compared at nanosecond precision, in UTC.

What each field means (mirrors auditlog_model::record / fields.rs, both wire forms):
    method       data.methodName | data.method_name (as written)
    status       data.result.status
    principal    the id of authenticationInfo|authentication_info .principal: a string
                 ("User:" prefix removed) or the first of confluentUser, confluentServiceAccount,
                 identityPool, group (.resourceId|.resource_id), externalAccount.subject,
                 confluentInternal (each in camelCase or snake_case), "User:" prefix removed.
                 q3 matches this id. q8 groups by the engine's dense principal value: the first
                 non-empty of (id, principal.email, authenticationInfo.identity).
    target CRN   data.resourceName | data.resource_name if it starts with crn://, else `subject`.
                 Compared as written (our engine canonicalizes CRNs; generated CRNs already are).
    environment  the value of the first `environment=` segment of the target CRN, else the
                 resourceId of the first ENVIRONMENT entry in cloudResources[].scope.resources[]
                 / cloudResources[].resource (organization likewise). Not percent-decoded.
    time         top-level `time`. `Z` times are cast directly; other offsets are handled on a
                 slower path.

Free text (q5): our engine's words are the maximal alphanumeric runs of string (and number)
values, lower-cased; member names are not words. The baselines instead do a case-insensitive
match of the word on the raw JSON line, bounded by non-letters/digits (Unicode classes):
    (?i)(^|[^\\p{L}\\p{N}])WORD($|[^\\p{L}\\p{N}])
after a cheap case-insensitive substring prefilter (DuckDB ILIKE '%word%', jq test(word; "i")).
This agrees with the engine unless the word occurs only in a member name (e.g. "name"), or is
glued to a JSON escape (e.g. "\\nword", "\\u00e9"; generated records are canonical JSON, which
escapes only control characters). The script warns on stderr when the word is a member-name
word in the first lines of the file.

Engines:
    ndjson   DuckDB read_json(format='newline_delimited') with an explicit schema holding both
             spellings (unknown members ignored); q5 reads raw lines with read_ndjson_objects.
             The file is re-read on every round.
    parquet  DuckDB over a Parquet file built from the NDJSON with COPY ... TO (FORMAT parquet):
             flattened columns id, time (TIMESTAMP_NS: generated times carry nanoseconds),
             method, principal (dense value as above), principal_id, status, organization,
             environment, resource (target CRN), raw (the JSON line), sorted by time; snappy
             (DuckDB's default) unless --parquet-compression; default row groups (122,880
             rows, so files under ~120k records scan on one thread).
             Built when missing or older than the NDJSON (or with --rebuild-parquet); build
             time and size are reported.
    jq       jq 1.6+ over the first --jq-subset lines (all lines if the file is smaller; with
             --jq-subset-mode stride, every k-th line instead, which keeps the selectivity of
             time-window queries on time-ordered files), run --rounds-jq times per query
             (default 1, median reported); raw time and time scaled by lines / subset lines.
             Its answers are checked against DuckDB over the same subset (untimed).

DuckDB runs every query once to warm up, then --rounds times (default 5), on one fresh
connection per engine with DuckDB's default thread count. p50 is the median; p99 is the
nearest-rank 99th percentile, which is the maximum when rounds < 100 (the output says so).
Timings include fetching every result row into Python (q1-q5 fetch every matching id).

Answers: q1-q5 report "rows" and "ids_fnv1a64_sum": the wrapping (mod 2^64) sum over matching
records of the 64-bit FNV-1a hash of the UTF-8 `id` (order-independent, so any engine can
reproduce it), as 16 hex digits. With --ids-dir the sorted ids are written one per line to
DIR/<query>.<engine>.txt. q6-q8 report "groups": [[key, count], ...] ordered by count
descending then key ascending (a null key first); q8 keeps the first 10 in that order.

Exit status: 0 on success, 1 if the engines disagree, 2 if duckdb or jq is missing or the
arguments are bad.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

QUERIES = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8"]
ID_QUERIES = {"q1", "q2", "q3", "q4", "q5"}
PARAM_KEYS = {
    "q1": ["method", "t_from", "t_to"],
    "q2": ["scope"],
    "q3": ["principal"],
    "q4": ["env", "day_from", "day_to"],
    "q5": ["text"],
    "q6": [],
    "q7": ["r_from", "r_to"],
    "q8": [],
}
MAX_OBJECT = 64 * 1024 * 1024


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Dependencies


def require_tools(need_jq: bool):
    missing = []
    try:
        import duckdb  # noqa: F401
    except ImportError:
        missing.append("duckdb: pip install -r scripts/requirements-bench.txt  (or: pip install duckdb)")
    if need_jq and shutil.which("jq") is None:
        missing.append("jq: apt-get install -y jq  (or pass --no-jq)")
    if missing:
        print("query_baselines.py: missing dependencies:", file=sys.stderr)
        for m in missing:
            print("  " + m, file=sys.stderr)
        sys.exit(2)
    import duckdb

    return duckdb


# ---------------------------------------------------------------------------
# Times

RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_time(s: str) -> tuple[int, str]:
    """An RFC 3339 time as (nanoseconds since the epoch, canonical UTC text with 9 digits)."""
    m = RFC3339.match(s)
    if not m:
        raise ValueError(f"{s!r} is not an RFC 3339 date-time")
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    frac = int(((m.group(7) or "") + "000000000")[:9])
    z = m.group(8)
    off = 0
    if z not in ("Z", "z"):
        sign = -1 if z[0] == "-" else 1
        off = sign * (int(z[1:3]) * 3600 + int(z[4:6]) * 60)
    secs = calendar.timegm((y, mo, d, h, mi, se, 0, 0, 0)) - off
    text = (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%S")
    return secs * 1_000_000_000 + frac, f"{text}.{frac:09d}Z"


def ns_to_text(ns: int) -> str:
    secs, frac = divmod(ns, 1_000_000_000)
    text = (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{frac:09d}Z"


# ---------------------------------------------------------------------------
# Answers


FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


def fnv1a64(b: bytes) -> int:
    h = FNV_OFFSET
    for x in b:
        h = ((h ^ x) * FNV_PRIME) & MASK64
    return h


def id_digest(ids) -> str:
    total = 0
    for i in ids:
        if i is not None:
            total = (total + fnv1a64(str(i).encode())) & MASK64
    return f"{total:016x}"


def sort_groups(rows, limit=None):
    g = sorted(
        ([k, int(n)] for k, n in rows),
        key=lambda kv: (-kv[1], kv[0] is not None, kv[0] if kv[0] is not None else ""),
    )
    return g[:limit] if limit else g


def summarize(q: str, result) -> dict:
    if q in ID_QUERIES:
        return {"rows": len(result), "ids_fnv1a64_sum": id_digest(result)}
    return {"rows": len(result), "groups": result}


def same_answer(a: dict, b: dict) -> bool:
    if "groups" in a or "groups" in b:
        return a.get("groups") == b.get("groups")
    return a.get("rows") == b.get("rows") and a.get("ids_fnv1a64_sum") == b.get("ids_fnv1a64_sum")


def percentiles(ms: list[float]) -> dict:
    s = sorted(ms)
    n = len(s)
    p50 = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    p99 = s[max(0, math.ceil(0.99 * n) - 1)]
    return {"p50_ms": round(p50, 3), "p99_ms": round(p99, 3), "min_ms": round(s[0], 3), "rounds": n}


# ---------------------------------------------------------------------------
# DuckDB

# Macros shared by the NDJSON queries and the Parquet build. JSON arguments are
# DuckDB JSON values (the principal, cloudResources). json_extract(x, path) rather
# than x->path where the result is a function argument: DuckDB 2 may read
# `f(x->'…')` as a lambda.
MACROS = r"""
CREATE OR REPLACE TEMP MACRO al_ts_slow(t) AS CASE
    WHEN upper(t)[-1:] = 'Z' THEN epoch_ns(TRY_CAST(upper(t) AS TIMESTAMP_NS))
    WHEN regexp_matches(t, '[+-][0-9]{2}:[0-9]{2}$') THEN
        epoch_ns(TRY_CAST(upper(t[:-7]) AS TIMESTAMP_NS))
        - (CASE WHEN t[-6:-6] = '-' THEN -1 ELSE 1 END)
          * (TRY_CAST(t[-5:-4] AS BIGINT) * 3600 + TRY_CAST(t[-2:] AS BIGINT) * 60) * 1000000000
    ELSE NULL END;
CREATE OR REPLACE TEMP MACRO al_ts(t) AS CASE
    WHEN t[-1:] = 'Z' THEN epoch_ns(TRY_CAST(t AS TIMESTAMP_NS))
    ELSE al_ts_slow(t) END;
CREATE OR REPLACE TEMP MACRO al_strip_user(s) AS
    CASE WHEN starts_with(s, 'User:') THEN s[6:] ELSE s END;
CREATE OR REPLACE TEMP MACRO al_rid(o) AS coalesce(o->>'$.resourceId', o->>'$.resource_id');
CREATE OR REPLACE TEMP MACRO al_pid(p) AS al_strip_user(CASE
    WHEN json_type(p) = 'VARCHAR' THEN p->>'$'
    ELSE coalesce(
        al_rid(coalesce(json_extract(p, '$.confluentUser'), json_extract(p, '$.confluent_user'))),
        al_rid(coalesce(json_extract(p, '$.confluentServiceAccount'), json_extract(p, '$.confluent_service_account'))),
        al_rid(coalesce(json_extract(p, '$.identityPool'), json_extract(p, '$.identity_pool'))),
        al_rid(json_extract(p, '$.group')),
        json_extract_string(coalesce(json_extract(p, '$.externalAccount'), json_extract(p, '$.external_account')), '$.subject'),
        coalesce(p->>'$.confluentInternal', p->>'$.confluent_internal'))
    END);
CREATE OR REPLACE TEMP MACRO al_pkey(p, identity) AS coalesce(
    nullif(al_pid(p), ''), nullif(p->>'$.email', ''), nullif(identity, ''));
CREATE OR REPLACE TEMP MACRO al_crn(rn, subj) AS CASE
    WHEN starts_with(rn, 'crn://') THEN rn
    WHEN starts_with(subj, 'crn://') THEN subj
    ELSE NULL END;
CREATE OR REPLACE TEMP MACRO al_scoped(cr, ty) AS CASE WHEN contains(cr::VARCHAR, ty) THEN al_rid(list_filter(
    flatten(list_transform(json_extract(cr, '$[*]'), lambda c: list_concat(
        coalesce(json_extract(c, '$.scope.resources[*]'), []::JSON[]),
        [json_extract(c, '$.resource')]))),
    lambda x: (x->>'$.type') = ty)[1]) END;
CREATE OR REPLACE TEMP MACRO al_env(crn, cr) AS CASE
    WHEN contains(crn, '/environment=') THEN nullif(regexp_extract(crn, '/environment=([^/]+)', 1), '')
    ELSE al_scoped(cr, 'ENVIRONMENT') END;
CREATE OR REPLACE TEMP MACRO al_org(crn, cr) AS CASE
    WHEN contains(crn, '/organization=') THEN nullif(regexp_extract(crn, '/organization=([^/]+)', 1), '')
    ELSE al_scoped(cr, 'ORGANIZATION') END;
"""

# Both wire forms in one schema; members not named here are skipped by the reader.
NDJSON_COLUMNS = {
    "id": "VARCHAR",
    "time": "VARCHAR",
    "subject": "VARCHAR",
    "data": "STRUCT("
    "methodName VARCHAR, method_name VARCHAR, "
    "resourceName VARCHAR, resource_name VARCHAR, "
    "result STRUCT(status VARCHAR), "
    "authenticationInfo STRUCT(principal JSON, identity VARCHAR), "
    "authentication_info STRUCT(principal JSON, identity VARCHAR), "
    "cloudResources JSON, cloud_resources JSON)",
}


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def duck_struct(cols: dict) -> str:
    return "{" + ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in cols.items()) + "}"


def ndjson_src(path: str) -> str:
    return (
        f"read_json({sql_str(path)}, format='newline_delimited', records=true, "
        f"columns={duck_struct(NDJSON_COLUMNS)}, maximum_object_size={MAX_OBJECT})"
    )


def raw_src(path: str) -> str:
    return f"read_ndjson_objects({sql_str(path)}, maximum_object_size={MAX_OBJECT})"


# Derived NDJSON columns (expressions over one read_json row).
N_METHOD = "coalesce(data.methodName, data.method_name)"
N_PRINCIPAL = "coalesce(data.authenticationInfo.principal, data.authentication_info.principal)"
N_IDENTITY = "coalesce(data.authenticationInfo.identity, data.authentication_info.identity)"
N_CRN = "al_crn(coalesce(data.resourceName, data.resource_name), subject)"
N_CR = "coalesce(data.cloudResources, data.cloud_resources)"
N_STATUS = "data.result.status"


def text_regex(word: str) -> str:
    return r"(?i)(^|[^\p{L}\p{N}])" + re.escape(word) + r"($|[^\p{L}\p{N}])"


def ndjson_sql(q: str, path: str, p: dict) -> tuple[str, list]:
    src = ndjson_src(path)
    if q == "q1":
        return (
            f"SELECT id FROM {src} WHERE {N_METHOD} = ? AND al_ts(time) >= ? AND al_ts(time) < ?",
            [p["method"], p["t_from_ns"], p["t_to_ns"]],
        )
    if q == "q2":
        return (
            f"SELECT id FROM {src} WHERE {N_CRN} = ? OR starts_with({N_CRN}, ?)",
            [p["scope"], p["scope_prefix"]],
        )
    if q == "q3":
        return f"SELECT id FROM {src} WHERE al_pid({N_PRINCIPAL}) = ?", [p["principal"]]
    if q == "q4":
        return (
            f"SELECT id FROM {src} WHERE {N_STATUS} = 'FAILURE' "
            f"AND al_ts(time) >= ? AND al_ts(time) < ? AND al_env({N_CRN}, {N_CR}) = ?",
            [p["day_from_ns"], p["day_to_ns"], p["env"]],
        )
    if q == "q5":
        return (
            f"SELECT json->>'$.id' FROM {raw_src(path)} "
            f"WHERE json::VARCHAR ILIKE ? AND regexp_matches(json::VARCHAR, ?)",
            [p["text_like"], p["text_re"]],
        ) if p["text"].isascii() else (
            f"SELECT json->>'$.id' FROM {raw_src(path)} WHERE regexp_matches(json::VARCHAR, ?)",
            [p["text_re"]],
        )
    if q == "q6":
        return f"SELECT {N_METHOD} AS k, count(*) AS n FROM {src} GROUP BY k", []
    if q == "q7":
        return (
            f"SELECT {N_STATUS} AS k, count(*) AS n FROM {src} "
            f"WHERE al_ts(time) >= ? AND al_ts(time) < ? GROUP BY k",
            [p["r_from_ns"], p["r_to_ns"]],
        )
    if q == "q8":
        return (
            f"SELECT al_pkey({N_PRINCIPAL}, {N_IDENTITY}) AS k, count(*) AS n FROM {src} "
            f"GROUP BY k ORDER BY n DESC, k ASC NULLS FIRST LIMIT 10",
            [],
        )
    raise KeyError(q)


def parquet_sql(q: str, path: str, p: dict) -> tuple[str, list]:
    src = f"read_parquet({sql_str(path)})"
    if q == "q1":
        return (
            f"SELECT id FROM {src} WHERE method = ? AND time >= make_timestamp_ns(?) "
            f"AND time < make_timestamp_ns(?)",
            [p["method"], p["t_from_ns"], p["t_to_ns"]],
        )
    if q == "q2":
        return (
            f"SELECT id FROM {src} WHERE resource = ? OR starts_with(resource, ?)",
            [p["scope"], p["scope_prefix"]],
        )
    if q == "q3":
        return f"SELECT id FROM {src} WHERE principal_id = ?", [p["principal"]]
    if q == "q4":
        return (
            f"SELECT id FROM {src} WHERE status = 'FAILURE' AND environment = ? "
            f"AND time >= make_timestamp_ns(?) AND time < make_timestamp_ns(?)",
            [p["env"], p["day_from_ns"], p["day_to_ns"]],
        )
    if q == "q5":
        return (
            f"SELECT id FROM {src} WHERE raw ILIKE ? AND regexp_matches(raw, ?)",
            [p["text_like"], p["text_re"]],
        ) if p["text"].isascii() else (
            f"SELECT id FROM {src} WHERE regexp_matches(raw, ?)",
            [p["text_re"]],
        )
    if q == "q6":
        return f"SELECT method AS k, count(*) AS n FROM {src} GROUP BY k", []
    if q == "q7":
        return (
            f"SELECT status AS k, count(*) AS n FROM {src} "
            f"WHERE time >= make_timestamp_ns(?) AND time < make_timestamp_ns(?) GROUP BY k",
            [p["r_from_ns"], p["r_to_ns"]],
        )
    if q == "q8":
        return (
            f"SELECT principal AS k, count(*) AS n FROM {src} "
            f"GROUP BY k ORDER BY n DESC, k ASC NULLS FIRST LIMIT 10",
            [],
        )
    raise KeyError(q)


def connect(duckdb, threads: int | None):
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for stmt in MACROS.split(";"):
        if stmt.strip():
            con.execute(stmt)
    return con


def run_sql(con, sql: str, args: list, q: str):
    rows = con.execute(sql, args).fetchall()
    if q in ID_QUERIES:
        return [r[0] for r in rows]
    return sort_groups(rows, 10 if q == "q8" else None)


def build_parquet(duckdb, ndjson: str, parquet: str, threads, compression: str) -> float:
    con = connect(duckdb, threads)
    paths = [
        "$.id", "$.time", "$.subject",
        "$.data.methodName", "$.data.method_name",
        "$.data.resourceName", "$.data.resource_name",
        "$.data.result.status",
        "$.data.authenticationInfo", "$.data.authentication_info",
        "$.data.cloudResources", "$.data.cloud_resources",
    ]
    plist = "[" + ", ".join(sql_str(x) for x in paths) + "]"
    tmp = parquet + ".tmp"
    sql = f"""
    COPY (
      WITH src AS (
        SELECT json::VARCHAR AS raw, json_extract(json, {plist}) AS v FROM {raw_src(ndjson)}
      ), f AS (
        SELECT raw,
          v[1]->>'$' AS id,
          v[2]->>'$' AS time_text,
          coalesce(v[4]->>'$', v[5]->>'$') AS method,
          al_crn(coalesce(v[6]->>'$', v[7]->>'$'), v[3]->>'$') AS resource,
          v[8]->>'$' AS status,
          coalesce(v[9]->'$.principal', v[10]->'$.principal') AS p,
          coalesce(v[9]->>'$.identity', v[10]->>'$.identity') AS identity,
          coalesce(v[11], v[12]) AS cr
        FROM src
      )
      SELECT id,
        make_timestamp_ns(al_ts(time_text)) AS time,
        method,
        al_pkey(p, identity) AS principal,
        al_pid(p) AS principal_id,
        status,
        al_org(resource, cr) AS organization,
        al_env(resource, cr) AS environment,
        resource,
        raw
      FROM f
      ORDER BY time NULLS LAST
    ) TO {sql_str(tmp)} (FORMAT parquet, COMPRESSION {compression})
    """
    t0 = time.perf_counter()
    con.execute(sql)
    elapsed = time.perf_counter() - t0
    con.close()
    os.replace(tmp, parquet)
    return elapsed


# ---------------------------------------------------------------------------
# jq

JQ_DEFS = r"""
def nt:
  if type != "string" then null
  elif length == 30 and .[29:] == "Z" and .[19:20] == "." then .
  else (try (ascii_upcase
        | capture("^(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?<h>[0-9]{2}:[0-9]{2}:[0-9]{2})(\\.(?<f>[0-9]+))?(?<z>Z|[+-][0-9]{2}:[0-9]{2})$")
        | (if .z == "Z" then 0
           else (if .z[0:1] == "-" then -1 else 1 end) * ((.z[1:3] | tonumber) * 3600 + (.z[4:6] | tonumber) * 60)
           end) as $off
        | (((.d + "T" + .h + "Z") | fromdateiso8601) - $off | todate)[0:19]
          + "." + (((.f // "") + "000000000")[0:9]) + "Z")
       catch null)
  end;
def str: if type == "string" then . else null end;
def meth: (.data?.methodName? // .data?.method_name?) | str;
def status: .data?.result?.status? | str;
def auth: (.data?.authenticationInfo? // .data?.authentication_info?) | if type == "object" then . else null end;
def rid: if type == "object" then (.resourceId // .resource_id) else null end;
def pid: (auth | .principal?) as $p
  | (if ($p | type) == "string" then $p
     elif ($p | type) == "object" then
       (($p.confluentUser // $p.confluent_user) | rid)
       // (($p.confluentServiceAccount // $p.confluent_service_account) | rid)
       // (($p.identityPool // $p.identity_pool) | rid)
       // ($p.group | rid)
       // (($p.externalAccount // $p.external_account) | if type == "object" then .subject else null end)
       // ($p.confluentInternal // $p.confluent_internal)
     else null end)
  | str | if . then ltrimstr("User:") else null end;
def nonempty: if type == "string" and . != "" then . else null end;
def pkey: (pid | nonempty) // (auth | .principal? | if type == "object" then .email else null end | nonempty)
          // (auth | .identity? | nonempty);
def crn: ((.data?.resourceName? // .data?.resource_name?) | str) as $rn | (.subject | str) as $s
  | if $rn and ($rn | startswith("crn://")) then $rn
    elif $s and ($s | startswith("crn://")) then $s
    else null end;
def seg($k): if type == "string"
  then ([split("/")[] | select(startswith($k + "="))][0] | if . then .[($k | length) + 1:] | nonempty else null end)
  else null end;
def scoped($ty): [ (.data?.cloudResources? // .data?.cloud_resources? // [])
    | if type == "array" then .[] else empty end
    | objects | (((.scope.resources? // []) | if type == "array" then .[] else empty end), .resource)
    | objects | select(.type == $ty) | rid ] | .[0];
def env: (crn | seg("environment")) // scoped("ENVIRONMENT");
def groups: to_entries | map([(if .key == "\u0000" then null else .key end), .value]) | sort_by(-.[1], .[0]);
"""

JQ_PROGRAMS = {
    "q1": (["-c"], 'select(meth == $method) | select((.time | nt) as $t | $t >= $t_from and $t < $t_to) | .id'),
    "q2": (["-c"], 'select(crn as $c | $c != null and ($c == $scope or ($c | startswith($scope_prefix)))) | .id'),
    "q3": (["-c"], 'select(pid == $principal) | .id'),
    "q4": (["-c"], 'select(status == "FAILURE") | select((.time | nt) as $t | $t >= $day_from and $t < $day_to) '
                   '| select(env == $env) | .id'),
    # A plain case-insensitive test first (jq 1.6's ascii_downcase is slow), then the bounded word.
    "q5": (["-c", "-R"], 'select(test($text; "i")) | select(test($text_re; "")) | fromjson | .id'),
    "q6": (["-c", "-n"], 'reduce (inputs | meth) as $k ({}; .[$k // "\\u0000"] += 1) | groups'),
    "q7": (["-c", "-n"], 'reduce (inputs | select((.time | nt) as $t | $t >= $r_from and $t < $r_to) | status) as $k '
                         '({}; .[$k // "\\u0000"] += 1) | groups'),
    "q8": (["-c", "-n"], 'reduce (inputs | pkey) as $k ({}; .[$k // "\\u0000"] += 1) | groups | .[0:10]'),
}


def jq_command(q: str, path: str, p: dict) -> list[str]:
    flags, body = JQ_PROGRAMS[q]
    prog = JQ_DEFS + body
    args = {
        "method": p.get("method"), "t_from": p.get("t_from_text"), "t_to": p.get("t_to_text"),
        "scope": p.get("scope"), "scope_prefix": p.get("scope_prefix"),
        "principal": p.get("principal"),
        "env": p.get("env"), "day_from": p.get("day_from_text"), "day_to": p.get("day_to_text"),
        "text": p.get("text"), "text_re": p.get("text_re_onig"),
        "r_from": p.get("r_from_text"), "r_to": p.get("r_to_text"),
    }
    cmd = ["jq"] + flags
    for k, v in args.items():
        cmd += ["--arg", k, "" if v is None else v]
    return cmd + [prog, path]


def run_jq(q: str, path: str, p: dict):
    r = subprocess.run(jq_command(q, path, p), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError(f"jq failed on {q}: {r.stderr.decode(errors='replace').strip()}")
    out = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    if q in ID_QUERIES:
        return out
    groups = out[0] if out else []
    return sort_groups([(k, n) for k, n in groups], 10 if q == "q8" else None)


# ---------------------------------------------------------------------------
# Parameters


def prepare_params(raw: dict, queries: list[str]) -> dict:
    missing = sorted({k for q in queries for k in PARAM_KEYS[q] if not isinstance(raw.get(k), str)})
    if missing:
        raise ValueError("params file lacks (string) keys: " + ", ".join(missing))
    p = dict(raw)
    for k in ("t_from", "t_to", "day_from", "day_to", "r_from", "r_to"):
        if isinstance(raw.get(k), str):
            ns, text = parse_time(raw[k])
            p[k + "_ns"], p[k + "_text"] = ns, text
    if "scope" in raw:
        s = raw["scope"]
        p["scope_prefix"] = s if s.endswith("/") else s + "/"
    if "text" in raw:
        words = re.findall(r"\w+", raw["text"])
        w = raw["text"].lower()
        if len(words) != 1 or not all(c.isalnum() for c in w):
            raise ValueError(f"text must be one alphanumeric word, got {raw['text']!r}")
        p["text"] = w
        p["text_re"] = text_regex(w)  # RE2 (DuckDB)
        p["text_like"] = f"%{w}%"  # ASCII-only prefilter; the word is alphanumeric, so no escapes
        # Oniguruma (jq): the same classes; case-insensitive via (?i).
        p["text_re_onig"] = r"(?i)(^|[^\p{L}\p{N}])" + re.escape(w) + r"($|[^\p{L}\p{N}])"
    return p


def member_name_words(path: str, limit: int = 2000) -> set[str]:
    words: set[str] = set()

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                words.update(w.lower() for w in re.findall(r"[^\W_]+", k))
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= limit:
                break
            try:
                walk(json.loads(line))
            except ValueError:
                pass
    return words


def suggest_params(duckdb, path: str, threads) -> dict:
    con = connect(duckdb, threads)
    src = ndjson_src(path)
    t_min, t_max = con.execute(f"SELECT min(al_ts(time)), max(al_ts(time)) FROM {src}").fetchone()
    span = t_max - t_min
    mid_from, mid_to = t_min + span // 4, t_min + 3 * span // 4 + 1
    method = con.execute(
        f"SELECT {N_METHOD} AS m, count(*) n FROM {src} GROUP BY m ORDER BY n DESC, m LIMIT 1"
    ).fetchone()[0]
    env_row = con.execute(
        f"SELECT al_org({N_CRN}, {N_CR}) o, al_env({N_CRN}, {N_CR}) e, count(*) n FROM {src} "
        f"WHERE e IS NOT NULL GROUP BY o, e ORDER BY n DESC, e LIMIT 1"
    ).fetchone()
    principal = con.execute(
        f"SELECT al_pid({N_PRINCIPAL}) pr, count(*) n FROM {src} WHERE pr LIKE 'sa-%' "
        f"GROUP BY pr ORDER BY n DESC, pr LIMIT 1"
    ).fetchone()
    principal = principal[0] if principal else con.execute(
        f"SELECT al_pid({N_PRINCIPAL}) pr, count(*) n FROM {src} GROUP BY pr ORDER BY n DESC, pr LIMIT 1"
    ).fetchone()[0]
    con.close()
    day0 = (t_min + span // 2) // 86_400_000_000_000 * 86_400_000_000_000
    return {
        "method": method,
        "t_from": ns_to_text(mid_from),
        "t_to": ns_to_text(mid_to),
        "scope": f"crn://confluent.cloud/organization={env_row[0]}/environment={env_row[1]}",
        "principal": principal,
        "env": env_row[1],
        "day_from": ns_to_text(day0),
        "day_to": ns_to_text(day0 + 86_400_000_000_000),
        "text": "forbidden",
        "r_from": ns_to_text(mid_from),
        "r_to": ns_to_text(mid_to),
    }


# ---------------------------------------------------------------------------
# Main


def count_lines(path: str) -> int:
    n = 0
    last = b"\n"
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 22)
            if not b:
                break
            n += b.count(b"\n")
            last = b[-1:]
    return n + (0 if last == b"\n" else 1)


def main() -> int:
    ap = argparse.ArgumentParser(
        description="Same-run DuckDB (NDJSON, Parquet) and jq baselines for the auditlog query benchmark.",
        epilog="See the module docstring for the exact semantics of each query.",
    )
    ap.add_argument("--ndjson", required=True, help="NDJSON file of CloudEvents audit records")
    ap.add_argument("--params", help="JSON file of query parameters (all strings)")
    ap.add_argument("--parquet", help="Parquet file to query; built from --ndjson if missing "
                    "(default: NDJSON path with .parquet)")
    ap.add_argument("--rebuild-parquet", action="store_true", help="rebuild the Parquet file even if present")
    ap.add_argument("--parquet-compression", default="snappy", choices=["snappy", "zstd", "uncompressed", "gzip", "lz4"],
                    help="Parquet codec (default snappy, DuckDB's default: faster to scan than zstd, ~2x larger)")
    ap.add_argument("--rounds", type=int, default=5, help="timed DuckDB rounds per query, after one warm-up (default 5)")
    ap.add_argument("--rounds-jq", type=int, default=1, help="jq runs per query (default 1)")
    ap.add_argument("--jq-subset", type=int, default=100_000,
                    help="run jq over N lines (see --jq-subset-mode) and scale by lines / N "
                         "(default 100000; 0 = all lines)")
    ap.add_argument("--jq-subset-mode", default="head", choices=["head", "stride"],
                    help="head: the first N lines (default); stride: every k-th line, so time-window "
                         "queries see the same selectivity as the whole file")
    ap.add_argument("--no-jq", action="store_true", help="skip jq")
    ap.add_argument("--queries", default=",".join(QUERIES), help="comma-separated subset, e.g. q1,q5")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's default)")
    ap.add_argument("--ids-dir", help="write the sorted matching ids of q1-q5 per engine here")
    ap.add_argument("--suggest-params", action="store_true",
                    help="print parameters drawn from the data (for --params) and exit")
    a = ap.parse_args()

    duckdb = require_tools(need_jq=not (a.no_jq or a.suggest_params))
    if not os.path.isfile(a.ndjson):
        log(f"query_baselines.py: no such file: {a.ndjson}")
        return 2
    ndjson = os.path.abspath(a.ndjson)
    if a.suggest_params:
        print(json.dumps(suggest_params(duckdb, ndjson, a.threads), indent=2))
        return 0
    if not a.params:
        log("query_baselines.py: --params FILE is required (or --suggest-params)")
        return 2
    queries = [q.strip() for q in a.queries.split(",") if q.strip()]
    bad = [q for q in queries if q not in QUERIES]
    if bad or a.rounds < 1 or a.rounds_jq < 1 or a.jq_subset < 0:
        log(f"query_baselines.py: bad arguments (unknown queries: {bad})" if bad else
            "query_baselines.py: --rounds, --rounds-jq must be >= 1 and --jq-subset >= 0")
        return 2
    try:
        with open(a.params, encoding="utf-8") as f:
            raw_params = json.load(f)
        p = prepare_params(raw_params, queries)
    except (OSError, ValueError) as e:
        log(f"query_baselines.py: bad --params: {e}")
        return 2

    if "q5" in queries:
        if p["text"] in member_name_words(ndjson):
            log(f"warning: {p['text']!r} is a member-name word; the raw-line baselines of q5 will "
                f"also match it in member names, so their counts may exceed the engine's")

    lines = count_lines(ndjson)
    out: dict = {
        "duckdb_version": duckdb.__version__,
        "jq_version": None,
        "python_version": sys.version.split()[0],
        "ndjson": ndjson,
        "ndjson_bytes": os.path.getsize(ndjson),
        "lines": lines,
        "rounds": a.rounds,
        "rounds_jq": None if a.no_jq else a.rounds_jq,
        "p99_note": (f"p99 is the nearest-rank 99th percentile of {a.rounds} rounds"
                     + (", i.e. the maximum" if a.rounds < 100 else "")),
        "params": raw_params,
    }
    log(f"duckdb {duckdb.__version__}; {lines} lines, {out['ndjson_bytes'] / 1e6:.1f} MB in {ndjson}")

    # Parquet
    parquet = os.path.abspath(a.parquet or (os.path.splitext(ndjson)[0] + ".parquet"))
    stale = os.path.exists(parquet) and os.path.getmtime(parquet) < os.path.getmtime(ndjson)
    if stale:
        log(f"{parquet} is older than {ndjson}: rebuilding")
    if a.rebuild_parquet or stale or not os.path.exists(parquet):
        log(f"building {parquet} ({a.parquet_compression}) ...")
        out["parquet_build_s"] = round(build_parquet(duckdb, ndjson, parquet, a.threads, a.parquet_compression), 3)
        out["parquet_reused"] = False
        log(f"  built in {out['parquet_build_s']} s")
    else:
        out["parquet_build_s"] = None
        out["parquet_reused"] = True
        log(f"reusing {parquet} (pass --rebuild-parquet to time a build)")
    out["parquet"] = parquet
    out["parquet_bytes"] = os.path.getsize(parquet)
    out["parquet_compression"] = None if out["parquet_reused"] else a.parquet_compression

    results: dict = {q: {} for q in queries}
    answers: dict = {q: {} for q in queries}
    ids_out: dict = {}

    def keep(q, engine, res):
        if a.ids_dir and q in ID_QUERIES:
            ids_out[(q, engine)] = res

    # DuckDB engines
    for engine, make_sql, path in (("ndjson", ndjson_sql, ndjson), ("parquet", parquet_sql, parquet)):
        con = connect(duckdb, a.threads)
        out.setdefault("duckdb_threads", con.execute("SELECT current_setting('threads')").fetchone()[0])
        for q in queries:
            sql, args = make_sql(q, path, p)
            res = run_sql(con, sql, args, q)  # warm-up
            times = []
            for _ in range(a.rounds):
                t0 = time.perf_counter()
                res = run_sql(con, sql, args, q)
                times.append((time.perf_counter() - t0) * 1000)
            ans = summarize(q, res)
            answers[q][engine] = ans
            results[q][engine] = {**percentiles(times), **ans}
            keep(q, engine, res)
            log(f"  {engine:8s} {q}: p50 {results[q][engine]['p50_ms']:9.1f} ms  "
                f"p99 {results[q][engine]['p99_ms']:9.1f} ms  rows {ans['rows']}")
        con.close()

    # jq (the subset file, if any, goes to a temporary directory removed afterwards)
    if not a.no_jq:
        tmpdir = tempfile.mkdtemp(prefix="query_baselines.")
        try:
            out["jq_version"] = subprocess.run(["jq", "--version"], capture_output=True, text=True).stdout.strip()
            n = lines if a.jq_subset == 0 or a.jq_subset >= lines else a.jq_subset
            subset = ndjson
            if n < lines:
                subset = os.path.join(tmpdir, "subset.ndjson")
                with open(subset, "wb") as f:
                    if a.jq_subset_mode == "head":
                        subprocess.run(["head", "-n", str(n), ndjson], stdout=f, check=True)
                    else:
                        step = math.ceil(lines / n)
                        with open(ndjson, "rb") as src_f:
                            for i, line in enumerate(src_f):
                                if i % step == 0:
                                    f.write(line if line.endswith(b"\n") else line + b"\n")
                n = count_lines(subset)
            out["jq_subset_mode"] = a.jq_subset_mode if n < lines else "all"
            scale = lines / n if n else 1.0
            out["jq_subset_lines"] = n
            out["jq_scale"] = round(scale, 6)
            log(f"jq ({out['jq_version']}) over {n} lines, scale x{scale:.3f}")
            check_con = connect(duckdb, a.threads)
            for q in queries:
                times = []
                for _ in range(a.rounds_jq):
                    t0 = time.perf_counter()
                    res = run_jq(q, subset, p)
                    times.append((time.perf_counter() - t0) * 1000)
                raw_ms = sorted(times)[len(times) // 2]
                ans = summarize(q, res)
                # Untimed: DuckDB over the same subset, to check jq's answers.
                sql, args = ndjson_sql(q, subset, p)
                ref = summarize(q, run_sql(check_con, sql, args, q))
                answers[q]["jq_subset"] = ans
                answers[q]["duckdb_subset"] = ref
                results[q]["jq"] = {
                    "raw_ms": round(raw_ms, 3),
                    "scaled_ms": round(raw_ms * scale, 3),
                    "runs": a.rounds_jq,
                    "rows_subset": ans["rows"],
                    **({"ids_fnv1a64_sum_subset": ans["ids_fnv1a64_sum"]} if q in ID_QUERIES
                       else {"groups_subset": ans["groups"]}),
                }
                keep(q, "jq_subset", res)
                log(f"  jq       {q}: raw {raw_ms:9.1f} ms  scaled {raw_ms * scale:10.1f} ms  "
                    f"rows {ans['rows']} (subset)")
            check_con.close()
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    # Agreement
    all_ok = True
    agree = {}
    for q in queries:
        a_q = answers[q]
        agree[q] = {"ndjson_vs_parquet": same_answer(a_q["ndjson"], a_q["parquet"])}
        if "jq_subset" in a_q:
            agree[q]["jq_vs_duckdb_on_subset"] = same_answer(a_q["jq_subset"], a_q["duckdb_subset"])
        all_ok &= all(agree[q].values())
        results[q]["agree"] = agree[q]
    out["queries"] = results
    out["all_agree"] = all_ok
    log("answers agree across engines" if all_ok else
        "DISAGREEMENT: " + json.dumps({q: v for q, v in agree.items() if not all(v.values())}))

    if a.ids_dir:
        os.makedirs(a.ids_dir, exist_ok=True)
        for (q, engine), ids in ids_out.items():
            with open(os.path.join(a.ids_dir, f"{q}.{engine}.txt"), "w", encoding="utf-8") as f:
                f.writelines(f"{i}\n" for i in sorted(i for i in ids if i is not None))

    print(json.dumps(out, indent=2))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
