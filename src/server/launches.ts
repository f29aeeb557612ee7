/**
 * Launch contexts: a process started by the editor gets a tracking URI with a path prefix
 * (`<server>/runlens/launch/<id>`); the mlflow client keeps that prefix on every call, so runs it
 * creates can be tagged with the command line, working directory and launch id without any change
 * to the user's code. Contexts live in memory: after a server restart the prefix still routes,
 * only the extra tags are gone (the editor re-applies them when the process ends).
 */
import { randomUUID } from 'node:crypto';
import { invalidParameter } from '../domain/errors';
import type { Tag } from '../domain/types';
import { Fields } from './requestFields';
import type { Router } from './router';

export const LAUNCH_PREFIX = /^\/runlens\/launch\/([A-Za-z0-9_-]{1,64})(?=\/)/;
const MAX_LAUNCHES = 1000;
/** Every run created through a launch carries its id, so the editor can find them all later. */
export const LAUNCH_ID_TAG = 'runlens.launch.id';

export class LaunchRegistry {
  private readonly tags = new Map<string, Tag[]>();

  register(tags: Tag[]): string {
    const id = randomUUID().replace(/-/g, '');
    if (this.tags.size >= MAX_LAUNCHES) this.tags.delete(this.tags.keys().next().value as string);
    this.tags.set(id, [...tags.filter((t) => t.key !== LAUNCH_ID_TAG), { key: LAUNCH_ID_TAG, value: id }]);
    return id;
  }

  tagsFor(launchId: string | undefined): Tag[] {
    return (launchId && this.tags.get(launchId)) || [];
  }
}

/** `/runlens/launch/<id>/rest` → `{ launchId, path: '/rest' }`; other paths pass through. */
export function splitLaunchPrefix(pathname: string): { launchId?: string; path: string } {
  const m = LAUNCH_PREFIX.exec(pathname);
  return m ? { launchId: m[1]!, path: pathname.slice(m[0].length) } : { path: pathname };
}

/** Client tags win over launch tags with the same key (the user's code said so explicitly). */
export function withLaunchTags(clientTags: Tag[], launchTags: Tag[]): Tag[] {
  const keys = new Set(clientTags.map((t) => t.key));
  return [...clientTags, ...launchTags.filter((t) => !keys.has(t.key))];
}

export function registerLaunchRoutes(router: Router, launches: LaunchRegistry): void {
  router.plain('POST', '/runlens/api/launches', async ({ fields }) => {
    const tags = fields.objects('tags').map((t, i) => {
      const f = new Fields(t, false);
      const key = f.string('key');
      if (!key) throw invalidParameter(`tags[${i}].key is required`);
      return { key, value: f.string('value') ?? '' };
    });
    return { launch_id: launches.register(tags) };
  });
}
