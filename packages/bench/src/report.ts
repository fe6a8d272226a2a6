/**
 * docs/benchmarks.md from the bench results: targets first, then every table, then how it was measured.
 * Each section is its own function in report/; a section with nothing measured is left out.
 */
import { backendsSection } from './report/backends-section.ts';
import { forwardSection } from './report/forward-section.ts';
import { gemmSection } from './report/gemm-section.ts';
import { headerSection } from './report/header-section.ts';
import { idleReferenceSection } from './report/idle-reference-section.ts';
import { kernelHistorySection } from './report/kernel-history-section.ts';
import { machineSection } from './report/machine-section.ts';
import { preprocessSection } from './report/preprocess-section.ts';
import { pytorchSection } from './report/pytorch-section.ts';
import { reproduceSection } from './report/reproduce-section.ts';
import { targetsSection } from './report/targets.ts';
import { throughputSection } from './report/throughput-section.ts';
import { trainSection } from './report/train-section.ts';
import type { BenchResults } from './run-bench.ts';
import { tensorflowColumnSection } from './tensorflow-column.ts';

/** The report's sections in order; each returns its lines, none when it has nothing to show. */
const SECTIONS: ReadonlyArray<(results: BenchResults) => string[]> = [
  headerSection,
  targetsSection,
  idleReferenceSection,
  machineSection,
  forwardSection,
  trainSection,
  tensorflowColumnSection,
  gemmSection,
  throughputSection,
  preprocessSection,
  backendsSection,
  pytorchSection,
  reproduceSection,
  kernelHistorySection,
];

export function renderReport(results: BenchResults): string {
  return SECTIONS.flatMap((section) => section(results)).join('\n');
}
