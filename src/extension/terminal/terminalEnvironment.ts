/**
 * What new integrated terminals get: the workspace's own server, or — with
 * `runlens.terminal.trackingServer` set — a team's MLflow server, for users who log straight to
 * it. Credentials are never put in the environment (anyone reading the terminal's environment,
 * or a log of it, would see them): the client takes them from the user's own
 * MLFLOW_TRACKING_USERNAME/PASSWORD/TOKEN or `~/.mlflow/credentials`.
 */
export interface TerminalEnvironment {
  vars: Record<string, string>;
  /** Markdown for the terminal's environment tooltip. */
  description: string;
}

/** The terminal variables, or undefined when none are to be set. */
export function terminalEnvironment(opts: { inject: boolean; localUrl: string | undefined; trackingServer: string; defaultExperiment: string }): TerminalEnvironment | undefined {
  if (!opts.inject) return undefined;
  const remote = remoteServerUrl(opts.trackingServer);
  const uri = remote ?? opts.localUrl;
  if (uri === undefined) return undefined;
  const vars: Record<string, string> = { MLFLOW_TRACKING_URI: uri };
  if (opts.defaultExperiment) vars.MLFLOW_EXPERIMENT_NAME = opts.defaultExperiment;
  const shown = Object.entries(vars).map(([k, v]) => `\`${k}=${v}\``).join(', ');
  const where = remote ? 'runs log to the MLflow server set in `runlens.terminal.trackingServer` (credentials from your own MLFLOW_TRACKING_* variables or ~/.mlflow/credentials)' : "runs log to this workspace's store";
  return { vars, description: `Runlens: ${shown} — ${where}.` };
}

/** An http(s) URL without credentials or a trailing slash; anything else is not a server to log to. */
export function remoteServerUrl(value: string): string | undefined {
  const v = value.trim();
  if (!v) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  // A password in the URL would land in every terminal's environment: refuse the URL instead.
  if (url.username || url.password) return undefined;
  return url.toString().replace(/\/+$/, '');
}
