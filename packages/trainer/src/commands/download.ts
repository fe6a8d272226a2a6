import path from 'node:path';
import { UserError } from '@food/core/errors';
import { type Command, InvalidArgumentError } from 'commander';
import {
  downloadResumable,
  extractArchive,
  FOOD101_SHA256,
  FOOD101_URL,
  findDataRoot,
} from '../data/download.ts';
import { createByteProgress, NO_PROGRESS_HELP, progressMode } from '../progress.ts';

interface DownloadFlags {
  out: string;
  url: string;
  sha256?: string;
  archive?: string;
  progress: boolean;
}

function parseSha256(value: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new InvalidArgumentError('expected 64 hexadecimal digits.');
  return value.toLowerCase();
}

function parseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {}
  throw new InvalidArgumentError(`expected an http(s) URL, got "${value}".`);
}

export function register(program: Command): void {
  program
    .command('download')
    .description('Download (resumable, checksum-verified) and extract the Food-101 archive.')
    .requiredOption('--out <dir>', 'folder for the archive and the extracted data set')
    .option('--url <url>', 'archive URL', parseUrl, FOOD101_URL)
    .option('--sha256 <hash>', 'expected sha256 of the archive (known for the default URL)', parseSha256)
    .option('--archive <file>', 'extract this already-downloaded archive instead of downloading')
    .option('--no-progress', NO_PROGRESS_HELP)
    .addHelpText(
      'after',
      `
The archive goes to OUT/<name>.tar.gz (bytes arrive in a .part file: an interrupted download resumes
where it stopped when run again). The default URL is checked against the published sha256
${FOOD101_SHA256}; another --url is only verified when --sha256 is given.

Examples:
  $ pnpm trainer download --out data
  $ pnpm trainer download --out data --archive ~/Downloads/food-101.tar.gz
  $ pnpm trainer download --out data --url https://mirror.example/food-101.tar.gz --sha256 ${FOOD101_SHA256.slice(0, 8)}...`,
    )
    .action(async (flags: DownloadFlags) => {
      let archive = flags.archive;
      if (archive === undefined) {
        const expected = flags.sha256 ?? (flags.url === FOOD101_URL ? FOOD101_SHA256 : undefined);
        const name = path.basename(new URL(flags.url).pathname) || 'archive.tar.gz';
        const bar = createByteProgress('download', progressMode(flags.progress));
        const result = await downloadResumable({
          url: flags.url,
          dest: path.join(flags.out, name),
          expectedSha256: expected,
          onProgress: bar.report,
        }).finally(() => bar.stop());
        archive = result.path;
        const verified = expected ? 'verified' : 'NOT verified (pass --sha256 to check it)';
        process.stdout.write(`archive ${archive}: sha256 ${result.sha256} ${verified}\n`);
      }
      const bar = createByteProgress('extract', progressMode(flags.progress));
      await extractArchive(archive, flags.out, bar.report).finally(() => bar.stop());
      const dataRoot = await findDataRoot(flags.out);
      if (!dataRoot) {
        throw new UserError(
          `extracted ${archive} into ${flags.out}, but found no meta/classes.txt there: is it a Food-101 archive?`,
        );
      }
      process.stdout.write(
        `data set ready in ${dataRoot} (the archive can be deleted)\n` +
          `next: pnpm trainer prepare --data ${dataRoot} --out data/prepared/seed50 --preset seed50\n`,
      );
    });
}
