import { ADMIN } from '@api-users/contract';
import type { ImportReport, ReportRow } from './import.js';

function line(row: ReportRow): string {
  const who = `#${row.flaskId} ${JSON.stringify(row.login)}`;
  if (row.status === 'skipped') return `${who}: skipped: ${row.detail}`;
  if (row.status === 'already_imported') return `${who}: already imported: ${row.detail}`;
  const as = `${row.userId === null ? 'with a new id' : `as id ${row.userId}`}, role ${row.role}${row.role === ADMIN ? ' (admin)' : ' (user)'}`;
  const needs = row.status === 'needs_password' ? ', NEEDS AN ADMIN-SET PASSWORD' : '';
  return `${who}: imported ${as}${needs}: ${row.detail}`;
}

/** The report as printed: one line per Flask row, then the totals. */
export function formatReport(report: ImportReport): string {
  const count = (status: ReportRow['status']) => report.rows.filter((r) => r.status === status).length;
  return [
    ...(report.dryRun ? ['Dry run: nothing was written. An import would do this:'] : []),
    ...report.rows.map(line),
    `${report.rows.length} Flask users: ${count('imported')} imported, ${count('needs_password')} imported without ` +
      `a usable password (an admin must set one), ${count('already_imported')} already imported, ${count('skipped')} skipped.`,
    `revoked_tokens: ${report.revokedTokens} row(s) not imported (tokens the Flask service signed are refused here anyway).`,
  ].join('\n');
}
