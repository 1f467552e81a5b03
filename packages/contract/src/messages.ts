import type { z } from 'zod';

const KINDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

const quoted = (values: readonly unknown[]) => values.map((value) => JSON.stringify(value)).join(', ');

/** "3 characters", "1 item": the unit a length or size check counts in. */
function amount(origin: string, n: number | bigint): string {
  if (origin === 'string') return `${n} character${n === 1 ? '' : 's'}`;
  if (origin === 'array' || origin === 'set') return `${n} item${n === 1 ? '' : 's'}`;
  return String(n);
}

/**
 * The sentence a refused input field gets, for the checks whose schema says none itself (a schema's own message,
 * such as the login's allowed characters, wins). Zod's defaults ("Too small: expected string to have >=1
 * characters") are written for developers; the API's answers, the dashboard and the SDK's errors show these
 * instead. Pass it as the `error` of a parse: `schema.safeParse(input, { error: inputMessage })`.
 */
export const inputMessage: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'Required';
      return `Must be ${KINDS[issue.expected] ?? issue.expected}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'Required: may not be empty';
      return `At least ${amount(issue.origin, issue.minimum)}`;
    case 'too_big':
      return `At most ${amount(issue.origin, issue.maximum)}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `Must be ${quoted(issue.values)}` : `Must be one of ${quoted(issue.values)}`;
    case 'invalid_union':
      return 'Not one of the accepted values';
    case 'unrecognized_keys':
      return `Not a field here: ${issue.keys.join(', ')} (leave ${issue.keys.length === 1 ? 'it' : 'them'} out)`;
    case 'invalid_format':
      return `Not in the expected format (${issue.format})`;
    default:
      return 'Not a value this field accepts';
  }
};
