/**
 * Finds a TensorFlow wheel on PyPI through the simple repository API's JSON form (PEP 691), which
 * lists every file of a release with its size and sha256: no pip needed, and the download is verified.
 */
import { UserError } from '@food/core/errors';

export const PYPI_SIMPLE_URL = 'https://pypi.org/simple';

export interface WheelFile {
  filename: string;
  url: string;
  size: number;
  sha256: string;
}

interface SimpleIndexPage {
  files: Array<{
    filename: string;
    url: string;
    size?: number;
    hashes?: { sha256?: string };
    yanked?: unknown;
  }>;
}

/**
 * The Linux x86-64 wheel of `project==version`. Every CPython build of a release carries the same
 * libtensorflow, so the choice among them only needs to be stable: the lowest CPython version wins.
 * NVIDIA's CUDA wheels hold no Python code and are tagged `py3-none`.
 */
export function pickLinuxWheel(page: SimpleIndexPage, project: string, version: string): WheelFile {
  const prefix = `${project.replaceAll('-', '_')}-${version}-`;
  const candidates = page.files
    .filter(
      (file) =>
        file.filename.startsWith(prefix) &&
        /-(cp3\d+-cp3\d+|py3-none)-manylinux[\w.]*x86_64\.whl$/.test(file.filename),
    )
    .filter((file) => !file.yanked && file.size !== undefined && file.hashes?.sha256 !== undefined)
    .map((file) => ({ ...file, python: Number(/-cp3(\d+)-/.exec(file.filename)?.[1] ?? 0) }))
    .sort((a, b) => a.python - b.python);
  const chosen = candidates[0];
  if (!chosen) {
    const versions = [...new Set(page.files.map((file) => file.filename.split('-')[1]))].slice(-8);
    throw new UserError(
      `PyPI has no Linux x86-64 wheel of ${project} ${version}. Pass another --tensorflow version (recent ones: ${versions.join(', ')}).`,
    );
  }
  return { filename: chosen.filename, url: chosen.url, size: chosen.size!, sha256: chosen.hashes!.sha256! };
}

/** Looks the wheel up; an unreachable PyPI is one line that says what it means for the backend. */
export async function findLinuxWheel(
  project: string,
  version: string,
  indexUrl = PYPI_SIMPLE_URL,
): Promise<WheelFile> {
  const url = `${indexUrl}/${project}/`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } });
  } catch (error) {
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    throw new UserError(
      `PyPI is not reachable (${new URL(url).host}: ${cause?.code ?? cause?.message ?? (error as Error).message}): ` +
        'cannot download TensorFlow; the tensorflow backend stays unavailable and training uses wasm. ' +
        'Run again where PyPI is reachable, or pass --wheel FILE with a wheel downloaded elsewhere.',
      'PYPI_UNREACHABLE',
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new UserError(
      `${url} answered HTTP ${response.status}: is "${project}" the right project name?`,
      'PYPI_HTTP_ERROR',
    );
  }
  return pickLinuxWheel((await response.json()) as SimpleIndexPage, project, version);
}
