"""`newswatch run` supervises the pipeline on the real broker: kill -9 of a worker or of the broker, restarts inside the session timeout, a bounded stop.

Each scenario runs `newswatch run` with a broker of its own (free ports, a fresh data dir under
tmp_path), so its topics hold only its own articles and the supervisor owns the broker it may have
to restart. Articles are BBC news stories (the corpora's bbc/, NEWS_CORPORA_DIR, read in place) plus exact re-posts,
sent as ``{"id", "text"}`` while workers are killed. "Accounted for" means: every input has a clean
record or a clean dead letter; every clean record is a unique article, a duplicate notice or a dedup
dead letter; every unique article is enriched or an entities dead letter; all four groups caught up.
"""

from __future__ import annotations

import base64
import functools
import json
import random
import re
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from kafka import KafkaProducer

from cli.broker import free_port
from cli.inputs import read_inputs
from evaluation.dedup.corpus import load_bbc
from shared.schemas import CleanArticle, DeadLetter, DuplicateNotice, UniqueArticle
from shared.topics import (
    CLEAN_ARTICLES,
    DEAD_LETTERS,
    DUPLICATES,
    ENRICHED_ARTICLES,
    RAW_ARTICLES,
    SERVICES,
    STORIED_ARTICLES,
    UNIQUE_ARTICLES,
)
from tests.integration.harness import NEWSWATCH, REPO, RunningPipeline, launch_run
from tests.integration.kafkautil import TopicReader, wait_caught_up

SOURCES = {
    "clean": RAW_ARTICLES,
    "dedup": CLEAN_ARTICLES,
    "entities": UNIQUE_ARTICLES,
    "stories": ENRICHED_ARTICLES,
    "alerts": STORIED_ARTICLES,
}


# ---------------------------------------------------------------- `newswatch run` with its own broker


