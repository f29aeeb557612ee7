/** Reading a request body under a size limit; over-limit bodies are refused with 413. */
import type * as http from 'node:http';
import { MlflowError } from '../store/errors';

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
      reject(new HttpError(413, new MlflowError('INVALID_PARAMETER_VALUE', `Request body of ${declared} bytes exceeds the limit of ${limit} bytes.`)));
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
