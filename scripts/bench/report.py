#!/usr/bin/env python3
"""Summarises the runs of scripts/bench-pipeline.sh into a Markdown table.

Usage: report.py WORK_DIR OUT.md

Reads WORK_DIR/runs.jsonl (one line per contender run: name, run, pages,
measure.py's result, the contender's report or output path) and
WORK_DIR/meta.json, prints the table and writes it to OUT.md.
"""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

LABELS = {
    "ia4": "insider-audit run, --concurrency 4 (default)",
    "ia1": "insider-audit run, --concurrency 1",
    "ia8": "insider-audit run, --concurrency 8",
    "peer4": "Playwright peer (playwright-core), 4 pages",
    "peer8": "Playwright peer (playwright-core), 8 pages",
    "floor": "floor: bare chromiumoxide, load event only, 4 tabs",
    "base4": "an earlier build (BENCH_BASE_BIN), --concurrency 4",
    "ia4t": "insider-audit run, --concurrency 4, renderer slowed 4x",
}
ORDER = ["ia4", "ia1", "ia8", "peer4", "peer8", "floor", "base4", "ia4t"]


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def chromium_version(path):
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
        return out.strip().splitlines()[0] if out.strip() else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def findings(report_path):
    """Sorted (url, rule ids) of an insider-audit JSON report, in report order too."""
    with open(report_path) as f:
        report = json.load(f)
    rows = [(p["url"], tuple(sorted({x.get("rule", "?") for x in p.get("findings", [])})))
            for p in report.get("pages", [])]
    return rows


