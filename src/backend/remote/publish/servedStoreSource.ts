/**
 * A Runlens store that another process serves (a VS Code window, `runlens serve`), read for a
 * publish: entities over that server's REST API, artifact files straight from the store's
 * folder, where the owner writes them by atomic rename, so a file seen is a whole file.
 */
import * as path from 'node:path';
import type { LoggedModel } from '../../../domain/modelTypes';
import { proxyPath } from '../../../domain/artifactUri';
import type { ArtifactLocation, MlflowSource, SourceRun } from '../../api/source';
import { openRestSource } from '../restSource';

export async function openServedStore(url: string, root: string): Promise<MlflowSource> {
  const rest = await openRestSource(url, { purpose: 'publish' });
  const onDisk = (uri: string): ArtifactLocation => {
    const rel = proxyPath(uri);
    const dir = rel !== undefined && rel !== '' && !rel.split('/').includes('..') ? path.join(root, ...rel.split('/')) : undefined;
    return { dir, uri };
  };
  return {
    kind: rest.kind,
    description: `the Runlens store at ${root} (served by ${url})`,
    experiments: () => rest.experiments(),
    runs: (id) => rest.runs(id),
    metricHistory: (id) => rest.metricHistory(id),
    runArtifacts: (run: SourceRun) => onDisk(run.info.artifact_uri),
    registeredModels: () => rest.registeredModels(),
    loggedModels: (id) => rest.loggedModels(id),
    loggedModelArtifacts: (m: LoggedModel) => onDisk(m.info.artifact_uri),
    traces: (id) => rest.traces(id),
    close: () => rest.close(),
  };
}
