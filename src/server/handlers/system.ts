/** Health, version and capability probes the client and tools call before real work. */
import type { BackendCapabilities } from '../../backend/api/capabilities';
import type { Router } from '../router';

/**
 * The MLflow server version we report. The client gates OTLP span export on >= 3.4
 * (shared/reference/mlflow-compat.md §7): with /v1/traces served, it sends each span as it ends,
 * so traces show up (and grow) while they run instead of only once they finish.
 */
export const COMPAT_MLFLOW_VERSION = '3.6.0';

export function registerSystemRoutes(router: Router, capabilities: BackendCapabilities): void {
  // Runlens's views ask once what they are looking at, to label a read-only store and hide writes.
  router.plain('GET', '/runlens/api/store', async () => ({
    read_only: capabilities.readOnly,
    ...(capabilities.description ? { description: capabilities.description } : {}),
    ...(capabilities.importHint ? { import_hint: capabilities.importHint } : {}),
  }));
  router.plain('GET', '/health', async () => ({ raw: true, status: 200, contentType: 'text/plain; charset=utf-8', body: 'OK' }));
  router.plain('GET', '/version', async () => ({ raw: true, status: 200, contentType: 'text/plain; charset=utf-8', body: COMPAT_MLFLOW_VERSION }));
  router.api('GET', '/mlflow/server-info', async () => ({
    store_type: 'SqlStore',
    workspaces_enabled: false,
    trace_archival_enabled: false,
    artifact_serving_enabled: false,
    multipart_uploads_enabled: false,
    multipart_downloads_enabled: false,
  }));
}
