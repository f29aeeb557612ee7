/**
 * "Add MLflow Server…", "Re-enter Credentials", "Remove MLflow Server". The URL, auth kind and
 * username go into `runlens.remoteServers`; the password or token only into SecretStorage. Each
 * command also takes its answers as an argument (tests, other extensions) instead of asking.
 */
import * as vscode from 'vscode';
import { guarded } from '../commands/guard';
import { readRemoteServers, updateSetting } from '../config';
import { invalidServerUrl, normalizeServerUrl, parseHeaderLines, secretKey, type RemoteAuthKind, type RemoteServerConfig } from './remoteServerConfig';
import { REENTER_CREDENTIALS, type RemoteServers } from './remoteSources';
import type { StoreSources } from './storeSources';

/** The answers of "Add MLflow Server…", given instead of asked. */
export interface AddServerArgs {
  name?: string;
  url: string;
  auth?: RemoteAuthKind;
  username?: string;
  /** The password (basic), token (bearer) or header lines (headers). */
  secret?: string;
  caFile?: string;
  insecure?: boolean;
}

function isAddArgs(a: unknown): a is AddServerArgs {
  return typeof a === 'object' && a !== null && typeof (a as AddServerArgs).url === 'string';
}

async function askSecret(server: RemoteServerConfig): Promise<string | undefined> {
  const headers = server.auth === 'headers';
  return vscode.window.showInputBox({
    title: `${server.name}: ${server.auth === 'basic' ? `password for ${server.username ?? ''}` : headers ? 'request headers' : 'access token'}`,
    password: true,
    ignoreFocusOut: true,
    ...(headers ? { placeHolder: 'X-Api-Key: …; X-Tenant: …' } : {}),
    prompt: headers ? "'Name: value' pairs separated by ';'. Kept in VS Code's secret storage, never in settings." : 'Kept in VS Code\'s secret storage, never in settings.',
    ...(headers ? { validateInput: (v: string) => { const h = parseHeaderLines(v); return typeof h === 'string' ? h : undefined; } } : {}),
  });
}

/** For an https server: the system's certificate authorities, a CA file, or no verification. */
async function askTls(name: string): Promise<{ caFile?: string; insecure?: boolean } | undefined> {
  const picks = [
    { label: 'Trust the system\'s certificate authorities', detail: 'The usual choice for a server with a public certificate', trust: 'system' as const },
    { label: 'Trust a CA certificate file…', detail: 'A company CA or a self-signed server certificate (PEM)', trust: 'file' as const },
    { label: 'Do not verify the certificate (insecure)', detail: 'Only for a test server: anyone on the network could pose as it', trust: 'insecure' as const },
  ];
  const pick = await vscode.window.showQuickPick(picks, { title: `Add MLflow Server: TLS for ${name}`, ignoreFocusOut: true });
  if (!pick) return undefined;
  if (pick.trust === 'system') return {};
  if (pick.trust === 'insecure') return { insecure: true };
  const file = await vscode.window.showOpenDialog({ title: `CA certificates for ${name}`, canSelectMany: false, filters: { 'PEM certificates': ['pem', 'crt', 'cer'], 'All files': ['*'] } });
  return file?.[0] ? { caFile: file[0].fsPath } : undefined;
}

async function askServer(existing: string[]): Promise<AddServerArgs | undefined> {
  const url = await vscode.window.showInputBox({ title: 'Add MLflow Server (1/3): URL', placeHolder: 'https://mlflow.example.com', ignoreFocusOut: true, validateInput: (v) => invalidServerUrl(normalizeServerUrl(v)) });
  if (!url) return undefined;
  const host = new URL(normalizeServerUrl(url)).host;
  const name = await vscode.window.showInputBox({
    title: 'Add MLflow Server (2/3): name in the explorer',
    value: host,
    ignoreFocusOut: true,
    validateInput: (v) => (!v.trim() ? 'Give it a name' : existing.includes(v.trim()) ? `'${v.trim()}' is already a server's name` : undefined),
  });
  if (!name) return undefined;
  const kinds: { label: string; detail: string; auth: RemoteAuthKind }[] = [
    { label: 'No authentication', detail: 'The server accepts anonymous requests', auth: 'none' },
    { label: 'Username and password', detail: 'HTTP basic auth (mlflow server --app-name basic-auth)', auth: 'basic' },
    { label: 'Bearer token', detail: 'An access token sent as Authorization: Bearer', auth: 'bearer' },
    { label: 'Custom headers', detail: 'Headers a gateway in front of the server wants (an API key …)', auth: 'headers' },
  ];
  const kind = await vscode.window.showQuickPick(kinds, { title: 'Add MLflow Server (3/3): authentication', ignoreFocusOut: true });
  if (!kind) return undefined;
  let username: string | undefined;
  if (kind.auth === 'basic') {
    username = await vscode.window.showInputBox({ title: `${name}: username`, ignoreFocusOut: true, validateInput: (v) => (v ? undefined : 'Give the username') });
    if (!username) return undefined;
  }
  const args: AddServerArgs = { name: name.trim(), url, auth: kind.auth, username };
  if (normalizeServerUrl(url).startsWith('https://')) {
    const tls = await askTls(args.name!);
    if (!tls) return undefined;
    Object.assign(args, tls);
  }
  if (kind.auth !== 'none') {
    args.secret = await askSecret({ name: args.name!, url, auth: kind.auth, username });
    if (args.secret === undefined) return undefined;
  }
  return args;
}

