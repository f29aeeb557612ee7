"""An mlflow.db with transactions still in its `-wal` file, read by both mlflow.db paths (in memory and paged)."""
import shutil
import sqlite3

from mlflow_store_fixtures import PAGED, dumper, store_path, tags_of  # noqa: F401  (dumper is a fixture)


def test_wal_frames_are_read(dumper, tmp_path):
    """Committed transactions still in `mlflow.db-wal` (not yet checkpointed) are part of what we
    read; frames of a transaction that has not committed, and a torn last frame, are not."""
    db = tmp_path / "mlflow.db"
    shutil.copy(store_path("db"), db)
    con = sqlite3.connect(db, isolation_level=None)
    assert con.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("INSERT INTO experiment_tags (key, value, experiment_id) VALUES ('from_wal', 'yes', 0)")
    con.execute("UPDATE experiments SET name = 'renamed-in-wal' WHERE experiment_id = 1")
    try:
        committed = (tmp_path / "mlflow.db-wal").stat().st_size
        assert committed > 0
        # A second committed transaction, then a copy whose last frame (its commit) is torn.
        con.execute("UPDATE experiments SET name = 'renamed-again' WHERE experiment_id = 1")
        torn = tmp_path / "torn"
        torn.mkdir()
        shutil.copy(db, torn / "mlflow.db")
        wal = (tmp_path / "mlflow.db-wal").read_bytes()
        (torn / "mlflow.db-wal").write_bytes(wal[:-10])
        # A big transaction that does not commit: a one-page cache spills its frames into the WAL.
        con.execute("PRAGMA cache_size=1")
        con.execute("BEGIN")
        con.executemany("INSERT INTO experiment_tags (key, value, experiment_id) VALUES (?, ?, 0)", [(f"uncommitted-{i}", "x" * 2000) for i in range(300)])
        assert (tmp_path / "mlflow.db-wal").stat().st_size > len(wal), "the open transaction spilled frames into the WAL"

        ours = dumper(db)
        exps = {e["experiment_id"]: e for e in ours["experiments"]}
        tags0 = tags_of(exps["0"]["tags"])
        assert tags0.get("from_wal") == "yes"
        assert not any(k.startswith("uncommitted-") for k in tags0)
        assert exps["1"]["name"] == "renamed-again"
        assert "WAL frames applied" in ours["description"]
        assert len(ours["history"]) >= 7

        paged = dumper(db, env=PAGED)
        assert {e["experiment_id"]: e for e in paged["experiments"]} == exps
        assert paged["history"] == ours["history"]

        for env in (None, PAGED):
            torn_exps = {e["experiment_id"]: e for e in dumper(torn / "mlflow.db", env=env)["experiments"]}
            assert torn_exps["1"]["name"] == "renamed-in-wal"
        con.execute("ROLLBACK")
    finally:
        con.close()
