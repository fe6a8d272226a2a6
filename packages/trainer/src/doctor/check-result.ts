/** One line of `pnpm run doctor`: what was checked, what was found and, unless it passed, what to do. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** The exact next step; present whenever the status is not `pass`. */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

export function toReport(checks: CheckResult[]): DoctorReport {
  return { ok: checks.every((check) => check.status !== 'fail'), checks };
}

/** One line per check, the fix indented under it: readable in a terminal and in `docker logs`. */
export function formatReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const lines = report.checks.flatMap((check) => [
    `${check.status.padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}`,
    ...(check.fix ? [`${' '.repeat(width + 8)}fix: ${check.fix}`] : []),
  ]);
  const failed = report.checks.filter((check) => check.status === 'fail').length;
  lines.push(
    report.ok
      ? 'doctor: no check failed'
      : `doctor: ${failed} check${failed === 1 ? '' : 's'} failed; each names its fix above`,
  );
  return lines.join('\n');
}
