"""Alembic migrations: head equals the tables, down and up again, stale databases refused."""

from __future__ import annotations

import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, func, insert, inspect, select, table, text

from app.cli.devserver import upgrade_schema
from app.store.engine import build_engine, read
from app.store.schema_version import (
    SchemaNotCurrent,
    check_current,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from app.store.tables import metadata, runs
from tests.conftest import API_KEY, RELAY_SECRET
from tests.support.processes import ROOT, free_port, python_cmd
from tests.support.run_rows import new_run_row

STALE = "database schema is not up to date (at none, need {head}): run `relay db upgrade`"


@pytest.fixture
def engine(database_url):
    engine = build_engine(database_url, pool_size=2)
    yield engine
    engine.dispose()


def live_env(database_url: str, tmp_path) -> dict:
    """Valid live-mode settings and nothing else: only the database can stop a start."""
    return {
        **os.environ,
        "ZAPIER_ACCESS_TOKEN": "test-token",
        "ZAPIER_API_BASE": "http://127.0.0.1:9",
        "PUBLIC_BASE_URL": "https://relay.example.com",
        "DATABASE_URL": database_url,
        "RELAY_INSTANCE_DIR": str(tmp_path),
        "RELAY_API_KEYS": API_KEY,
        "RELAY_SECRET": RELAY_SECRET,
        "PORT": str(free_port()),
        "BIND_HOST": "127.0.0.1",
    }


def run_to_exit(args: list[str], env: dict) -> subprocess.CompletedProcess:
    """Run a command that should exit on its own; its whole process group is killed if not."""
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        text=True,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def schema_difference(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


def add_run(engine, run_id: str = "run-kept-by-migrations") -> None:
    row = new_run_row(run_id, stored_action_id="sa", idempotency_id=run_id)
    # Only the baseline's columns: the same insert works at any revision.
    baseline_runs = table("runs", *(column(name) for name in row))
    with engine.begin() as conn:
        conn.execute(insert(baseline_runs).values(row))


def run_count(engine) -> int:
    with read(engine) as conn:
        return conn.execute(select(func.count()).select_from(runs)).scalar()


def test_upgrade_from_empty_gives_exactly_the_tables(engine):
    assert upgrade(engine) == head_revision()
    assert schema_difference(engine) == []
    with engine.connect() as conn:
        # On PostgreSQL the version table sits in the test's private schema, beside the tables.
        assert "alembic_version" in inspect(conn).get_table_names()
        assert current_revision(conn) == head_revision()
    assert check_current(engine) == head_revision()
    assert upgrade(engine) == head_revision()  # a second release step changes nothing


def test_downgrade_to_base_and_upgrade_again(engine):
    upgrade(engine)
    add_run(engine)
    assert downgrade(engine, "-1") != head_revision()
    assert upgrade(engine) == head_revision()
    assert run_count(engine) == 1  # a step down and back up keeps the data it can
    assert downgrade(engine, "base") is None
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert schema_difference(engine) == [] and run_count(engine) == 0


def test_worker_refuses_an_unmigrated_database_with_one_line(database_url, tmp_path):
    done = run_to_exit(python_cmd("-m", "app.cli", "worker"), live_env(database_url, tmp_path))
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["relay: " + STALE.format(head=head_revision())]


def test_gunicorn_refuses_an_unmigrated_database_before_forking(database_url, tmp_path):
    gunicorn = python_cmd("-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "app:create_app()")
    done = run_to_exit(gunicorn, live_env(database_url, tmp_path))
    assert done.returncode != 0
    naming_the_fix = [line for line in done.stderr.splitlines() if "relay db upgrade" in line]
    assert naming_the_fix == ["relay: " + STALE.format(head=head_revision())]
    assert "Traceback" not in done.stdout + done.stderr
    assert "Booting worker" not in done.stdout + done.stderr


def test_an_older_revision_is_refused_until_upgraded(engine):
    upgrade(engine, "0001")
    with pytest.raises(SchemaNotCurrent, match=r"at 0001, need .*relay db upgrade"):
        check_current(engine)


def test_a_database_migrated_by_a_newer_release_is_refused(engine):
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaNotCurrent, match=r"newer than this relay \(at 9999"):
        check_current(engine)
    with pytest.raises(SchemaNotCurrent, match="newer than this relay"):
        upgrade(engine)


def test_two_release_steps_at_once_both_succeed(database_url, tmp_path):
    # Several machines may run the release step together: they take turns, neither fails.
    env = live_env(database_url, tmp_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        steps = [pool.submit(run_to_exit, python_cmd("-m", "app.cli", "db", "upgrade"), env)]
        steps.append(pool.submit(run_to_exit, python_cmd("-m", "app.cli", "db", "upgrade"), env))
        done = [step.result() for step in steps]
    assert [step.returncode for step in done] == [0, 0], [step.stderr for step in done]
    assert all(f"(at {head_revision()})" in step.stdout for step in done)


def test_make_run_migrates_a_fresh_database_first(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ZAPIER_ACCESS_TOKEN", "")
    monkeypatch.setenv("RELAY_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert upgrade_schema()
    engine = build_engine(database_url, pool_size=1)
    try:
        assert check_current(engine) == head_revision()
    finally:
        engine.dispose()
