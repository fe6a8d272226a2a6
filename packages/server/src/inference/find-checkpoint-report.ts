import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { EvaluationMetrics } from '@food/core/report/evaluation-metrics';
import { ReportError, readEvaluationMetricsIfPresent } from '@food/core/report/report-metrics-file';

/** Where `pnpm evaluate` writes its reports (`reports/RUN-test`) and `pnpm runs` looks for them. */
const DEFAULT_REPORTS_DIR = 'reports';

/**
 * The report the model card shows when `--report` is not given: the newest `pnpm evaluate --split test`
 * report in `reportsDir` about this very checkpoint folder (a report about another epoch of the run is
 * another model). Reports name their checkpoint by the path evaluate was given, relative to where it
 * ran: the repository root, where `pnpm serve` runs too. Undefined when there is none.
 */
export async function findCheckpointReport(
  checkpointDir: string,
  reportsDir = DEFAULT_REPORTS_DIR,
): Promise<string | undefined> {
  const checkpoint = path.resolve(checkpointDir);
  const entries = await readdir(reportsDir, { withFileTypes: true }).catch(() => []);
  let newest: { dir: string; evaluatedAt: string } | undefined;
  for (const entry of entries.filter((candidate) => candidate.isDirectory())) {
    const dir = path.join(reportsDir, entry.name);
    const report = await readReportOrSkip(dir);
    if (report?.split !== 'test' || path.resolve(report.checkpoint) !== checkpoint) continue;
    if (!newest || report.evaluatedAt > newest.evaluatedAt) newest = { dir, evaluatedAt: report.evaluatedAt };
  }
  return newest?.dir;
}

/** The report's metrics.json; undefined for a folder that holds none or something else (not ours to judge). */
async function readReportOrSkip(dir: string): Promise<EvaluationMetrics | undefined> {
  try {
    return await readEvaluationMetricsIfPresent(dir);
  } catch (error) {
    if (error instanceof ReportError) return undefined;
    throw error;
  }
}