@dataclass
class Supervised:
    """One `newswatch run` that started its own broker; its output is followed as it comes."""

    run: RunningPipeline
    broker_port: int
    seen: dict[int, psutil.Process] = field(default_factory=dict)  # every descendant ever seen

    @property
    def proc(self) -> subprocess.Popen[str]:
        return self.run.proc

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    def follow(self) -> None:
        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.run.output.append(line)

        threading.Thread(target=pump, daemon=True).start()

    def wait_for(self, pattern: str, timeout: float, since: int = 0) -> re.Match[str]:
        """The first output line from index ``since`` on matching ``pattern``; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.run.output[since:]:
                if found := re.search(pattern, line):
                    return found
            if self.proc.poll() is not None and not any(
                re.search(pattern, x) for x in self.run.output[since:]
            ):
                time.sleep(0.5)  # the last lines may still be in the pump
                if not any(re.search(pattern, x) for x in self.run.output[since:]):
                    raise AssertionError(
                        f"newswatch run exited ({self.proc.returncode}) before "
                        f"{pattern!r}:\n{self.run.logs_text()}"
                    )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {pattern!r} within {timeout:.0f} s:\n{self.run.logs_text()}"
                )
            time.sleep(0.2)

    def descendants(self) -> list[psutil.Process]:
        try:
            found = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            found = []
        for p in found:
            self.seen.setdefault(p.pid, p)
        return found

    def child(self, marker: str) -> psutil.Process:
        for p in psutil.Process(self.proc.pid).children():
            try:
                if marker in " ".join(p.cmdline()):
                    self.seen.setdefault(p.pid, p)
                    return p
            except psutil.NoSuchProcess:
                continue
        raise AssertionError(f"no child of newswatch run runs {marker}:\n{self.run.logs_text()}")

    def worker(self, service: str) -> psutil.Process:
        return self.child(f"services.{service}.app")

    def broker(self) -> psutil.Process:
        return self.child("kafka.Kafka")

    def restarts_said(self, since: int = 0) -> list[str]:
        return [x.strip() for x in self.run.output[since:] if "newswatch: restarting" in x]

    def close(self) -> None:
        """Stop it if it still runs (Ctrl-C), and make sure nothing it started outlives the test."""
        self.descendants()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        time.sleep(0.5)  # the pump's last lines
        (self.run.logs / "run.out").write_text("".join(self.run.output))
        for p in self.seen.values():
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    p.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture
def start_run(tmp_path: Path) -> Iterator[Callable[..., Supervised]]:
    started: list[Supervised] = []

    def start(env: dict[str, str] | None = None, *, follow: bool = True) -> Supervised:
        work = tmp_path / f"run{len(started)}"
        port = free_port()
        running = launch_run(
            f"127.0.0.1:{port}",
            work,
            "--broker-port",
            str(port),
            "--broker-data-dir",
            str(work / "kafka" / "data"),
            "--ready-timeout",
            "240",
            env=env,
        )
        sup = Supervised(running, port)
        started.append(sup)
        if follow:
            sup.follow()
            sup.wait_for(r"newswatch: ready", 300)
        else:  # read in this thread, so the test may close the pipe later
            assert running.proc.stdout is not None
            for line in running.proc.stdout:
                running.output.append(line)
                if "newswatch: ready" in line:
                    break
            else:
                raise AssertionError(running.logs_text())
        sup.descendants()
        return sup

    yield start
    for sup in started:
        sup.close()


# ---------------------------------------------------------------- articles and their accounting


@functools.cache
def _bbc() -> list:
    return load_bbc()


def bbc_batch(
    tag: str, n: int, reposts: int, seed: int, exclude: frozenset[str] = frozenset()
) -> list[tuple[str, bytes]]:
    """``n`` BBC stories and ``reposts`` exact re-posts of some of them (same text, new id), re-posts later."""
    rng = random.Random(seed)
    docs = rng.sample([d for d in _bbc() if d.doc_id not in exclude], n)
    stream = [(f"{tag}-{d.doc_id}", "\n\n".join(d.paragraphs)) for d in docs]
    for i, (article_id, text) in enumerate(list(stream[:reposts])):
        stream.insert(rng.randint(i + 1, len(stream)), (f"{article_id}#repost", text))
    return [
        (article_id, json.dumps({"id": article_id, "text": text}).encode())
        for article_id, text in stream
    ]


def seed_batch() -> list[tuple[str, bytes]]:
    """The sample articles (a troop-movement story among them, so alerts fire), ids derived by clean."""
    return [(origin, value) for origin, value in read_inputs([str(REPO / "seeds")])]


class Feeder(threading.Thread):
    """Sends values onto the input topic at a steady rate, in the background."""

    def __init__(self, bootstrap: str, values: list[bytes], per_second: float) -> None:
        super().__init__(daemon=True)
        self.bootstrap, self.values, self.pause = bootstrap, values, 1.0 / per_second
        self.error: BaseException | None = None
        self.sent = 0

    def run(self) -> None:
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        try:
            for value in self.values:
                producer.send(RAW_ARTICLES.name, value=value).get(timeout=60)
                self.sent += 1
                time.sleep(self.pause)
        except BaseException as error:  # noqa: BLE001 — reported by the test
            self.error = error
        finally:
            producer.close(timeout=10)

    def finish(self, timeout: float) -> None:
        self.join(timeout)
        assert not self.is_alive(), (
            f"the feeder still sends after {timeout:.0f} s ({self.sent} sent)"
        )
        assert self.error is None, f"sending failed after {self.sent}: {self.error!r}"


def _dead_letter_id(value: bytes) -> str | None:
    letter = DeadLetter.model_validate_json(value)
    try:
        original = json.loads(base64.b64decode(letter.original_b64))
    except ValueError:
        return None
    return (
        (original.get("id") or original.get("article_id")) if isinstance(original, dict) else None
    )


@dataclass
class Ledger:
    missing_inputs: list[str]
    unaccounted_clean: list[str]
    unaccounted_unique: list[str]
    self_duplicates: list[str]
    counts: dict[str, int]

    @property
    def complete(self) -> bool:
        return not (self.missing_inputs or self.unaccounted_clean or self.unaccounted_unique)


class Accounts:
    """Reads every topic of the pipeline from the start and accounts for the inputs."""

    TOPICS = (
        CLEAN_ARTICLES,
        UNIQUE_ARTICLES,
        DUPLICATES,
        ENRICHED_ARTICLES,
        *DEAD_LETTERS.values(),
    )

    def __init__(self, bootstrap: str) -> None:
        self.readers = {spec.name: TopicReader(bootstrap, spec.name) for spec in self.TOPICS}

    def ledger(self, input_ids: set[str]) -> Ledger:
        rec = {name: reader.poll() for name, reader in self.readers.items()}
        for _ in range(3):  # poll() returns after one fetch: drain what is there
            rec = {name: reader.poll() for name, reader in self.readers.items()}
        clean = [CleanArticle.model_validate_json(r.value) for r in rec[CLEAN_ARTICLES.name]]
        unique = {
            UniqueArticle.model_validate_json(r.value).article_id for r in rec[UNIQUE_ARTICLES.name]
        }
        notices = [DuplicateNotice.model_validate_json(r.value) for r in rec[DUPLICATES.name]]
        enriched = {json.loads(r.value)["article_id"] for r in rec[ENRICHED_ARTICLES.name]}
        dead = {
            svc: {_dead_letter_id(r.value) for r in rec[DEAD_LETTERS[svc].name]} for svc in SERVICES
        }
        reasons = Counter(
            f"{svc}:{DeadLetter.model_validate_json(r.value).reason}"
            for svc in SERVICES
            for r in rec[DEAD_LETTERS[svc].name]
        )
        cleaned_inputs = {c.parent_id or c.article_id for c in clean}
        verdicts = unique | {n.article_id for n in notices} | dead["dedup"]
        return Ledger(
            missing_inputs=sorted(
                i for i in input_ids if i not in cleaned_inputs and i not in dead["clean"]
            ),
            unaccounted_clean=sorted({c.article_id for c in clean} - verdicts),
            unaccounted_unique=sorted(unique - enriched - dead["entities"]),
            self_duplicates=sorted(n.article_id for n in notices if n.duplicate_of == n.article_id),
            counts={
                "clean": len(clean),
                "unique": len(unique),
                "duplicate": len({n.article_id for n in notices}),
                "enriched": len(enriched),
                **{f"dead:{r}": n for r, n in sorted(reasons.items())},
            },
        )

    def close(self) -> None:
        for reader in self.readers.values():
            reader.close()


def wait_accounted(sup: Supervised, input_ids: set[str], timeout: float) -> Ledger:
    """Wait until every input is accounted for and every group has caught up; return the ledger."""
    accounts = Accounts(sup.bootstrap)
    deadline = time.monotonic() + timeout
    try:
        while True:
            ledger = accounts.ledger(input_ids)
            if ledger.complete:
                break
            if time.monotonic() > deadline or sup.proc.poll() is not None:
                raise AssertionError(
                    f"not accounted for after {timeout:.0f} s: {ledger}\n{sup.run.logs_text()}"
                )
            time.sleep(2)
        for service in SERVICES:
            wait_caught_up(
                sup.bootstrap,
                sup.run.group(service),
                SOURCES[service].name,
                timeout=max(30.0, deadline - time.monotonic()),
            )
        return accounts.ledger(input_ids)
    finally:
        accounts.close()


def alert_ids(bootstrap: str) -> list[str]:
    """What `newswatch alerts --json --from-beginning` prints: one alert id per line."""
    out = subprocess.run(
        [*NEWSWATCH, "alerts", "--json", "--from-beginning", "--bootstrap", bootstrap],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return [json.loads(line)["alert_id"] for line in out.stdout.splitlines() if line.strip()]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "held"
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def assert_ports_free(ports: list[int]) -> None:
    held = [p for p in ports if not port_is_free(p)]
    if held:  # say who holds them: a live listener, or a socket left by a process that is gone
        ss = subprocess.run(["ss", "-tanp"], capture_output=True, text=True, check=False).stdout
        lines = [x for x in ss.splitlines() if any(re.search(rf":{p}\b", x) for p in held)]
        raise AssertionError(f"ports still held: {held}\n" + "\n".join(lines[:40]))


def gone(p: psutil.Process) -> bool:
    """Whether ``p`` has exited entirely: reaped, or a zombie with no thread left.

    A zombie main thread is not enough: a multi-threaded process that exits (a worker's watchdog
    calling os._exit, the JVM's SIGKILL) can show as a zombie while its other threads are still
    exiting, and they hold its files: its listening sockets close only when the last one is done
    (tens of ms for a large process, longer on a loaded machine).
    """
    try:
        if not p.is_running():
            return True
        return p.status() == psutil.STATUS_ZOMBIE and p.num_threads() == 1
    except psutil.NoSuchProcess:
        return True


def assert_accounted(ledger: Ledger) -> None:
    assert ledger.complete, ledger
    # A replay must republish the same verdict, never call an article a duplicate of itself.
    assert not ledger.self_duplicates, f"duplicates of themselves: {ledger.self_duplicates[:10]}"


# ---------------------------------------------------------------- (a) kill -9 each worker mid-stream


def test_each_worker_killed_mid_stream_is_restarted_and_every_article_is_accounted_for(start_run):
    sup = start_run()
    bbc = bbc_batch("kill", 150, 15, seed=1)
    ids = {article_id for article_id, _ in bbc}
    batch = bbc[:40] + seed_batch() + bbc[40:]  # the seeds (an alert among them) mid-stream
    feeder = Feeder(sup.bootstrap, [value for _, value in batch], per_second=3.0)
    feeder.start()
    time.sleep(3)
    for service in SERVICES:
        mark = len(sup.run.output)
        victim = sup.worker(service)
        victim.send_signal(signal.SIGKILL)
        sup.wait_for(
            rf"newswatch: restarting {service} \(exited with -9\), try 1/5 in 10 s", 30, since=mark
        )
        sup.wait_for(rf"newswatch: started {service} again \(pid \d+\)", 60, since=mark)
        time.sleep(3)  # let the new worker join and work before the next kill
    feeder.finish(120)
    ledger = wait_accounted(sup, ids, timeout=300)
    print(f"\n(a) {len(batch)} sent; {ledger.counts}; restarts said: {sup.restarts_said()}")
    assert_accounted(ledger)
    alerts = alert_ids(sup.bootstrap)
    assert alerts, "the seeds' troop-movement story fired no alert"
    assert len(alerts) == len(set(alerts)), "an alert id printed twice"
    assert sup.proc.poll() is None, "the run did not stay up"
    said = sup.restarts_said()
    for service in SERVICES:
        assert any(
            line.startswith(f"newswatch: restarting {service} (exited with -9)") for line in said
        ), said


# ---------------------------------------------------------------- (b) kill -9 the broker


def test_a_killed_broker_is_restarted_on_its_data_and_every_article_is_accounted_for(start_run):
    sup = start_run()
    first_bbc = bbc_batch("broker1", 60, 6, seed=2)
    used = frozenset(i.split("-", 1)[1].removesuffix("#repost") for i, _ in first_bbc)
    second = bbc_batch("broker2", 60, 6, seed=3, exclude=used)  # other stories: new uniques after
    first = first_bbc[:20] + seed_batch() + first_bbc[20:]
    ids = {i for i, _ in first_bbc + second}
    feeder = Feeder(sup.bootstrap, [v for _, v in first], per_second=50.0)
    feeder.start()
    feeder.finish(60)
    time.sleep(2)  # mid-stream: entities is still working through the batch
    jvm = sup.broker()
    mark = len(sup.run.output)
    jvm.send_signal(signal.SIGKILL)
    sup.wait_for(
        r"newswatch: restarting broker \(exited with -9\), try 1/5 in 10 s", 30, since=mark
    )
    back = sup.wait_for(r"newswatch: broker back \(pid (\d+)\)", 180, since=mark)
    assert int(back.group(1)) != jvm.pid
    assert sup.broker().pid == int(back.group(1))
    feeder = Feeder(sup.bootstrap, [v for _, v in second], per_second=20.0)
    feeder.start()
    feeder.finish(60)
    ledger = wait_accounted(sup, ids, timeout=360)
    print(
        f"\n(b) {len(first) + len(second)} sent; {ledger.counts}; after the kill: {sup.run.output[mark:]}"
    )
    assert_accounted(ledger)
    alerts = alert_ids(sup.bootstrap)
    assert alerts and len(alerts) == len(set(alerts))
    assert sup.proc.poll() is None, "the run did not stay up"


# ---------------------------------------------------------------- (c) restarts inside the session timeout


def test_dedup_restarted_inside_the_session_timeout_or_stalled_still_gets_every_article_through(
    start_run,
):
    # No backoff (the policy would wait a session timeout): the replacement joins while its killed
    # predecessor is still a member, the race of faust-streaming #216/#312/#606. If a replacement
    # then never fetches, the stall detection (20 s here) restarts it.
    sup = start_run(
        {
            "NEWS_RUN_RESTART_DELAY_S": "0",
            "NEWS_RUN_STALL_AFTER_S": "20",
            "NEWS_RUN_MAX_RESTARTS": "15",
            "NEWS_RUN_STOP_TIMEOUT_S": "6",
        }
    )
    batch = bbc_batch("race", 90, 9, seed=4)
    ids = {i for i, _ in batch}
    feeder = Feeder(sup.bootstrap, [v for _, v in batch], per_second=2.5)
    feeder.start()
    pids = []
    for _ in range(4):
        time.sleep(4)
        mark = len(sup.run.output)
        victim = sup.worker("dedup")
        pids.append(victim.pid)
        victim.send_signal(signal.SIGKILL)
        sup.wait_for(
            r"newswatch: restarting dedup \(exited with -9\), try \d+/15 in 0 s", 30, since=mark
        )
        started = sup.wait_for(r"newswatch: started dedup again \(pid (\d+)\)", 30, since=mark)
        assert int(started.group(1)) not in pids
    # A stall for sure: dedup alive but frozen (SIGSTOP) while articles keep coming. It is found,
    # ignores the SIGTERM, is SIGKILLed after its stop bound (6 s + 5 s) and replaced.
    time.sleep(4)
    mark = len(sup.run.output)
    frozen = sup.worker("dedup")
    frozen.suspend()
    sup.wait_for(
        r"newswatch: restarting dedup \(stalled: lag \d+, no commit for 2\d s\), try \d+/15",
        90,
        since=mark,
    )
    sup.wait_for(r"newswatch: dedup did not stop within 11 s; killing it", 30, since=mark)
    sup.wait_for(r"newswatch: started dedup again", 30, since=mark)
    assert gone(frozen)
    feeder.finish(120)
    ledger = wait_accounted(sup, ids, timeout=360)
    stalls = [x for x in sup.restarts_said() if "stalled" in x]
    print(f"\n(c) {len(batch)} sent; {ledger.counts}; stall restarts: {stalls}")
    assert_accounted(ledger)
    assert sup.proc.poll() is None


# ---------------------------------------------------------------- (d, e) a bounded stop whatever happens


def test_stop_with_the_reader_gone_and_a_worker_ignoring_sigterm_leaves_nothing(start_run):
    stop_timeout = 6.0
    sup = start_run({"NEWS_RUN_STOP_TIMEOUT_S": str(stop_timeout)}, follow=False)
    ready = "".join(sup.run.output)
    controller = int(re.search(r"controller port (\d+)", ready).group(1))
    everything = sup.descendants()
    assert sup.broker() in everything and all(sup.worker(s) in everything for s in SERVICES)
    hung = sup.worker("entities")
    hung.suspend()  # SIGSTOP: it cannot act on SIGTERM; only SIGKILL ends it
    assert sup.proc.stdout is not None
    sup.proc.stdout.close()  # the `| tee` that died: every later print of the run hits a closed pipe
    started = time.monotonic()
    sup.proc.send_signal(signal.SIGINT)
    code = sup.proc.wait(120)
    took = time.monotonic() - started
    assert code == 0, f"exit {code} after {took:.0f} s"
    # workers: their bound plus the grace before SIGKILL; the broker: its clean stop (a few seconds)
    assert took < stop_timeout + 5 + 25, f"the stop took {took:.0f} s"
    time.sleep(1)
    left = [p.pid for p in everything if not gone(p)]
    assert not left, f"left running: {left}"
    ports = [*sup.run.metrics_ports.values(), sup.broker_port, controller]
    assert_ports_free(ports)


def test_a_killed_run_leaves_no_worker_behind_even_with_its_broker_gone(start_run):
    # kill -9 of `newswatch run`: its broker dies with it (SIGKILL on parent death) and the workers
    # get SIGTERM; their faust stop then waits on a broker that is gone, so each one's watchdog must
    # end it within the stop timeout.
    stop_timeout = 6.0
    sup = start_run({"NEWS_RUN_STOP_TIMEOUT_S": str(stop_timeout)})
    controller = int(sup.wait_for(r"controller port (\d+)", 5).group(1))
    Feeder(
        sup.bootstrap, [v for _, v in bbc_batch("killed", 20, 0, seed=5)], per_second=100.0
    ).run()
    everything = sup.descendants()
    sup.proc.kill()
    sup.proc.wait(10)
    started = time.monotonic()
    while time.monotonic() - started < stop_timeout + 20 and not all(gone(p) for p in everything):
        time.sleep(0.5)
    took = time.monotonic() - started
    left = [p.pid for p in everything if not gone(p)]
    assert not left, f"left running {took:.0f} s after the run died: {left}"
    assert took < stop_timeout + 10, f"the workers took {took:.0f} s"
    logs = {s: (sup.run.logs / f"{s}.log").read_text(errors="replace") for s in SERVICES}
    hard = [s for s, text in logs.items() if "not stopped within" in text]
    print(f"\nworkers ended by their watchdog: {hard} in {took:.1f} s")
    assert hard, (
        "no worker needed its watchdog: the scenario did not hang as it does with the broker gone"
    )
    ports = [*sup.run.metrics_ports.values(), sup.broker_port, controller]
    assert_ports_free(ports)
