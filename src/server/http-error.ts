// An error that knows which status and page to show the user.

/** HttpError — thrown by routes; the error handler renders it as a page with its status. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly heading: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export const notFound = (what = 'This page') =>
  new HttpError(404, 'Not found', `${what} does not exist. It may have been deleted, or the address is mistyped.`);

export const forbidden = (message: string) => new HttpError(403, 'Not allowed', message);
