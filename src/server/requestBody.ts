/** Reading a request body under a size limit; over-limit bodies are refused with 413. */
import type * as http from 'node:http';
import { MlflowError } from '../domain/errors';

/** Oversized bodies up to this size are read and discarded before the 413 goes out. */
const DRAIN_LIMIT = 256 * 1024 * 1024;

/** An error with an explicit HTTP status (the connection is closed after it). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: MlflowError,
  ) {
    super(body.message);
  }
}

export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      const refusal = new HttpError(413, new MlflowError('INVALID_PARAMETER_VALUE', `Request body of ${declared} bytes exceeds the limit of ${limit} bytes.`));
      // Let a modest body finish arriving, so the client reads the 413 instead of a broken pipe.
      if (declared > DRAIN_LIMIT) {
        reject(refusal);
        req.resume();
        return;
      }
      req.on('end', () => reject(refusal));
      req.on('error', () => reject(refusal));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, new MlflowError('INVALID_PARAMETER_VALUE', `Request body exceeds the limit of ${limit} bytes.`)));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
