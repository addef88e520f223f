export interface AppErrorInit {
  code: string;
  status: number;
  message: string;
  cause?: unknown;
}

/** An error the API answers with: a stable code, an HTTP status, and a message safe to show. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: string;
  readonly status: number;

  constructor(init: AppErrorInit) {
    super(init.message, { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
  }
}

export const badRequest = (message: string) =>
  new AppError({ code: 'invalid_request', status: 400, message });
export const unauthorized = (message = 'missing or invalid bearer token') =>
  new AppError({ code: 'unauthorized', status: 401, message });
export const forbidden = (message = 'this token may not do that') =>
  new AppError({ code: 'forbidden', status: 403, message });
export const notFound = (message: string) => new AppError({ code: 'not_found', status: 404, message });
