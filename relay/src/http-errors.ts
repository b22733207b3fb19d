import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, NAME_MAX_LENGTH, TetherError, type ErrorCodeString } from '@tether/shared';
import { validationMessage, type RequestPart, type ValidationIssue } from './validation-message.js';

const STATUS: Partial<Record<ErrorCodeString, number>> = {
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.TUNNEL_FORBIDDEN]: 403,
  [ErrorCode.TUNNEL_UNKNOWN]: 404,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.TUNNEL_IN_USE]: 409,
  [ErrorCode.USER_EXISTS]: 409,
  [ErrorCode.INVALID_TUNNEL_NAME]: 400,
  [ErrorCode.INVALID_ARGUMENT]: 400,
  [ErrorCode.UNSUPPORTED_VERSION]: 400,
  [ErrorCode.TIMEOUT]: 408,
  [ErrorCode.QUOTA_EXCEEDED]: 429,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.GOING_AWAY]: 503,
  [ErrorCode.STORE_UNAVAILABLE]: 503,
  [ErrorCode.INVITE_INVALID]: 400,
  [ErrorCode.INVITE_REVOKED]: 410,
  [ErrorCode.INVITE_EXPIRED]: 410,
  [ErrorCode.INVITE_USED_UP]: 410,
  [ErrorCode.INVITE_NOT_FOR_YOU]: 403,
  [ErrorCode.REQUEST_CLOSED]: 409,
  [ErrorCode.REVIEW_REFUSED]: 403,
  [ErrorCode.PROTOCOL_NOT_ALLOWED]: 403,
  [ErrorCode.FLOW_LIMIT]: 429,
  [ErrorCode.TUNNEL_DISABLED]: 403,
  [ErrorCode.USER_BLOCKED]: 403,
  [ErrorCode.TUNNEL_OFFLINE]: 503,
  [ErrorCode.TARGET_REFUSED]: 502,
  [ErrorCode.TARGET_UNREACHABLE]: 502,
};

/** HTTP status for a coded error (500 for anything unexpected). */
export function statusFor(code: string): number {
  return STATUS[code as ErrorCodeString] ?? 500;
}

/** The one JSON shape of every HTTP error: `{ code, message }`. */
export const errorBody = (code: ErrorCodeString, message: string): { code: ErrorCodeString; message: string } => ({ code, message });

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (a header section too large, a
 * request that takes too long, bytes that are not HTTP) get the same coded JSON as every other
 * error, then the connection is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', ErrorCode.INVALID_ARGUMENT, 'request headers too large']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', ErrorCode.TIMEOUT, 'the request did not arrive in time']
    : [400, 'Bad Request', ErrorCode.INVALID_ARGUMENT, 'malformed HTTP request'];
  const body = JSON.stringify(errorBody(code, message));
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Router-level errors (a malformed URL, a parameter past maxParamLength) skip the error handler. */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  // Past maxParamLength: every parameter of the API is a tunnel or user name, so say the rule
  // (Fastify's own message repeats the whole URL).
  const message = err.statusCode === 414 ? `a name in the URL is too long (at most ${NAME_MAX_LENGTH} of a-z, 0-9 and '-')` : err.message;
  void reply.code(err.statusCode ?? 400).send(errorBody(ErrorCode.INVALID_ARGUMENT, message));
}

/** Coded JSON for every error a route raises, and for routes that do not exist. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof TetherError) {
      const status = statusFor(err.code);
      request.log.info({ code: err.code, status }, err.message);
      if (err.retryAfterMs !== undefined) void reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
      return reply.code(status).send(errorBody(err.code, err.message));
    }
    const e = err as { validation?: ValidationIssue[]; validationContext?: RequestPart; statusCode?: number; message?: string };
    if (e.validation) {
      // Ajv stops at the first failure (Fastify's default): one issue, one sentence.
      const issue = e.validation[0];
      const part = e.validationContext ?? 'body';
      const input = part === 'body' ? request.body : part === 'params' ? request.params : part === 'querystring' ? request.query : request.headers;
      const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[part];
      const message = issue ? validationMessage(issue, part, schema, input) : (e.message ?? 'invalid request');
      return reply.code(400).send(errorBody(ErrorCode.INVALID_ARGUMENT, message));
    }
    if (e.statusCode && e.statusCode < 500) {
      return reply.code(e.statusCode).send(errorBody(ErrorCode.INVALID_ARGUMENT, e.message ?? 'invalid request'));
    }
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
      // Another process holds the database (a relay sharing the data folder stopped mid-write).
      request.log.warn({ err: (err as Error).message }, 'database locked by another process');
      void reply.header('retry-after', '1');
      return reply.code(503).send(errorBody(ErrorCode.STORE_UNAVAILABLE, "the relay's database is locked by another process sharing its data folder: try again in a moment"));
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send(errorBody(ErrorCode.INTERNAL, 'internal error'));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody(ErrorCode.NOT_FOUND, `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
