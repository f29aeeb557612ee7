"""The checked-in MLflow schema module must be what the newest installed mlflow creates today."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEWEST_PYTHON = ROOT / ".venv" / "latest" / "bin" / "python"
MODULE = ROOT / "src" / "backend" / "mlflowdb" / "export" / "mlflowSchema.generated.ts"


def test_generated_schema_module_has_not_drifted():
    done = subprocess.run([str(NEWEST_PYTHON), str(ROOT / "scripts" / "gen-mlflow-schema.py"), "--stdout"], capture_output=True, text=True, timeout=300,
                          env={"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == MODULE.read_text(), (
        "src/backend/mlflowdb/export/mlflowSchema.generated.ts differs from what the installed newest mlflow creates; "
        "run `.venv/latest/bin/python scripts/gen-mlflow-schema.py`, review the diff and the exporter's column use, and commit it"
    )
