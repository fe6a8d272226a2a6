/** The one writer and the one reader of an evaluation report's metrics.json. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import {
  type EvaluationMetrics,
  encodeEvaluationMetrics,
  parseEvaluationMetrics,
} from './evaluation-metrics.ts';
import { REPORT_FILES } from './report-layout.ts';

export type ReportErrorCode = 'REPORT_MISSING' | 'REPORT_CORRUPT';

/** A report folder whose metrics.json cannot be read; the message names the file and the next step. */
export class ReportError extends UserError {
  override name = 'ReportError';
  constructor(message: string, code: ReportErrorCode, options?: { cause?: unknown }) {
    super(message, code);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** Writes `reportDir/metrics.json` (creating the folder); returns its path. */
export async function writeEvaluationMetrics(reportDir: string, metrics: EvaluationMetrics): Promise<string> {
  await mkdir(reportDir, { recursive: true });
  const file = path.join(reportDir, REPORT_FILES.metrics);
  await writeFile(file, encodeEvaluationMetrics(metrics));
  return file;
}

/**
 * Reads `reportDir/metrics.json`. Throws a ReportError naming the file when it is missing (code
 * REPORT_MISSING) or unreadable or not an evaluation report (REPORT_CORRUPT).
 */
export async function readEvaluationMetrics(reportDir: string): Promise<EvaluationMetrics> {
  const file = path.join(reportDir, REPORT_FILES.metrics);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    const missing = error.code === 'ENOENT';
    throw new ReportError(
      `${file} ${missing ? 'does not exist' : `cannot be read (${error.message})`}: ${reportDir} is not an evaluation report. Pass a folder written by \`pnpm evaluate --out\`.`,
      missing ? 'REPORT_MISSING' : 'REPORT_CORRUPT',
      { cause: error },
    );
  });
  try {
    return parseEvaluationMetrics(JSON.parse(text));
  } catch (error) {
    throw new ReportError(
      `${file} ${error instanceof SyntaxError ? 'is not valid JSON' : (error as Error).message}. Evaluate the checkpoint again into this folder (\`pnpm evaluate --out ${reportDir}\`), or pass another report folder.`,
      'REPORT_CORRUPT',
      { cause: error },
    );
  }
}

/** As readEvaluationMetrics, but undefined when the folder has no metrics.json. */
export async function readEvaluationMetricsIfPresent(
  reportDir: string,
): Promise<EvaluationMetrics | undefined> {
  try {
    return await readEvaluationMetrics(reportDir);
  } catch (error) {
    if (error instanceof ReportError && error.code === 'REPORT_MISSING') return undefined;
    throw error;
  }
}
