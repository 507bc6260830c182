"""An isolated stage's child process: outputs and classified errors come back; a message over the budget is dead-lettered as timeout and leaves nothing running."""

from __future__ import annotations

import asyncio

import psutil
import pytest

from shared.errors import Reject, StageError, classify, make_dead_letter
from shared.settings import ServiceSettings
from shared.worker.isolate import IsolatedHandler, StageUnavailable
from tests.shared.worker.isolate_stages import BROKEN, MISBEHAVING


@pytest.fixture
def isolated():
    handler = IsolatedHandler(MISBEHAVING, ServiceSettings(), budget_s=1.0, start_timeout_s=60)
    handler.start()
    yield handler
    handler.close()


def test_outputs_come_back_from_the_child(isolated):
    (out,) = isolated.call(b'{"id": "a", "text": "Troops arrived."}').outputs
    assert (out.article_id, out.text) == ("a", "Troops arrived.")


def test_errors_come_back_classified_with_the_childs_traceback(isolated):
    with pytest.raises(StageError) as bug:
        isolated.call(b'{"text": "boom"}')
    assert classify(bug.value) == ("internal_error", True)
    letter = make_dead_letter(
        service="clean",
        reason="internal_error",
        error=bug.value,
        value=b"x",
        failed_at=__import__("datetime").datetime.now(),
        with_traceback=True,
    )
    assert (
        letter.error_type == "KeyError"
        and "Traceback" in letter.error
        and "a bug in the core" in letter.error
    )
    with pytest.raises(StageError) as rejected:
        isolated.call(b'{"text": "reject"}')
    assert classify(rejected.value) == ("empty_after_cleaning", False)
    with pytest.raises(StageError) as invalid:
        isolated.call(b"{not json")
    assert classify(invalid.value) == ("invalid_json", False)
    assert (
        isolated.call(b'{"id": "b", "text": "Ships left."}').outputs[0].article_id == "b"
    )  # the child goes on


@pytest.mark.parametrize("value", [b"spin", b"sleep"])
def test_a_message_over_the_budget_is_a_timeout_and_its_work_is_killed(isolated, value):
    child = psutil.Process(isolated.proc.pid)
    with pytest.raises(Reject) as timeout:
        isolated.call(value)
    assert timeout.value.reason == "timeout"
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    # The next message gets a new child, started from the event loop.
    (out,) = asyncio.run(isolated(b"pid")).outputs
    assert int(out.article_id) != child.pid and isolated.restarts == 1


def test_a_child_that_dies_on_a_message_is_reported_and_replaced(isolated):
    with pytest.raises(Reject) as crashed:
        isolated.call(b"die")
    assert crashed.value.reason == "stage_crashed" and "died with 9" in str(crashed.value)
    assert (
        asyncio.run(isolated(b'{"id": "c", "text": "Troops arrived."}')).outputs[0].article_id
        == "c"
    )


def test_a_stage_that_cannot_build_is_unavailable_not_a_dead_letter():
    handler = IsolatedHandler(BROKEN, ServiceSettings(), budget_s=1.0, start_timeout_s=60)
    with pytest.raises(StageUnavailable, match="model not installed"):
        handler.start()
    assert handler.proc is None


def test_closing_leaves_no_child(isolated):
    child = psutil.Process(isolated.proc.pid)
    isolated.close()
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
