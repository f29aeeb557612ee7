-- Bulk-seeds :n runs (5 params, 3 latest metrics, a run-name tag each) into experiment :exp of an
-- mlflow server's PostgreSQL database, for "time to first tree items from a remote with 10k runs":
--   psql -h 127.0.0.1 -p PORT -U postgres -d mlflow -v exp=1 -v n=10000 -f bench/seed-remote-runs.sql
-- (create the experiment through the server first, so it has its artifact location).
INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)
SELECT md5('seed' || g), 'seed-' || g, 'LOCAL', '', '', 'bench', 'FINISHED', 1700000000000 + g * 1000, 1700000000000 + g * 1000 + 500, '', 'active',
       'mlflow-artifacts:/' || :exp || '/' || md5('seed' || g) || '/artifacts', :exp
FROM generate_series(1, :n) g;
INSERT INTO params (key, value, run_uuid) SELECT 'p' || k, (g % 97)::text, md5('seed' || g) FROM generate_series(1, :n) g, generate_series(1, 5) k;
INSERT INTO tags (key, value, run_uuid) SELECT 'mlflow.runName', 'seed-' || g, md5('seed' || g) FROM generate_series(1, :n) g;
INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)
SELECT 'm' || k, (g % 101) * 0.01, 1700000000000 + g, 0, false, md5('seed' || g) FROM generate_series(1, :n) g, generate_series(1, 3) k;
INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)
SELECT 'm' || k, (g % 101) * 0.01, 1700000000000 + g, md5('seed' || g), 0, false FROM generate_series(1, :n) g, generate_series(1, 3) k;
