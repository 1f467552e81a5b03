/** A stored time (epoch ms, a BIGINT that some drivers read as a string) as the contract's ISO 8601 text. */
export const isoTime = (ms: number): string => new Date(Number(ms)).toISOString();

/** The same for a time that may be unset. */
export const isoTimeOrNull = (ms: number | null): string | null => (ms === null ? null : isoTime(ms));
