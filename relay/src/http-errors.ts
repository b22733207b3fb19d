import { ErrorCode, type ErrorCodeString } from '@tether/shared';

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
  [ErrorCode.GOING_AWAY]: 503,
};

/** HTTP status for a coded error (500 for anything unexpected). */
export function statusFor(code: string): number {
  return STATUS[code as ErrorCodeString] ?? 500;
}
