/** Streams local files into a run's artifacts through the artifact proxy (Node only). */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { TrackingApiError } from './trackingClient';

/**
 * Streams a local file to `<artifact_uri>/<artifactPath>` through the artifact proxy, the way
 * the mlflow client does for `mlflow-artifacts:` URIs. `onBytes` reports progress.
 */
export function uploadArtifact(baseUrl: string, artifactUri: string, artifactPath: string, file: string, onBytes?: (n: number) => void): Promise<void> {
  const prefix = 'mlflow-artifacts:';
  if (!artifactUri.startsWith(prefix)) {
    return Promise.reject(new TrackingApiError('INVALID_PARAMETER_VALUE', `Runs stored at ${artifactUri} cannot be written through the artifact proxy.`, 400));
  }
  // URL parsing would silently resolve '..' and write outside the run: refuse such paths here.
  if (artifactPath.startsWith('/') || /[\\\u0000]/.test(artifactPath) || artifactPath.split('/').some((s) => s === '..' || s === '.')) {
    return Promise.reject(new TrackingApiError('INVALID_PARAMETER_VALUE', `Invalid artifact path '${artifactPath}': it must be relative and stay inside the run (no '..', '.', leading '/' or backslashes).`, 400));
  }
  const base = artifactUri.slice(prefix.length).replace(/^\/+/, '');
  const target = [base, artifactPath].filter(Boolean).join('/').split('/').map(encodeURIComponent).join('/');
  const url = new URL(`${baseUrl}/api/2.0/mlflow-artifacts/artifacts/${target}`);
  const size = fs.statSync(file).size;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { 'Content-Length': size, 'Content-Type': 'application/octet-stream' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if ((res.statusCode ?? 500) < 300) return resolve();
        let e: { error_code?: string; message?: string } = {};
        try {
          e = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof e;
        } catch {
          // plain-text error body
        }
        reject(new TrackingApiError(e.error_code ?? `HTTP_${res.statusCode}`, e.message ?? `upload failed with HTTP ${res.statusCode}`, res.statusCode ?? 500));
      });
    });
    req.on('error', (err) => reject(new TrackingApiError('UNAVAILABLE', `upload of ${file} failed: ${err.message}`, 0)));
    const stream = fs.createReadStream(file);
    if (onBytes) stream.on('data', (c) => onBytes(c.length));
    stream.on('error', (err) => req.destroy(err));
    stream.pipe(req);
  });
}
