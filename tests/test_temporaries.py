"""Temporaries name their owner; killed writers' leftovers are removed by the next writer of the
same output or by `mmgrid clean --stale`, never while their owner may still run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mmgrid import temporaries
from mmgrid.atomic import atomic_dir, atomic_path
from mmgrid.cli import main


def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    code = "import os; print(os.getpid())"
    proc = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(proc.stdout)


def fake(directory: Path, final: str, pid: int, start: int = 0, host: str | None = None) -> Path:
    host = host or temporaries.this_host()
    path = directory / f"{temporaries.PREFIX}{host}.{pid}-{start}.0a1b2c3d.{final}"
    path.mkdir()
    (path / "model.safetensors").write_bytes(b"x" * 1000)
    return path


def test_temporaries_are_named_after_their_owner_and_output(tmp_path):
    with atomic_path(tmp_path / "table.csv") as tmp:
        found = temporaries.parse(tmp)
        assert tmp.name.startswith(temporaries.PREFIX) and tmp.suffix == ".csv"
        assert (found.host, found.pid, found.final_name) == (
            temporaries.this_host(),
            os.getpid(),
            "table.csv",
        )
        assert found.local and not found.stale
    with atomic_dir(tmp_path / "model") as tmp:
        assert temporaries.parse(tmp).final_name == "model"
    assert temporaries.parse(tmp_path / "model") is None


def test_the_next_writer_removes_stale_temporaries_of_its_output_only(tmp_path):
    gone = dead_pid()
    stale = fake(tmp_path, "model", gone)
    other_output = fake(tmp_path, "other", gone)
    running = fake(tmp_path, "model", os.getpid(), temporaries.process_start(os.getpid()))
    elsewhere = fake(tmp_path, "model", gone, host="another-node")
    with atomic_dir(tmp_path / "model") as d:
        (d / "done").write_text("1")
    assert not stale.exists()
    assert other_output.exists() and running.exists() and elsewhere.exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_reused_pid_is_not_taken_for_the_owner(tmp_path):
    me = os.getpid()
    reused = fake(tmp_path, "model", me, start=temporaries.process_start(me) + 1)
    assert temporaries.parse(reused).stale
    with atomic_dir(tmp_path / "model"):
        pass
    assert not reused.exists()


WRITER = textwrap.dedent(
    """
    import sys, time
    from mmgrid.atomic import atomic_dir
    with atomic_dir(sys.argv[1]) as tmp:
        (tmp / "model.safetensors").write_bytes(b"x" * 100_000)
        print(tmp, flush=True)
        time.sleep(60)
    """
)


def test_a_sigkilled_writer_leaves_a_temporary_that_the_next_writer_removes(tmp_path):
    final = tmp_path / "model"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(final)], stdout=subprocess.PIPE, text=True
    )
    tmp = Path(proc.stdout.readline().strip())
    assert tmp.is_dir() and temporaries.parse(tmp).pid == proc.pid
    assert not temporaries.parse(tmp).stale  # its owner still runs
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert tmp.is_dir() and temporaries.parse(tmp).stale
    with atomic_dir(final) as d:
        (d / "done").write_text("1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


TERMINATED_WRITER = textwrap.dedent(
    """
    import sys, time
    from mmgrid.atomic import atomic_dir
    from mmgrid.temporaries import exit_on_sigterm
    with exit_on_sigterm(), atomic_dir(sys.argv[1]) as tmp:
        (tmp / "model.safetensors").write_bytes(b"x" * 100_000)
        print(tmp, flush=True)
        time.sleep(60)
    """
)


def test_a_sigterm_ends_a_writer_that_removes_its_own_temporary(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", TERMINATED_WRITER, str(tmp_path / "model")],
        stdout=subprocess.PIPE,
        text=True,
    )
    tmp = Path(proc.stdout.readline().strip())
    assert tmp.is_dir()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait() == 128 + signal.SIGTERM
    proc.stdout.close()
    assert list(tmp_path.iterdir()) == []


def test_clean_stale_lists_and_removes_the_rest(tmp_path, capsys):
    gone = dead_pid()
    nested = tmp_path / "results" / "checkpoints" / "title"
    nested.mkdir(parents=True)
    stale = fake(nested, "phase1", gone)
    stale_file = nested / f"{temporaries.PREFIX}{temporaries.this_host()}.{gone}-0.abcd.x.json"
    stale_file.write_text("{")
    running = fake(nested, "phase2", os.getpid(), temporaries.process_start(os.getpid()))
    elsewhere = fake(nested, "pretrain", gone, host="node7")
    unrelated = nested / ".hidden"
    unrelated.write_text("mine")

    assert main(["clean", "--stale", "--dry-run", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    assert f"would remove {stale}" in out and f"would remove {stale_file}" in out
    assert f"kept {running}" in out and "is running" in out
    assert f"kept {elsewhere}" in out and "--other-hosts" in out
    assert stale.exists() and stale_file.exists()

    assert main(["clean", "--stale", str(tmp_path / "results")]) == 0
    assert "2 stale temporaries" in capsys.readouterr().out
    assert not stale.exists() and not stale_file.exists()
    assert running.exists() and elsewhere.exists() and unrelated.read_text() == "mine"

    assert main(["clean", "--stale", "--other-hosts", str(tmp_path / "results")]) == 0
    assert not elsewhere.exists() and running.exists()
    assert main(["clean", "--stale", str(tmp_path / "nowhere")]) == 2


def test_clean_needs_the_stale_flag(tmp_path):
    with pytest.raises(SystemExit):
        main(["clean", str(tmp_path)])


def test_process_start_of_a_gone_process_is_none():
    assert temporaries.process_start(dead_pid()) is None
    assert temporaries.process_start(os.getpid()) is not None
