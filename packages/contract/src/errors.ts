import { z } from 'zod';
import { type ErrorCode, errorStatus } from './wire.js';

export const ErrorCodeSchema = z.enum(Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]]);

export const IssueSchema = z.object({
  path: z.string().describe('Dotted path of the offending field, empty for the whole input'),
  message: z.string(),
});
export type Issue = z.infer<typeof IssueSchema>;

/** The one error body of every transport and every status. */
export const ErrorBodySchema = z.object({
  code: ErrorCodeSchema,
  msg: z.string(),
  issues: z.array(IssueSchema).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
