/** Every command runs through `guarded`: errors become one clear message, never a stack trace. */
import * as vscode from 'vscode';
import type { Logger } from '../../domain/logger';
import { TrackingApiError } from '../../client/trackingClient';

export function userMessage(err: unknown): string {
  if (err instanceof TrackingApiError) {
    if (err.notFound) return `${err.message} It may have been deleted or moved; refresh the Runlens explorer.`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export function guarded<A extends unknown[], R>(log: Logger, title: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R | undefined> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      const msg = userMessage(err);
      log.error(`${title}: ${msg}`);
      void vscode.window.showErrorMessage(`Runlens: ${title} failed. ${msg}`);
      return undefined;
    }
  };
}
