/**
 * Where exported artifacts go and which URIs the exported rows carry.
 *
 * With `--artifacts DIR`, every experiment, run and logged model points at its copy under DIR as
 * an absolute `file://` URI, in `mlflow server`'s own layout (`<experiment_id>/<run_id>/artifacts`,
 * `<experiment_id>/models/<model_id>/artifacts`). Why `file://` and not `mlflow-artifacts:`:
 * an `mlflow-artifacts:` URI means "wherever the server's --artifacts-destination is", so the
 * rows would only resolve when the server is started with exactly DIR (the default, ./mlartifacts,
 * is relative to the server's working directory), and never for a client that opens the
 * `sqlite:///` file directly. An absolute `file://` URI resolves the same for `mlflow server` with
 * or without --artifacts-destination (its handlers read non-proxied locations themselves) and for
 * `mlflow.search_runs`/`download_artifacts` against `sqlite:///…`. The cost: DIR must stay where
 * it is (moving it means exporting again), and a client on another machine downloads through
 * the server's UI routes only. Without `--artifacts`, rows keep the URIs the source recorded.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export class ArtifactPlan {
  /** Source URI prefix → exported URI prefix, so model-version sources inside them follow. */
  private readonly moved = new Map<string, string>();

  /** `dir`: the absolute artifact directory, or undefined to keep the source's URIs. */
  constructor(readonly dir: string | undefined) {}

  private uri(...segments: string[]): string {
    return pathToFileURL(path.join(this.dir!, ...segments)).href;
  }

  experimentLocation(experimentId: string, sourceLocation: string): string {
    return this.dir === undefined ? sourceLocation : this.uri(experimentId);
  }

  /** The run's exported artifact URI and, with DIR, the directory its files are copied to. */
  run(experimentId: string, runId: string, sourceUri: string): { uri: string; target: string | undefined } {
    if (this.dir === undefined) return { uri: sourceUri, target: undefined };
    const uri = this.uri(experimentId, runId, 'artifacts');
    this.remember(sourceUri, uri);
    return { uri, target: path.join(this.dir, experimentId, runId, 'artifacts') };
  }

  loggedModel(experimentId: string, modelId: string, sourceUri: string): { uri: string; target: string | undefined } {
    if (this.dir === undefined) return { uri: sourceUri, target: undefined };
    const uri = this.uri(experimentId, 'models', modelId, 'artifacts');
    this.remember(sourceUri, uri);
    return { uri, target: path.join(this.dir, experimentId, 'models', modelId, 'artifacts') };
  }

  /** A URI inside a run's or model's artifacts (a model version's source) rewritten to its copy. */
  rebase(uri: string): string {
    for (const [from, to] of this.moved) {
      if (uri === from) return to;
      if (uri.startsWith(`${from}/`)) return to + uri.slice(from.length);
    }
    return uri;
  }

  private remember(sourceUri: string, uri: string): void {
    const from = sourceUri.replace(/\/+$/, '');
    if (from) this.moved.set(from, uri);
  }
}
