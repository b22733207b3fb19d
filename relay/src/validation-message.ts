import { nameTooLongMessage } from '@tether/shared';

/** One failed check of a route schema, as Ajv reports it (Fastify's `err.validation[i]`). */
export interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Where the failing value was (Fastify's `err.validationContext`). */
export type RequestPart = 'body' | 'params' | 'querystring' | 'headers';

const PART: Record<RequestPart, string> = { body: 'request body', params: 'URL', querystring: 'query string', headers: 'request headers' };

type Schema = { title?: unknown; properties?: Record<string, Schema> } | undefined;

const article = (type: string): string => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/**
 * A sentence for a request that failed its route's schema, instead of Ajv's `body/name must NOT
 * have more than 63 characters`. A property is named by its schema `title` ('user name'); a
 * title ending in "name" is a tunnel or user name, told the naming rule when it is too long
 * (the schema's maxLength is a cheap guard, the rule is checkUserName's / checkTunnelName's).
 */
export function validationMessage(issue: ValidationIssue, part: RequestPart, schema: unknown, input: unknown): string {
  const where = PART[part] ?? 'request';
  const field = issue.instancePath.split('/').filter(Boolean)[0] ?? (issue.keyword === 'required' ? String(issue.params.missingProperty) : undefined);
  const title = field === undefined ? undefined : (schema as Schema)?.properties?.[field]?.title;
  const what = typeof title === 'string' ? title : field === undefined ? `the ${where}` : `${field} in the ${where}`;
  const value = field === undefined ? input : (input as Record<string, unknown> | undefined)?.[field];
  switch (issue.keyword) {
    case 'maxLength': {
      const length = typeof value === 'string' ? value.length : undefined;
      if (/name$/.test(what) && length !== undefined) return nameTooLongMessage(what, length);
      return `${what} is too long (${length ?? 'too many'} characters; at most ${String(issue.params.limit)})`;
    }
    case 'required':
      return `${what} is missing`;
    case 'type':
      return `${what} must be ${article(String(issue.params.type))}`;
    case 'additionalProperties':
      return `unknown field ${JSON.stringify(issue.params.additionalProperty)} in the ${where}`;
    default:
      return `${what} ${issue.message ?? 'is invalid'}`;
  }
}
