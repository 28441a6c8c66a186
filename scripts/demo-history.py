#!/usr/bin/env python3
"""Writes two weeks of nightly demo reports (docs/demo-history/night-NN.json)
from one real report of `insider-audit demo --format json`: the newcomer's
recipe in the README records them and draws the trend page in seconds.

The last night is the real report itself; the nights before it carry extra
defects that the team fixes over the two weeks (one comes back with a
release, one page drops out of the crawl for two nights, a tool upgrade adds
a finding), so the history reads like a real one: compliance that rises with
setbacks, labels on releases, a version change marked. A real `insider-audit
demo --history` run recorded afterwards continues the same suite (`demo`):
fingerprints do not depend on the host or port.

Usage: scripts/demo-history.py REPORT.json [OUT_DIR]   (default docs/demo-history)
Deterministic: the same report gives the same files.
"""
import copy
import json
import os
import sys

NIGHTS = 14
LABELS = {5: "release 4.1", 8: "release 4.2", 12: "release 4.3"}
# Night 9 runs a newer insider-audit: its rules version differs (marked on the chart).
UPGRADE = 9

# Extra defects: (scenario, path, rule, severity, attribute, message, nights present).
EXTRA = [
    ("logged-out", "/cart.html", "attr-empty", "error", "phone_number",
     "phone_number is sent as an empty string: leave the key out when there is no value",
     range(1, 4)),
    ("logged-out", "/product/espresso.html", "push-before-init", "error", None,
     "The user is pushed at line 14 before `window.InsiderQueue = window.InsiderQueue || []` runs: the push is lost",
     range(1, 6)),
    ("logged-in", "/account/profile.html", "attr-type", "error", "whatsapp_optin",
     "whatsapp_optin is the string \"true\": send the boolean true",
     list(range(1, 5)) + list(range(8, 10))),
    ("logged-out", "/product/grinder.html", "gdpr-missing", "warning", "gdpr_optin",
     "The user is identified (uuid) but gdpr_optin is not sent: send the user's cookie consent as true or false",
     range(1, 11)),
    ("logged-out", "/guide/brewing.html", "init-missing", "warning", None,
     "The user is pushed but no `{type: 'init'}` push follows in this page view",
     range(1, 8)),
    ("logged-in", "/account/orders.html", "attr-format", "error", "phone_number",
     "phone_number \"0532 555 01 23\" is not in E.164 form: send +905325550123",
     range(UPGRADE, 13)),
]
# Pages that dropped out of the crawl on some nights (a broken link in the menu).
DROPPED = {"/product/grinder.html": range(6, 8)}


def path_of(url):
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1] if "/" in rest else "/"


def night(base, n):
    report = copy.deepcopy(base)
    version = "0.1.0" if n < UPGRADE else "0.2.0"
    report["tool"] = {"name": "insider-audit", "version": version}
    report["run"] = {
        "id": f"demo-night-{n:02}",
        "suite": "demo",
        "shard": None,
        "branch": "main",
        "rules_version": f"{version}+{'7c1f' if n < UPGRADE else '9e42'}",
    }
    if n in LABELS:
        report["run"]["label"] = LABELS[n]
    report["started_at"] = f"2026-11-{16 + n:02}T02:00:00.000Z"
    pages = []
    for page in report["pages"]:
        path = path_of(page["url"])
        if n in DROPPED.get(path, ()):
            continue
        # The history keeps no pushes: the shipped files stay small.
        page["pushes"] = []
        page.pop("screenshot", None)
        if n < NIGHTS:
            for scenario, p, rule, severity, attribute, message, present in EXTRA:
                if p == path and scenario == page["scenario"] and n in present:
                    finding = {"rule": rule, "severity": severity, "message": message,
                               "evidence": {"script": page["final_url"], "line": 14}}
                    if attribute:
                        finding["attribute"] = attribute
                    page["findings"].append(finding)
        pages.append(page)
    report["pages"] = pages
    summary = {"pages": len(pages), "passed": 0, "failed": 0, "errors": 0, "warnings": 0, "accepted": 0}
    for page in pages:
        live = [f for f in page["findings"] if not f.get("accepted")]
        errors = sum(1 for f in live if f["severity"] == "error")
        summary["errors"] += errors
        summary["warnings"] += sum(1 for f in live if f["severity"] == "warning")
        summary["accepted"] += len(page["findings"]) - len(live)
        summary["failed" if errors else "passed"] += 1
    report["summary"] = summary
    report.pop("discovered", None)
    return report


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    base = json.load(open(sys.argv[1]))
    out = sys.argv[2] if len(sys.argv) > 2 else "docs/demo-history"
    os.makedirs(out, exist_ok=True)
    for n in range(1, NIGHTS + 1):
        with open(os.path.join(out, f"night-{n:02}.json"), "w") as f:
            json.dump(night(base, n), f, indent=1, sort_keys=False)
            f.write("\n")
    print(f"wrote {NIGHTS} nights to {out}")


if __name__ == "__main__":
    main()
