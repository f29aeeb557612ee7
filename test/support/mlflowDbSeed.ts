/**
 * A script for the real mlflow client that writes an `mlflow.db` the way a user's MLflow would
 * (MLflow ≥ 3.7's default store): two experiments, a few runs with a metric history and params,
 * and a registered model. Run with cwd = a scratch folder so the client's default artifact root
 * (`./mlruns`) does not land in the workspace.
 */
export function mlflowDbSeedScript(dbPath: string): string {
  return `
import mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri(${JSON.stringify(`sqlite:///${dbPath}`)})
mlflow.set_experiment("legacy-churn")
for i, lr in enumerate((0.1, 0.03, 0.01)):
    with mlflow.start_run(run_name=f"xgb-lr{lr}"):
        mlflow.log_params({"lr": lr, "depth": 4 + i})
        for step in range(5):
            mlflow.log_metric("val_auc", 0.7 + 0.02 * step - 0.01 * i, step=step)
mlflow.set_experiment("legacy-baseline")
with mlflow.start_run(run_name="logreg"):
    mlflow.log_metric("val_auc", 0.78)
MlflowClient().create_registered_model("churn-model", description="from the legacy store")
`;
}
