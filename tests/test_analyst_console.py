"""`make sql` (`python -m kontor sql`): Harlequin, installed from pyproject, opens the analysts' snapshot
read-only in a real terminal (a pty) and shows its catalogue; a missing warehouse gets a one-line hint."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from core.warehouse import snapshot_path
from kontor.__main__ import console_command, console_env
from kontor.__main__ import main as kontor_main
from tests import raw_fixtures as fx
from tests.conftest import terminal_env
from tests.dbt_warehouse import fixture_warehouse

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[A-Za-z]")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    path = tmp_path_factory.mktemp("console") / "warehouse.duckdb"
    assert fixture_warehouse(path, fx.load_small_fixture, as_of=dt.date(2025, 12, 15)).ok
    return snapshot_path(path)


def test_make_sql_runs_harlequin_read_only_on_the_snapshot(snapshot, capsys):
    assert kontor_main(["sql", "--warehouse", str(snapshot), "--print"]) == 0
    cmd = capsys.readouterr().out.split()
    assert Path(cmd[0]).name == "harlequin" and Path(cmd[0]).exists(), "harlequin comes with the setup"
    assert "--read-only" in cmd and cmd[-1] == str(snapshot)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^sql: setup", makefile, re.M) and "-m kontor sql" in makefile


def test_harlequin_opens_the_snapshot_in_a_terminal(snapshot):
    """The real console in a pseudo-terminal: it connects and lists the database in its catalogue."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    proc = subprocess.Popen(
        console_command(snapshot),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=terminal_env(console_env()),
        start_new_session=True,
    )
    raw, screen, deadline = b"", "", time.monotonic() + 90
    try:
        # the catalogue may draw after the "connected" notice: read until both are on the screen
        while time.monotonic() < deadline and not ("Database Connected" in screen and "warehouse" in screen):
            if select.select([master], [], [], 0.5)[0]:
                raw += os.read(master, 65536)
                screen = ANSI.sub("", raw.decode(errors="replace"))
            assert proc.poll() is None, f"harlequin exited {proc.returncode}: {screen[-2000:]}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        os.close(master)
        os.close(slave)
    assert "Database Connected" in screen, screen[-2000:]
    assert "warehouse" in screen  # the catalogue lists the database (DuckDB names it after the file)


def test_a_missing_warehouse_names_the_command_to_run(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "kontor", "sql", "--warehouse", str(tmp_path / "no.duckdb")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "run `make demo` or `make sync` first" in proc.stderr