/** The server a command was given: its name, a source node from the tree, or a quick pick. */
async function serverFrom(arg: unknown, remotes: RemoteServers): Promise<string | undefined> {
  if (typeof arg === 'string' && arg) return arg.startsWith('remote:') ? arg.slice('remote:'.length) : arg;
  const key = typeof arg === 'object' && arg !== null && (arg as { type?: string }).type === 'source' ? (arg as { key: string }).key : undefined;
  if (key?.startsWith('remote:')) return key.slice('remote:'.length);
  const list = remotes.list();
  if (list.length === 0) return undefined;
  return (await vscode.window.showQuickPick(list.map((s) => ({ label: s.config.name, description: s.config.url })), { title: 'Pick an MLflow server' }))?.label;
}

export function registerRemoteCommands(context: vscode.ExtensionContext, remotes: RemoteServers, sources: StoreSources, log: vscode.LogOutputChannel): void {
  const reg = (id: string, title: string, fn: (...args: unknown[]) => Promise<unknown>): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(log, title, fn)));
  };

  reg('runlens.addRemoteServer', 'Add MLflow Server', async (arg?: unknown) => {
    const existing = readRemoteServers().servers;
    const answers = isAddArgs(arg) ? arg : await askServer(existing.map((s) => s.name));
    if (!answers) return undefined;
    const url = normalizeServerUrl(answers.url);
    const bad = invalidServerUrl(url);
    if (bad) throw new Error(bad);
    const auth = answers.auth ?? 'none';
    const name = (answers.name ?? new URL(url).host).trim();
    if (auth === 'basic' && !answers.username) throw new Error('Basic auth needs a username.');
    if ((answers.caFile || answers.insecure) && !url.startsWith('https://')) throw new Error('A CA file or insecure applies to https:// servers only.');
    if (auth === 'headers' && answers.secret !== undefined && typeof parseHeaderLines(answers.secret) === 'string') throw new Error(`${parseHeaderLines(answers.secret) as string}.`);
    const config: RemoteServerConfig = { name, url, auth, ...(auth === 'basic' ? { username: answers.username } : {}), ...(answers.caFile ? { caFile: answers.caFile } : {}), ...(answers.insecure ? { insecure: true } : {}) };
    // The secret first: the setting's change makes the explorer show (and maybe read) the server.
    if (auth === 'none') await context.secrets.delete(secretKey(name));
    else if (answers.secret !== undefined) await context.secrets.store(secretKey(name), answers.secret);
    await updateSetting('remoteServers', [...existing.filter((s) => s.name !== name), config]);
    remotes.sync();
    log.info(`added the MLflow server ${name} (${url}, auth: ${auth})`);
    return name;
  });

  reg(REENTER_CREDENTIALS, 'Re-enter Credentials', async (arg?: unknown, secretArg?: unknown) => {
    const name = await serverFrom(arg, remotes);
    const source = name ? remotes.get(name) : undefined;
    if (!source) return undefined;
    if (source.config.auth === 'none') {
      void vscode.window.showInformationMessage(`Runlens: ${source.config.name} is set up without authentication; add it again to choose basic or bearer auth.`);
      return undefined;
    }
    const secret = typeof secretArg === 'string' ? secretArg : await askSecret(source.config);
    if (secret === undefined) return undefined;
    await context.secrets.store(secretKey(source.config.name), secret);
    source.forget();
    sources.reload(source.key);
    return source.config.name;
  });

  reg('runlens.removeRemoteServer', 'Remove MLflow Server', async (arg?: unknown) => {
    const name = await serverFrom(arg, remotes);
    if (!name) return undefined;
    await context.secrets.delete(secretKey(name));
    await updateSetting('remoteServers', readRemoteServers().servers.filter((s) => s.name !== name));
    remotes.sync();
    return name;
  });
}
