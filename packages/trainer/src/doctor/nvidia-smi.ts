/**
 * The NVIDIA driver as `nvidia-smi` reports it. Parsing is pure (tested with recorded output); the
 * query runs the real tool. The header row names the columns, so the parser does not depend on their
 * order, and drivers older than 510 that cannot report `compute_cap` are queried without it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface GpuInfo {
  index: number;
  name: string;
  driverVersion: string;
  /** Undefined where the driver reports [N/A] (unified-memory systems such as DGX Spark's GB10). */
  memoryTotalMiB?: number;
  memoryFreeMiB?: number;
  /** e.g. "9.0"; undefined when the driver cannot report it. */
  computeCapability?: string;
}

export type NvidiaSmiResult =
  | { status: 'ok'; gpus: GpuInfo[] }
  | { status: 'not-installed' }
  | { status: 'error'; message: string };

const FIELDS = ['index', 'name', 'driver_version', 'memory.total', 'memory.free', 'compute_cap'];

/**
 * Parses `nvidia-smi --query-gpu=... --format=csv[,nounits]`: a header row, then one row per GPU.
 * Memory values may carry a " MiB" unit; headers carry it in brackets ("memory.total [MiB]").
 */
export function parseNvidiaSmiCsv(text: string): GpuInfo[] {
  const rows = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (rows.length === 0) return [];
  const header = splitCsv(rows[0]!).map((column) => column.replace(/\s*\[.*\]$/, ''));
  const column = (name: string) => header.indexOf(name);
  if (column('name') < 0) throw new Error(`nvidia-smi printed no "name" column: ${rows[0]}`);
  return rows.slice(1).map((row, position) => {
    // A GPU's name has no comma, so a plain split is enough.
    const cells = splitCsv(row);
    const cell = (name: string) => (column(name) < 0 ? undefined : cells[column(name)]);
    const computeCapability = cell('compute_cap');
    return {
      index: cell('index') === undefined ? position : Number(cell('index')),
      name: cell('name') ?? '',
      driverVersion: cell('driver_version') ?? '',
      memoryTotalMiB: mebibytes(cell('memory.total')),
      memoryFreeMiB: mebibytes(cell('memory.free')),
      computeCapability:
        computeCapability && /^\d+\.\d+$/.test(computeCapability) ? computeCapability : undefined,
    };
  });
}

function splitCsv(row: string): string[] {
  return row.split(',').map((cell) => cell.trim());
}

function mebibytes(value: string | undefined): number | undefined {
  const number = Number((value ?? '').replace(/\s*MiB$/i, ''));
  return value !== undefined && value !== '' && Number.isFinite(number) ? number : undefined;
}

/** Compares dotted versions numerically ("450.80.02" < "450.119.03"); negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const partsA = a.split('.').map(Number);
  const partsB = b.split('.').map(Number);
  for (let i = 0; i < Math.max(partsA.length, partsB.length); i++) {
    const difference = (partsA[i] ?? 0) - (partsB[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * The GPUs TensorFlow can see: all of them, or those `CUDA_VISIBLE_DEVICES` lists by index. (UUIDs
 * and MIG names there are not resolved: then every GPU is returned.) An empty value or -1 hides all.
 */
export function visibleGpus(gpus: readonly GpuInfo[], cudaVisibleDevices: string | undefined): GpuInfo[] {
  if (cudaVisibleDevices === undefined) return [...gpus];
  const entries = cudaVisibleDevices.split(',').map((entry) => entry.trim());
  if (entries.length === 0 || entries[0] === '' || entries[0] === '-1') return [];
  if (!entries.every((entry) => /^\d+$/.test(entry))) return [...gpus];
  return entries.map(Number).flatMap((index) => gpus.filter((gpu) => gpu.index === index));
}

/** Runs nvidia-smi (10 s limit: a hung driver must not hang the doctor or `pnpm train`). */
export async function queryNvidiaSmi(
  run: (args: string[]) => Promise<string> = runNvidiaSmi,
): Promise<NvidiaSmiResult> {
  const query = (fields: string[]) => run([`--query-gpu=${fields.join(',')}`, '--format=csv,nounits']);
  try {
    return { status: 'ok', gpus: parseNvidiaSmiCsv(await query(FIELDS)) };
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return { status: 'not-installed' };
    const message = errorText(error);
    if (/compute_cap/.test(message)) {
      try {
        return {
          status: 'ok',
          gpus: parseNvidiaSmiCsv(await query(FIELDS.filter((f) => f !== 'compute_cap'))),
        };
      } catch (retryError) {
        return { status: 'error', message: errorText(retryError) };
      }
    }
    return { status: 'error', message };
  }
}

async function runNvidiaSmi(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('nvidia-smi', args, { timeout: 10_000 });
  return stdout;
}

/** nvidia-smi prints its errors on stdout; execFile's error carries both streams. */
function errorText(error: unknown): string {
  const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message?: string };
  return (
    [stdout, stderr, message]
      .find((text) => text?.trim())
      ?.trim()
      .split('\n')[0] ?? String(error)
  );
}
