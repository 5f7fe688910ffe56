#!/usr/bin/env python3
"""Run the DfE SSDA903 (children looked after) validation rules over exported CSVs.

Uses the library API of `csc-validator-be-903` (module `lac_validator`), the rule
engine behind Data to Insight's hosted 903 validator; install it with
`pip install -r .ci/requirements-903.txt`.

    python validate903.py [--year 2025/26] [--la E09000027] [--skip RULE[,RULE]] ...
                          [--last prev_header.csv ...] header.csv episodes.csv [more.csv ...]

Each CSV is recognised by its exact column set (Header, Episodes, UASC, Reviews,
OC2, OC3, AD1, PlacedAdoption, PrevPerm, Missing, SWEpisodes, DoLo); files given
with --last are last year's return (Header_last, Episodes_last, ...). Rules whose
tables are absent are skipped. Prints the rules run and, for each failed rule, its
code, description, failing row count and up to 3 example rows (CHILD id, table and
CSV line). Exits 1 if any rule not listed in --skip failed, or crashed (a rule can
crash on malformed data, e.g. ISO dates; the two rules in KNOWN_BROKEN always crash and
are only reported), and 2 if a file is not a recognised 903 CSV.
"""
import argparse
import contextlib
import io
import logging
import re
import sys
import time

# lac_validator calls logging.basicConfig(INFO) on import; keep it quiet unless -v.
logging.basicConfig(level=logging.CRITICAL)

from lac_validator.lac_validator import LacValidator  # noqa: E402
from lac_validator.rules.ruleset_utils import get_year_ruleset  # noqa: E402
from lac_validator.types import UploadError  # noqa: E402

NEWEST = "2026/27"  # newest rule set shipped by csc-validator-be-903 0.1.17
# Rules that crash on every input in 0.1.17 (they read columns UASC_STATUS /
# DATE_EPISODE_CEASED that never exist), so the hosted tool never reports them.
KNOWN_BROKEN = {"231", "233"}


def collection_year(year: str) -> str:
    """'2025/26' (or '2026') -> '2026', the form lac_validator expects (year the collection ends)."""
    m = re.fullmatch(r"(\d{4})/(\d{2})", year)
    if m:
        return str(int(m.group(1)) + 1)
    if re.fullmatch(r"\d{4}", year):
        return year
    raise SystemExit(f"bad --year {year!r}; expected e.g. 2025/26")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", help="this year's CSVs (Header, Episodes, ...)")
    ap.add_argument("--last", action="append", default=[], metavar="CSV",
                    help="a CSV of last year's return (repeatable)")
    ap.add_argument("--year", default=NEWEST, help=f"collection year, default {NEWEST}")
    ap.add_argument("--la", default="E09000027", help="LA (UTLA) code, for in/out-of-area rules")
    ap.add_argument("--skip", action="append", default=[], metavar="RULE",
                    help="rule code(s) allowed to fail; repeatable, or comma-separated")
    ap.add_argument("-v", "--verbose", action="store_true", help="show lac_validator logs")
    args = ap.parse_args()
    args.skip = {c.strip() for s in args.skip for c in s.split(",") if c.strip()}
    if args.verbose:
        logging.getLogger().setLevel(logging.INFO)

    year = collection_year(args.year)
    registry = get_year_ruleset(year)
    files = [
        {"name": p, "description": desc, "file_content": open(p, "rb").read()}
        for desc, paths in (("This year", args.files), ("Prev year", args.last))
        for p in paths
    ]
    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sys.stderr if args.verbose else io.StringIO()):
            v = LacValidator(  # reads the files and runs every rule of the year
                metadata={"collectionYear": year, "localAuthority": args.la},
                files=files,
                registry=registry,
            )
    except UploadError as e:
        print(f"upload error: {e}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - t0
    meta = v.ds_results["metadata"]
    tables = {k: len(df) for k, df in v.dfs.items()}
    print(f"903 rules {args.year} (collectionYear={year}, "
          f"{meta['collection_start']}-{meta['collection_end']}), tables {tables}")

    failed = {}  # code -> [(table, row index, CHILD)]
    for table, df in v.ds_results.items():
        if table == "metadata":
            continue
        for col in (c for c in df.columns if c.startswith("ERR_")):
            rows = df.index[df[col] == True]  # noqa: E712 (column holds True/NaN)
            failed.setdefault(col[4:], []).extend(
                (table, i, df.at[i, "CHILD"]) for i in rows)
    failed = {c: r for c, r in failed.items() if r}

    print(f"rules run: {len(v.dones)}, skipped (tables absent): {len(v.skips)}, "
          f"crashed: {len(v.fails)}, failed: {len(failed)}  [{elapsed:.1f}s]")
    for code in sorted(failed):
        rows = failed[code]
        mark = " (skipped by --skip)" if code in args.skip else ""
        print(f"FAIL {code}{mark}: {registry[code].message} -- {len(rows)} row(s)")
        for table, i, child in rows[:3]:
            print(f"    CHILD={child} {table} line {i + 2}")
    for code in v.fails:
        mark = " (skipped by --skip)" if code in args.skip else ""
        mark += " (known broken in the package)" if code in KNOWN_BROKEN else ""
        print(f"CRASH {code}{mark}: rule raised an exception (run with -v for the traceback)")
    bad = (set(failed) | set(v.fails) - KNOWN_BROKEN) - args.skip
    print("OK" if not bad else f"{len(bad)} rule(s) failed: {' '.join(sorted(bad))}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
