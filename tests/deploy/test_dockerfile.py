"""The Dockerfile, checked line by line without a Docker engine (none runs on the CI machine): multi-stage,
installs only the hash-checked locks with no dependency resolution, a CPU-only torch (the lock's pin and a build
step that fails on any CUDA runtime), a non-root numeric user with a writable home, production mode and
``cloudoptima`` as the entrypoint; ``.dockerignore`` keeps the virtualenv and node_modules out of the context."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

import pytest

from tests.deploy.deploy_support import ROOT, cli_commands


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, keyword: str) -> list[str]:
        return [argument for instruction, argument in self.instructions if instruction == keyword]

    def env(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for argument in self.values("ENV"):
            for pair in shlex.split(argument):
                key, _, value = pair.partition("=")
                found[key] = value
        return found


def parse_dockerfile(text: str) -> list[Stage]:
    """Stages of a Dockerfile: continuation lines joined, comments dropped, each instruction upper-cased."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    stages: list[Stage] = []
    for line in logical:
        keyword, _, argument = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = argument.split()
            stages.append(Stage(parts[0], parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, argument.strip()))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text(encoding="utf-8"))


def test_the_image_is_built_in_stages(stages: list[Stage]) -> None:
    assert [s.name for s in stages[:-1]] == ["console", "deps"]
    final = stages[-1]
    copied_from = {re.search(r"--from=(\S+)", a).group(1) for a in final.values("COPY") if "--from=" in a}  # type: ignore[union-attr]
    assert copied_from == {"console", "deps"}
    assert all(s.base.startswith("python:3.11") for s in stages[1:])


def test_only_the_hash_checked_locks_are_installed(stages: list[Stage]) -> None:
    installs = [run for stage in stages for run in stage.values("RUN") if "pip install" in run]
    lock_installs = [
        cmd for run in installs for cmd in run.split("&&") if "pip install" in cmd and " -r " in cmd
    ]
    assert {re.search(r"-r (\S+)", c).group(1) for c in lock_installs} == {  # type: ignore[union-attr]
        "requirements/bootstrap.lock",
        "requirements/runtime.lock",
    }
    for command in lock_installs:
        assert "--require-hashes" in command and "--no-deps" in command, command
    project = [cmd for run in installs for cmd in run.split("&&") if cmd.strip().endswith(" .")]
    assert len(project) == 1 and "--no-deps" in project[0], "the project itself resolves nothing"


def test_torch_is_the_cpu_build_and_cuda_fails_the_build(stages: list[Stage]) -> None:
    lock = (ROOT / "requirements" / "runtime.lock").read_text(encoding="utf-8")
    pins = re.findall(r"^torch==(\S+)", lock, flags=re.MULTILINE)
    assert len(pins) == 1 and pins[0].endswith("+cpu"), pins
    names = re.findall(r"^([A-Za-z0-9_.-]+)==", lock, flags=re.MULTILINE)
    assert [n for n in names if n.lower().startswith(("nvidia-", "triton"))] == []
    deps = next(s for s in stages if s.name == "deps")
    (install,) = [r for r in deps.values("RUN") if "runtime.lock" in r]
    assert "--find-links https://download.pytorch.org/whl/cpu/" in install
    assert "torch.version.cuda is None" in install and "nvidia-" in install


def test_a_non_root_user_with_a_writable_home_runs_cloudoptima(stages: list[Stage]) -> None:
    final = stages[-1]
    (user,) = final.values("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) >= 1000 and gid.isdigit() and int(gid) != 0, user
    (create,) = [r for r in final.values("RUN") if "useradd" in r]
    home = re.search(r"--home-dir (\S+)", create).group(1)  # type: ignore[union-attr]
    assert "--create-home" in create and f"--uid {uid}" in create
    env = final.env()
    assert env["HOME"] == home
    assert env["CLOUDOPTIMA_STATE_DIR"].startswith(home + "/")
    assert env["CLOUDOPTIMA_MODE"] == "production"
    assert final.values("WORKDIR")[-1] == home
    user_at = next(i for i, (keyword, _) in enumerate(final.instructions) if keyword == "USER")
    assert all(keyword != "RUN" for keyword, _ in final.instructions[user_at:]), "RUN after USER"


def test_cloudoptima_is_the_entrypoint(stages: list[Stage]) -> None:
    final = stages[-1]
    (entrypoint,) = final.values("ENTRYPOINT")
    assert json.loads(entrypoint) == ["cloudoptima"]
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'cloudoptima = "cloudoptima_cli:main"' in pyproject
    commands = cli_commands()
    assert {"gateway", "worker"} <= set(commands) and "upgrade" in commands["db"]


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = {
        line.strip().strip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "node_modules", "web/node_modules", ".cloudoptima", ".git"} <= ignored


def test_the_parser_reads_continued_lines_and_stages() -> None:
    stages = parse_dockerfile("FROM a AS one\n# note\nRUN x \\\n  && y\nFROM b\nUSER 1:1\n")
    assert [(s.base, s.name) for s in stages] == [("a", "one"), ("b", None)]
    assert stages[0].values("RUN") == ["x  && y"]
    with pytest.raises(AssertionError, match="continued line"):
        parse_dockerfile("FROM a\nRUN x \\\n")
