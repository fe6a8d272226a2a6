/** What metrics.json holds, and what the HTML and Markdown reports are rendered from. */
import type { ConfusedPair } from '@food/core/metrics/confusion-matrix';
import type { SplitName } from '../data/manifest.ts';
import type { LatencyReport } from './latency.ts';
import type { MajorityBaseline, MetricsSummary } from './summarize.ts';
import type { TtaMode } from './test-time-augmentation.ts';

/** Another checkpoint scored on the same images (`--compare`). */
export interface ComparedCheckpoint {
  checkpoint: string;
  parameters: number;
  sizeBytes: number;
  metrics: MetricsSummary;
}

export interface MetricsFile extends MetricsSummary {
  checkpoint: string;
  prepared: string;
  split: SplitName;
  /** `--limit`: only N images, spread evenly over the split, were evaluated. */
  limit: number | null;
  backend: string;
  /** `--tta`: `flip` scored each image as the mean softmax of its centre crop and its mirror. */
  tta: TtaMode;
  /** Number of weights, BatchNorm statistics included. */
  parameters: number;
  /** The checkpoint folder's files on disk. */
  sizeBytes: number;
  latency: LatencyReport;
  /** The batched pass over the split: decoding overlapped with the model, as `--batch-size`. */
  throughput: { batchSize: number; seconds: number; imagesPerSecond: number };
  baselines: { majorityClass: MajorityBaseline; compare: ComparedCheckpoint | null };
  definitions: string;
  evaluatedAt: string;
}

export interface PairExample {
  image: string;
  /** Probability the model gave the (wrong) predicted class. */
  confidence: number;
  /** JPEG data URI; absent if the image could not be read again. */
  thumbnail?: string;
}

export interface ConfusedPairReport extends ConfusedPair {
  trueName: string;
  predictedName: string;
  examples: PairExample[];
}

export interface ReportInput {
  runName: string;
  metrics: MetricsFile;
  confusedPairs: ConfusedPairReport[];
  confusionSvg: string;
  /** Null when the run has no history.json; `curvesNote` says why. */
  curvesSvg: string | null;
  curvesNote: string;
}