def main():
    work, out_md = sys.argv[1], sys.argv[2]
    with open(os.path.join(work, "meta.json")) as f:
        meta = json.load(f)
    runs = [json.loads(line) for line in open(os.path.join(work, "runs.jsonl"))]
    by = {}
    for r in runs:
        by.setdefault(r["name"], []).append(r)

    stats = {}
    for name in ORDER:
        rs = [r for r in by.get(name, []) if r["pages"] > 0]
        if not rs:
            continue
        rates = [r["pages"] / r["measure"]["wall_s"] for r in rs]
        stats[name] = {
            "pages": sorted({r["pages"] for r in rs}),
            "runs": len(rs),
            "rates": rates,
            "rate": median(rates),
            "wall": median([r["measure"]["wall_s"] for r in rs]),
            "cpu_page": median([r["measure"]["cpu_s"] / r["pages"] for r in rs]),
            "tool_rss": median([r["measure"]["tool_peak_rss_kb"] for r in rs]) / 1024,
            "chromium_rss": median([r["measure"]["chromium_peak_rss_kb"] for r in rs]) / 1024,
            "exits": sorted({r["measure"]["exit"] for r in rs}),
            "leftovers": sum(len(r["measure"]["leftovers"]) for r in rs),
        }

    lines = []
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines.append(f"# insider-audit pipeline benchmark, {date}")
    lines.append("")
    lines.append(f"- machine: {os.cpu_count()} CPUs ({meta.get('nproc')} available to this run), "
                 f"{cpu_model()}, {platform.system()} {platform.release()}")
    lines.append(f"- browser: {chromium_version(meta['chromium'])} ({meta['chromium']})")
    lines.append(f"- insider-audit: {meta.get('commit', '?')}; peer: playwright-core "
                 f"{meta.get('playwright', '?')}, Node {meta.get('node', '?')}")
    lines.append(f"- site: {meta['site']}")
    lines.append(f"- runs: {meta['runs']} per contender, interleaved (run 1 of each, then run 2 of each, ...); "
                 "every figure is the median over the runs")
    if meta["c1_pages"] != meta["pages"]:
        lines.append(f"- insider-audit at --concurrency 1 crawls only {meta['c1_pages']} pages "
                     f"(BENCH_C1_PAGES), the others {meta['pages']}")
    lines.append("")
    lines.append("| contender | pages | pages/s | runs (pages/s) | wall s | CPU-s/page | tool peak RSS MB | Chromium peak RSS MB |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for name in ORDER:
        s = stats.get(name)
        if not s:
            lines.append(f"| {LABELS[name]} | — | no successful run | | | | | |")
            continue
        pages = "/".join(str(p) for p in s["pages"])
        each = ", ".join(f"{x:.2f}" for x in s["rates"])
        lines.append(f"| {LABELS[name]} | {pages} | **{s['rate']:.2f}** | {each} | {s['wall']:.1f} | "
                     f"{s['cpu_page']:.3f} | {s['tool_rss']:.0f} | {s['chromium_rss']:.0f} |")
    lines.append("")

    def ratio(a, b):
        if a in stats and b in stats and stats[b]["rate"] > 0:
            return f"{stats[a]['rate'] / stats[b]['rate']:.2f}×"
        return "n/a"

    lines.append("Ratios of the median pages/s (targets of issue 9 in brackets):")
    lines.append("")
    lines.append(f"- insider-audit@4 / peer@4: {ratio('ia4', 'peer4')} (≥ 2.5×)")
    lines.append(f"- insider-audit@4 / floor: {ratio('ia4', 'floor')} (≥ 0.5×)")
    lines.append(f"- insider-audit@8 / peer@8: {ratio('ia8', 'peer8')} (≥ 1.8×)")
    if "base4" in stats:
        lines.append(f"- this build@4 / the earlier build@4: {ratio('ia4', 'base4')}")
    if "floor" in stats and "ia4" in stats and stats["floor"]["cpu_page"] > 0:
        lines.append(f"- CPU-s per page, insider-audit@4 / floor: "
                     f"{stats['ia4']['cpu_page'] / stats['floor']['cpu_page']:.2f}× (≤ 1.3×)")
    if "peer4" in stats and "ia4" in stats and stats["peer4"]["cpu_page"] > 0:
        lines.append(f"- CPU-s per page, insider-audit@4 / peer@4: "
                     f"{stats['ia4']['cpu_page'] / stats['peer4']['cpu_page']:.2f}× (≤ 1×)")
    lines.append("")

    # Where the CPU goes: CPU-s per page by kind of process (sampled).
    roles = sorted({k for rs in by.values() for r in rs for k in r["measure"].get("cpu_by_role", {})})
    if roles:
        lines.append("CPU-s per page by process (median over the runs; sampled every 200 ms, so a "
                     "little under the total):")
        lines.append("")
        lines.append("| contender | " + " | ".join(roles) + " | total |")
        lines.append("|---|" + "---|" * (len(roles) + 1))
        for name in ORDER:
            rs = [r for r in by.get(name, []) if r["pages"] > 0 and "cpu_by_role" in r["measure"]]
            if not rs:
                continue
            cells = [f"{median([r['measure']['cpu_by_role'].get(k, 0) / r['pages'] for r in rs]):.3f}"
                     for k in roles]
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {stats[name]['cpu_page']:.3f} |")
        lines.append("")

    # Same pages and findings across concurrency (informational).
    notes = []
    ia4 = [r for r in by.get("ia4", []) if r.get("report")]
    ia8 = [r for r in by.get("ia8", []) if r.get("report")]
    ia1 = [r for r in by.get("ia1", []) if r.get("report")]
    try:
        if ia4 and ia8:
            same = all(sorted(findings(a["report"])) == sorted(findings(b["report"]))
                       for a, b in zip(ia4, ia8))
            base = sorted(findings(ia4[0]["report"]))
            stable4 = all(sorted(findings(a["report"])) == base for a in ia4)
            notes.append(f"- pages and findings (sorted url, rule ids) identical at --concurrency 4 and 8, "
                         f"run by run: {'yes' if same else 'NO'}; identical across the runs at 4: "
                         f"{'yes' if stable4 else 'NO'}")
        if ia4 and ia1:
            first = findings(ia4[0]["report"])[: meta["c1_pages"]]
            one = findings(ia1[0]["report"])
            same_order = first == one
            notes.append(f"- --concurrency 1 ({meta['c1_pages']} pages) equals the first {meta['c1_pages']} "
                         f"pages of --concurrency 4 in report order: {'yes' if same_order else 'NO'}")
    except (OSError, ValueError, KeyError) as e:
        notes.append(f"- comparison of findings failed: {e}")
    expected = {"ia1": meta["c1_pages"]}
    for name, s in stats.items():
        want = expected.get(name, meta["pages"])
        if s["pages"] != [want]:
            notes.append(f"- {name}: crawled {s['pages']} pages, expected {want}")
        bad = [e for e in s["exits"] if e not in ((0, 1) if name.startswith(("ia", "base")) else (0,))]
        if bad:
            notes.append(f"- {name}: exit codes {s['exits']}")
        if s["leftovers"]:
            notes.append(f"- {name}: {s['leftovers']} processes still running after it exited (killed)")
    failed = [r for r in runs if r["pages"] == 0]
    for r in failed:
        notes.append(f"- {r['name']} run {r['run']} failed (exit {r['measure']['exit']}), left out")
    if notes:
        lines.append("Checks:")
        lines.append("")
        lines.extend(notes)
        lines.append("")
    lines.append("Pages/s: pages audited / wall time of the whole command (launch included). CPU-s/page: "
                 "user+system CPU of the contender's whole process tree (it and every descendant, reaped "
                 "by a subreaper) / pages; the static server runs outside the tree and is not counted. "
                 "Tool peak RSS: VmHWM of the contender's main process (node for the peer). "
                 "Chromium peak RSS: the largest sum of RSS over its processes, sampled every 200 ms "
                 "(shared pages counted in each process, so an overstatement of what they use together).")
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.dirname(out_md) or ".", exist_ok=True)
    with open(out_md, "w") as f:
        f.write(text)
    print(f"written to {out_md}")


if __name__ == "__main__":
    main()
