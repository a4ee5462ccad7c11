"""``python -m cloudoptima_workflows.worker`` refuses bad arguments with one line naming them (exit 2)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cloudoptima.settings import Settings
from cloudoptima_workflows.worker import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--queues", "collection,bogus"], "unknown queue(s): bogus"),
        (["--threads", "0"], "--threads must be between 1 and 256, got 0"),
        (["--threads", "many"], "argument --threads: invalid int value: 'many'"),
    ],
)
def test_bad_arguments_exit_2_naming_them(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_the_thread_setting_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDOPTIMA_WORKER_THREADS", "0")
    with pytest.raises(ValidationError, match="CLOUDOPTIMA_WORKER_THREADS"):
        Settings()
    monkeypatch.setenv("CLOUDOPTIMA_WORKER_THREADS", "3")
    assert Settings().worker_activity_threads == 3
