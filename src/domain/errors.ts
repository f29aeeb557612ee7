/** MLflow error codes (databricks.proto `ErrorCode`) and the HTTP status MLflow maps each to. */
export const ERROR_HTTP_STATUS = {
  INTERNAL_ERROR: 500,
  INVALID_STATE: 500,
  DATA_LOSS: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
  REQUEST_LIMIT_EXCEEDED: 429,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  ABORTED: 409,
  RESOURCE_CONFLICT: 409,
  ALREADY_EXISTS: 409,
  NOT_FOUND: 404,
  ENDPOINT_NOT_FOUND: 404,
  RESOURCE_DOES_NOT_EXIST: 404,
  PERMISSION_DENIED: 403,
  CUSTOMER_UNAUTHORIZED: 401,
  UNAUTHENTICATED: 401,
  BAD_REQUEST: 400,
  // MLflow maps RESOURCE_ALREADY_EXISTS to 400, not 409: clients rely on it.
  RESOURCE_ALREADY_EXISTS: 400,
  INVALID_PARAMETER_VALUE: 400,
  MALFORMED_REQUEST: 400,
} as const;

export type ErrorCode = keyof typeof ERROR_HTTP_STATUS;

/** An error the server reports to clients as `{"error_code", "message"}` with a matching status. */
export class MlflowError extends Error {
  constructor(
    readonly errorCode: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MlflowError';
  }

  get httpStatus(): number {
    return ERROR_HTTP_STATUS[this.errorCode];
  }

  toJSON(): { error_code: ErrorCode; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

export function invalidParameter(message: string): MlflowError {
  return new MlflowError('INVALID_PARAMETER_VALUE', message);
}

export function doesNotExist(message: string): MlflowError {
  return new MlflowError('RESOURCE_DOES_NOT_EXIST', message);
}

export function alreadyExists(message: string): MlflowError {
  return new MlflowError('RESOURCE_ALREADY_EXISTS', message);
}
