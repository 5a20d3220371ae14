"""The growth chart of docs/benchmarks.md from bench/scale.py's newest results."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

LATENCIES = {
    "look-up by NRN, p99 (1 notary)": ("lookup_c1", "p99_us"),
    "document list, p99 (100 sessions)": ("list_think", "p99_us"),
    "login callback, p50": ("callback", "p50_ms"),
}
THROUGHPUTS = {
    "document list, 100 sessions without pause": "list_saturated",
    "soak, 200 users": "soak",
}


def _ms(run: dict, key: str) -> float:
    return run[key] / 1000 if key.endswith("_us") else run[key]


def plot(results: Path, out: Path) -> None:
    matplotlib.use("Agg")  # no screen
    import matplotlib.pyplot as plt

    newest = max(results.glob("*.json"))
    sizes = json.loads(newest.read_text())["sizes"]
    people = [s["people"] for s in sizes]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for i, (label, (name, key)) in enumerate(LATENCIES.items()):
        colour = f"C{i}"
        left.plot(people, [_ms(s["kluis"][name], key) for s in sizes], "o-", color=colour,
                  label=label)  # fmt: skip
        left.plot(people, [_ms(s["bare"][name], key) for s in sizes], "o--", color=colour,
                  alpha=0.5)  # fmt: skip
    left.set(xscale="log", yscale="log", xlabel="people (documents: 10 x)", ylabel="ms",
             title="Latency (solid: Kluis; dashed: bare Litestar)")  # fmt: skip
    left.legend(fontsize=8)
    for i, (label, name) in enumerate(THROUGHPUTS.items()):
        colour = f"C{i + 3}"
        right.plot(people, [s["kluis"][name]["rps"] for s in sizes], "o-", color=colour,
                   label=label)  # fmt: skip
    right.set(xscale="log", xlabel="people (documents: 10 x)", ylabel="requests per second",
              title="Throughput, Kluis (2 granian workers)", ylim=(0, None))  # fmt: skip
    right.legend(fontsize=8)
    figure.suptitle(f"bench/scale.py, {newest.stem}", fontsize=9)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=90)
    print(f"wrote {out}")
