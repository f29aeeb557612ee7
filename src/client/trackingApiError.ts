/** An error answered by the server in MLflow's format, or a transport failure. */
export class TrackingApiError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
    readonly status: number,
    /** `cause`: the transport's error (a refused connection, an untrusted certificate) a status 0 stands for. */
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TrackingApiError';
  }

  get notFound(): boolean {
    return this.errorCode === 'RESOURCE_DOES_NOT_EXIST' || this.status === 404;
  }

  /**
   * The server has no such route (a plain `mlflow server` asked for a Runlens route answers
   * Flask's HTML 404; MLflow's own API prefix answers ENDPOINT_NOT_FOUND) — not a 404 about a
   * run or trace that does not exist.
   */
  get routeMissing(): boolean {
    return this.status === 404 && (this.errorCode === 'ENDPOINT_NOT_FOUND' || this.errorCode === 'HTTP_404');
  }
}

/** The error a failed response carries: MLflow's `error_code` + `message` when the body has them. */
export function apiError(status: number, body: string, fallback: string): TrackingApiError {
  let e: { error_code?: string; message?: string } = {};
  try {
    e = (JSON.parse(body) as typeof e | null) ?? {};
  } catch {
    // a plain-text error body
  }
  return new TrackingApiError(e.error_code ?? `HTTP_${status}`, e.message ?? fallback, status);
}
