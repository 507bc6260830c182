"""The end-to-end figures in README.md and docs/bench.md, written from bench/results.json.

    .venv/bin/python -m evaluation.e2e.readme           # rewrite the generated blocks
    .venv/bin/python -m evaluation.e2e.readme --check   # exit 1 if they differ from the results

The blocks sit between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``; the e2e bench
rewrites them when it writes the committed results, and a test checks that they match, so the
figures people read are the ones the committed run measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from evaluation.settings import REPO

RESULTS = REPO / "bench" / "results.json"
PAGES = {"summary": REPO / "README.md", "figures": REPO / "docs" / "bench.md"}
GOALS = {"ratio": 0.9, "two": 1.3, "p99": 1.0, "memory": 1.10}


def _worst_memory(results: dict[str, Any]) -> tuple[str, float] | None:
    memory = results.get("memory", {}).get("memory_mib")
    if not memory:
        return None
    name = max(memory, key=lambda n: memory[n]["ratio"])
    return name, memory[name]["ratio"]


def summary(results: dict[str, Any]) -> str:
    """One paragraph for the README: each goal and what the committed run measured."""
    two = results.get("ratio_two_workers")
    worst = _worst_memory(results)
    parts = [
        f"end to end through Kafka {results['e2e_articles_per_s']:.1f} articles/s on "
        f"{results['cores']} cores, **{results['ratio_to_bare_spacy']:.2f} of bare spaCy "
        f"NER-only** `nlp.pipe` (goal {GOALS['ratio']})",
    ]
    if two is not None:
        parts.append(f"with two entities workers {two:.2f} (goal {GOALS['two']})")
    if results.get("p99_s") is not None:
        parts.append(
            f"send to event p99 {results['p99_s']:.2f} s at half load (goal {GOALS['p99']:.0f} s)"
        )
    if worst is not None:
        parts.append(
            f"memory at the end of {results['memory']['articles']:,} articles within "
            f"{worst[1] - 1:+.0%} of after warm-up, worst process (goal +10%)"
        )
    return "; ".join(parts) + " ([docs/bench.md](docs/bench.md), `bench/results.json`)."


def figures(results: dict[str, Any]) -> str:
    """The tables of docs/bench.md."""
    one = results["default_workers"]
    lines = [
        f"Run of {results['when']} at commit `{results['commit'][:10]}`, {results['cores']} "
        f"cores, load {results['machine']['load_average_at_start'][0]:.2f} at its start.",
        "",
        "| figure | measured | goal |",
        "|---|---|---|",
        f"| end to end, default workers | {results['e2e_articles_per_s']:.1f} articles/s "
        f"({results['articles']:,} BBC articles in {one['wall_s']:.0f} s) | |",
        f"| bare spaCy `{results['spacy_model']}` NER only, one process | "
        f"{results['bare_ner_articles_per_s']:.1f} articles/s | |",
        f"| bare spaCy, whole pipeline | {results['bare_full_articles_per_s']:.1f} articles/s | |",
        f"| end to end / bare NER only | **{results['ratio_to_bare_spacy']:.2f}** | >= {GOALS['ratio']} |",
    ]
    if results.get("ratio_two_workers") is not None:
        two = results["two_entities_workers"]
        lines.append(
            f"| two entities workers / bare NER only | **{results['ratio_two_workers']:.2f}** "
            f"({two['e2e_articles_per_s']:.1f} articles/s) | >= {GOALS['two']} |"
        )
    lat = one["latency_at_half_load"]
    for what in ("storied", "event"):
        got = lat[what]
        if got["measured"]:
            goal = f"p99 <= {GOALS['p99']:.0f} s" if what == "event" else ""
            lines.append(
                f"| send to {what} record at {lat['articles_per_s']:.1f} articles/s "
                f"({got['measured']} articles) | p50 {got['p50_s']:.2f} / p95 {got['p95_s']:.2f} / "
                f"**p99 {got['p99_s']:.2f}** s | {goal} |"
            )
    worst = _worst_memory(results)
    if worst is not None:
        lines.append(
            f"| memory, end / after warm-up, worst of {len(results['memory']['memory_mib'])} "
            f"processes over {results['memory']['articles']:,} articles | **{worst[1]:.2f}** "
            f"({worst[0].rsplit(' ', 1)[0]}) | <= {GOALS['memory']} |"
        )
    lines += [
        "",
        "Per service, default workers: messages consumed per second, CPU seconds (worker and stage "
        "child) over the measured articles, and state per article (its tables' changelogs, "
        f"compacted). The broker used {one['broker_cpu_s']:.1f} s of CPU; workers and broker kept "
        f"{one['cpu_share_of_cores']:.0%} of the cores busy.",
        "",
        "| service | msg/s | CPU s | CPU ms/article | state B/article |",
        "|---|---|---|---|---|",
    ]
    for service, stage in one["per_stage"].items():
        state = one.get("state_bytes_per_article", {}).get(service)
        per = 1000 * stage["cpu_s"] / stage["consumed"] if stage["consumed"] else 0.0
        lines.append(
            f"| {service} | {stage['consumed_per_s']:.1f} | {stage['cpu_s']:.1f} | {per:.1f} | "
            f"{f'{state:,.0f}' if state else '-'} |"
        )
    total_ms, bare_ms = cpu_per_article_ms(results), 1000 / results["bare_ner_articles_per_s"]
    lines += [
        f"| broker | | {one['broker_cpu_s']:.1f} | {1000 * one['broker_cpu_s'] / one['sent']:.1f} | |",
        "",
        f"All together {total_ms:.0f} ms of CPU an article, against {bare_ms:.0f} ms for bare "
        f"spaCy NER-only on one core: on {results['cores']} cores kept fully busy, end to end "
        f"could reach at most {results['cores'] * bare_ms / total_ms:.2f} of bare; at the "
        f"{one['cpu_share_of_cores']:.0%} this run kept them busy, "
        f"{one['cpu_share_of_cores'] * results['cores'] * bare_ms / total_ms:.2f}.",
    ]
    memory = results.get("memory")
    if memory:
        lines += [
            "",
            f"Memory over {memory['articles']:,} articles (BBC, then Reuters-21578), resident MiB "
            f"after the first {memory['warm_up']:,} and at the end:",
            "",
            "| process | after warm-up | end | ratio |",
            "|---|---|---|---|",
        ]
        for name, mem in memory["memory_mib"].items():
            lines.append(
                f"| {name.rsplit(' ', 1)[0]} | {mem['start']:.0f} | {mem['end']:.0f} | {mem['ratio']:.2f} |"
            )
        trace = memory.get("memory_trace") or []
        if len(trace) >= 2:
            picks = [trace[round(i * (len(trace) - 1) / 4)] for i in range(5)]
            lines += [
                "",
                "The same processes while the run went on (seconds after the warm-up; articles "
                "the entities stage had consumed), MiB:",
                "",
                "| process | "
                + " | ".join(f"{t['s']:.0f} s ({t['entities_consumed']:,})" for t in picks)
                + " |",
                "|---|" + "---|" * len(picks),
            ]
            for name in picks[-1]["mib"]:
                values = " | ".join(f"{t['mib'].get(name, 0.0):.0f}" for t in picks)
                lines.append(f"| {name.rsplit(' ', 1)[0]} | {values} |")
        prof = memory["profile"]
        lines += [
            "",
            f"Where each service's time goes (py-spy samples over {prof['seconds']:.0f} s of that "
            "run, threads waiting in select() left out; CPU seconds from /proc):",
            "",
            "| service | CPU s | largest shares of samples |",
            "|---|---|---|",
        ]
        for service, shares in prof["shares"].items():
            top = ", ".join(f"{name} {share:.0%}" for name, share in list(shares.items())[:5])
            lines.append(f"| {service} | {prof['cpu_s'].get(service, 0.0):.1f} | {top} |")
    return "\n".join(lines)


def cpu_per_article_ms(results: dict[str, Any]) -> float:
    """The workers' and the broker's CPU milliseconds per article sent, default workers."""
    one = results["default_workers"]
    workers = sum(stage["cpu_s"] for stage in one["per_stage"].values())
    return 1000 * (workers + one["broker_cpu_s"]) / one["sent"]


RENDER = {"summary": summary, "figures": figures}


def replaced(text: str, name: str, block: str) -> str:
    """``text`` with the block ``name`` holding ``block``; ValueError if its markers are missing."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    if start not in text or end not in text:
        raise ValueError(f"markers {start} ... {end} not found")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{block}\n{end}{tail}"


def update(results: dict[str, Any], *, check: bool = False) -> list[Path]:
    """Rewrite the blocks (or, with ``check``, only compare); the pages that differed."""
    stale = []
    for name, page in PAGES.items():
        text = page.read_text(encoding="utf-8")
        new = replaced(text, name, RENDER[name](results))
        if new != text:
            stale.append(page)
            if not check:
                page.write_text(new, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    stale = update(results, check=args.check)
    for page in stale:
        print(f"{'stale' if args.check else 'written'}: {page.relative_to(REPO)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
