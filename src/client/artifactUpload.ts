/** Streams local files into a run's artifacts through the artifact proxy (Node only). */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { proxyPath } from '../domain/artifactUri';
import { artifactPathProblem } from './artifactPaths';
import { apiError, TrackingApiError } from './trackingClient';

/**
 * Streams a local file to `<artifact_uri>/<artifactPath>` through the artifact proxy, the way
 * the mlflow client does for `mlflow-artifacts:` URIs. `onBytes` reports progress.
 */
export function uploadArtifact(baseUrl: string, artifactUri: string, artifactPath: string, file: string, onBytes?: (n: number) => void): Promise<void> {
  const base = proxyPath(artifactUri);
  if (base === undefined) {
    return Promise.reject(new TrackingApiError('INVALID_PARAMETER_VALUE', `Runs stored at ${artifactUri} cannot be written through the artifact proxy.`, 400));
  }
  const problem = artifactPathProblem(artifactPath);
  if (problem) return Promise.reject(new TrackingApiError('INVALID_PARAMETER_VALUE', problem, 400));
  const target = [base, artifactPath].filter(Boolean).join('/').split('/').map(encodeURIComponent).join('/');
  const url = new URL(`${baseUrl}/api/2.0/mlflow-artifacts/artifacts/${target}`);
  const size = fs.statSync(file).size;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { 'Content-Length': size, 'Content-Type': 'application/octet-stream' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 500;
        if (status < 300) return resolve();
        reject(apiError(status, Buffer.concat(chunks).toString('utf8'), `upload failed with HTTP ${status}`));
      });
    });
    req.on('error', (err) => reject(new TrackingApiError('UNAVAILABLE', `upload of ${file} failed: ${err.message}`, 0)));
    const stream = fs.createReadStream(file);
    if (onBytes) stream.on('data', (c) => onBytes(c.length));
    stream.on('error', (err) => req.destroy(err));
    stream.pipe(req);
  });
}
