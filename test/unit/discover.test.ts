import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { discoverStores, localPathOfUri, trackingUriFromDotenv, type StoreDetector } from '../../src/backend/discover';
import { chooseStoreRoot, FALLBACK_STORE_DIR } from '../../src/backend/storeRoot';
import { tempRoot } from './helpers';

/** Stands in for the format readers: a `.db` file is an mlflow.db, a folder with `0/meta.yaml` a file store. */
const detect: StoreDetector = (p) => {
  if (p.endsWith('.db') && fs.existsSync(p)) return 'mlflow.db';
  if (fs.existsSync(path.join(p, '0', 'meta.yaml'))) return 'mlruns';
  return undefined;
};

describe('finding existing MLflow stores in a workspace', () => {
  it('reads MLFLOW_TRACKING_URI from a .env file as dotenv loaders do', () => {
    assert.equal(trackingUriFromDotenv('A=1\nMLFLOW_TRACKING_URI=sqlite:///mlflow.db\n'), 'sqlite:///mlflow.db');
    assert.equal(trackingUriFromDotenv('export MLFLOW_TRACKING_URI="http://x:5000" # team'), 'http://x:5000');
    assert.equal(trackingUriFromDotenv("MLFLOW_TRACKING_URI='file:///data/mlruns'"), 'file:///data/mlruns');
    assert.equal(trackingUriFromDotenv('MLFLOW_TRACKING_URI=a.db\nMLFLOW_TRACKING_URI=b.db # later wins'), 'b.db');
    assert.equal(trackingUriFromDotenv('# MLFLOW_TRACKING_URI=x\nOTHER=1'), undefined);
  });

  it('maps tracking URIs to local paths as the client does', () => {
    assert.equal(localPathOfUri('sqlite:///mlflow.db', '/ws'), '/ws/mlflow.db');
    assert.equal(localPathOfUri('sqlite:////data/mlflow.db', '/ws'), '/data/mlflow.db');
    assert.equal(localPathOfUri('file:///data/mlruns', '/ws'), '/data/mlruns');
    assert.equal(localPathOfUri('./runs', '/ws'), '/ws/runs');
    assert.equal(localPathOfUri('http://host:5000', '/ws'), undefined);
    assert.equal(localPathOfUri('databricks://profile', '/ws'), undefined);
  });

  it('finds mlflow.db, a legacy mlruns/, the .env store and configured paths, each once', () => {
    const ws = tempRoot();
    fs.writeFileSync(path.join(ws, 'mlflow.db'), '');
    fs.mkdirSync(path.join(ws, 'mlruns', '0'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'mlruns', '0', 'meta.yaml'), 'name: Default\n');
    fs.mkdirSync(path.join(ws, 'data'));
    fs.writeFileSync(path.join(ws, 'data', 'team.db'), '');
    fs.writeFileSync(path.join(ws, '.env'), 'MLFLOW_TRACKING_URI=sqlite:///data/team.db\n');
    const found = discoverStores(ws, detect, ['mlflow.db', 'missing.db']);
    assert.deepEqual(
      found.stores.map((s) => [path.relative(ws, s.path), s.kind, s.via]),
      [
        ['mlflow.db', 'mlflow.db', 'setting'],
        ['data/team.db', 'mlflow.db', '.env'],
        ['mlruns', 'mlruns', 'workspace'],
      ],
    );
    assert.deepEqual(found.servers, []);
  });

  it('reports a remote tracking URI as a server, not a store', () => {
    const ws = tempRoot();
    fs.writeFileSync(path.join(ws, '.env'), 'MLFLOW_TRACKING_URI=https://mlflow.example.com\n');
    assert.deepEqual(discoverStores(ws, detect), { stores: [], servers: ['https://mlflow.example.com'] });
  });
});

describe('where Runlens keeps its own store', () => {
  it('uses mlruns/ while it is missing, empty or a Runlens store', () => {
    const ws = tempRoot();
    assert.equal(chooseStoreRoot(ws).root, path.join(ws, 'mlruns'));
    fs.mkdirSync(path.join(ws, 'mlruns'));
    fs.writeFileSync(path.join(ws, 'mlruns', '.DS_Store'), '');
    assert.equal(chooseStoreRoot(ws).root, path.join(ws, 'mlruns'));
    fs.mkdirSync(path.join(ws, 'mlruns', '.runlens'));
    fs.mkdirSync(path.join(ws, 'mlruns', '0'));
    assert.deepEqual(chooseStoreRoot(ws), { root: path.join(ws, 'mlruns') });
  });

  it('moves aside when mlruns/ belongs to MLflow, and takes a configured path as given', () => {
    const ws = tempRoot();
    fs.mkdirSync(path.join(ws, 'mlruns', '0'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'mlruns', '0', 'meta.yaml'), 'name: Default\n');
    assert.deepEqual(chooseStoreRoot(ws), { root: path.join(ws, FALLBACK_STORE_DIR), displaced: path.join(ws, 'mlruns') });
    assert.deepEqual(chooseStoreRoot(ws, 'tracking'), { root: path.join(ws, 'tracking') });
  });
});
