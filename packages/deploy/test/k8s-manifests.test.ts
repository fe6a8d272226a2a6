/**
 * Checks of deploy/k8s without a cluster: every manifest parses and every object validates against
 * the Kubernetes OpenAPI schemas (kubernetes-models' generated validators); the serving objects use the
 * server's real routes, port, environment variables and shutdown timing; the Jobs' commands use flags
 * the trainer's CLI accepts; and when kubectl is on the machine, both overlays render with
 * `kubectl kustomize` and the rendered sets hold what a cluster needs.
 *
 * Not checked here (the API server does it at apply time): unknown fields. kubernetes-models' schemas
 * accept properties they do not define, so a misspelt optional field would pass; the tests below look
 * up every field they rely on by name, which catches the misspellings that matter.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENVIRONMENT } from '@food/server/config';
import { SHUTDOWN_TIMEOUT_MS } from '@food/server/server';
import { commands } from '@food/trainer/commands/index';
import { Command } from 'commander';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import { ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const k8sDir = path.join(repoRoot, 'deploy/k8s');

interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** The schema (a kubernetes-models class) of every kind the manifests may hold. */
const MODELS: Record<string, { validate(): void } & (new (data: never) => { validate(): void })> = {
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'batch/v1/Job': Job,
} as never;

/** Throws with the schema's messages when `object` is not a valid object of its kind. */
function validateObject(object: KubernetesObject): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind} (${object.metadata?.name})`);
  new Model(object as never).validate();
}

function parseYamlDocuments(text: string, source: string): KubernetesObject[] {
  return parseAllDocuments(text).map((document) => {
    if (document.errors.length > 0) throw new Error(`${source}: ${document.errors[0].message}`);
    return document.toJS() as KubernetesObject;
  });
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.yaml'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

interface Kustomization {
  resources?: string[];
  patches?: Array<{ path?: string }>;
  configMapGenerator?: Array<{ name: string; literals?: string[] }>;
}

const kustomizations = yamlFiles(k8sDir).filter((file) => path.basename(file) === 'kustomization.yaml');
const readKustomization = (dir: string): Kustomization =>
  parseYamlDocuments(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'), dir)[0] as never;
/** Files a kustomization lists as patches: partial objects, validated only after rendering. */
const patchFiles = new Set(
  kustomizations.flatMap((file) =>
    (readKustomization(path.dirname(file)).patches ?? []).flatMap((patch) =>
      patch.path ? [path.join(path.dirname(file), patch.path)] : [],
    ),
  ),
);
const manifestFiles = yamlFiles(k8sDir).filter(
  (file) => path.basename(file) !== 'kustomization.yaml' && !patchFiles.has(file),
);
const baseObjects = manifestFiles.flatMap((file) =>
  parseYamlDocuments(readFileSync(file, 'utf8'), path.relative(repoRoot, file)),
);

function findObject(objects: KubernetesObject[], kind: string, name: string): KubernetesObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name.startsWith(name));
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => o.kind).join(', ')}`);
  return found;
}

const podSpecOf = (object: KubernetesObject): IPodSpec =>
  (object as unknown as { spec: { template: { spec: IPodSpec } } }).spec.template.spec;

/** `KEY=value` literals of a configMapGenerator, as the environment they become. */
function generatorLiterals(dir: string, name: string): Record<string, string> {
  const generator = readKustomization(dir).configMapGenerator?.find((entry) => entry.name === name);
  return Object.fromEntries((generator?.literals ?? []).map((line) => line.split(/=(.*)/s).slice(0, 2)));
}

// ---------------------------------------------------------------------------------------------
// The trainer's command lines inside the Jobs' shell scripts

const TRAINER_COMMANDS: Record<string, (rest: string[]) => { command: string; args: string[] }> = {
  train: (rest) => ({ command: 'train', args: rest }),
  evaluate: (rest) => ({ command: 'evaluate', args: rest }),
  trainer: ([command = '', ...rest]) => ({ command, args: rest }),
};

/** Words of one shell line after `$VAR` / `"$VAR"` substitution; enough for the scripts' plain lines. */
function shellWords(line: string, environment: Record<string, string>): string[] {
  const expanded = line.replace(/\$(\w+)/g, (_match, name: string) => {
    if (!(name in environment)) throw new Error(`$${name} is not set in the container's env: ${line}`);
    return environment[name];
  });
  return [...expanded.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]);
}

/** Every `pnpm ...` line of a container's `sh -c` script, as trainer command + arguments. */
function trainerInvocations(container: IContainer): Array<{ command: string; args: string[]; line: string }> {
  const script = container.args?.[0] ?? '';
  const environment = Object.fromEntries(
    (container.env ?? []).map((variable) => [variable.name, variable.value ?? '']),
  );
  return script
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('pnpm '))
    .map((line) => {
      const [, script = '', ...rest] = shellWords(line, environment);
      const toCommand = TRAINER_COMMANDS[script];
      if (!toCommand) throw new Error(`not a trainer script: ${line}`);
      return { ...toCommand(rest), line };
    });
}

/**
 * Parses the arguments with the trainer's own commander definition of `command` (value parsers
 * included) without running it; returns the options it did not know.
 */
function unknownTrainerOptions(command: string, args: string[]): string[] {
  const program = new Command('food-trainer').exitOverride();
  for (const register of commands) register(program);
  const subcommand = program.commands.find((candidate) => candidate.name() === command);
  if (!subcommand) throw new Error(`food-trainer has no command "${command}"`);
  subcommand.exitOverride().configureOutput({ writeErr: () => {} });
  return subcommand.parseOptions(args).unknown;
}

// ---------------------------------------------------------------------------------------------

describe('deploy/k8s manifests', () => {
  it('parse, and every object validates against its Kubernetes schema', () => {
    expect(manifestFiles.length).toBeGreaterThan(0);
    for (const object of baseObjects) {
      expect(() => validateObject(object), `${object.kind} ${object.metadata?.name}`).not.toThrow();
    }
    expect(new Set(baseObjects.map((object) => object.kind))).toEqual(
      new Set([
        'PersistentVolumeClaim',
        'Deployment',
        'Service',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
        'Job',
      ]),
    );
  });

  it("every kustomization's resources and patches exist", () => {
    for (const file of kustomizations) {
      const dir = path.dirname(file);
      const kustomization = readKustomization(dir);
      const paths = [
        ...(kustomization.resources ?? []),
        ...(kustomization.patches ?? []).flatMap((patch) => (patch.path ? [patch.path] : [])),
      ];
      for (const relative of paths) {
        expect(existsSync(path.join(dir, relative)), `${path.relative(repoRoot, file)}: ${relative}`).toBe(
          true,
        );
      }
    }
  });

  it('a schema error is reported (the validator is not a no-op)', () => {
    const deployment = structuredClone(findObject(baseObjects, 'Deployment', 'food101-serve'));
    podSpecOf(deployment).containers[0].ports = [{ containerPort: 'http' as never }];
    expect(() => validateObject(deployment)).toThrow(/containerPort must be integer/);
  });
});

describe('serving: the Deployment matches the server', () => {
  const deployment = findObject(baseObjects, 'Deployment', 'food101-serve');
  const pod = podSpecOf(deployment);
  const container = pod.containers[0];
  const environment = generatorLiterals(path.join(k8sDir, 'base/serve'), 'food101-serve');
  const httpPort = container.ports?.find((port) => port.name === 'http')?.containerPort;

  it('sets only environment variables the server reads, and listens where the container port says', () => {
    const known = new Set<string>(Object.values(ENVIRONMENT));
    expect(Object.keys(environment).filter((name) => !known.has(name))).toEqual([]);
    expect(container.envFrom?.[0].configMapRef?.name).toBe('food101-serve');
    expect(Number(environment.PORT)).toBe(httpPort);
    expect(environment.HOST).toBe('0.0.0.0');
    const annotations = (
      deployment as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } }
    ).spec.template.metadata.annotations;
    expect(Number(annotations['prometheus.io/port'])).toBe(httpPort);
  });

  it('serves with --engine auto (the guarded int8 export, else float32), the model from the read-only models volume', () => {
    expect(environment.ENGINE).toBe('auto');
    // auto picks the export beside CHECKPOINT: pinning best.int8.onnx would fail where the guard refused it.
    expect(environment.ONNX_MODEL).toBeUndefined();
    const models = container.volumeMounts?.find((mount) => mount.name === 'models');
    expect(models?.readOnly).toBe(true);
    for (const name of ['CHECKPOINT', 'REPORT']) {
      expect(environment[name].startsWith(`${models?.mountPath}/`), name).toBe(true);
    }
  });

  it('probes and Prometheus use routes the app answers', async () => {
    expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/api/ready', port: 'http' });
    expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/api/health', port: 'http' });
    const { buildApp } = await import('@food/server/app');
    const { createTinyCheckpoint } = await import('@food/core/testing/tiny-checkpoint');
    const checkpoint = await createTinyCheckpoint();
    const app = await buildApp({ checkpoint: checkpoint.dir, workers: 0, backend: 'cpu', logger: false });
    try {
      await app.classifier.ready;
      const annotations = (
        deployment as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } }
      ).spec.template.metadata.annotations;
      for (const url of [
        container.readinessProbe?.httpGet?.path,
        container.livenessProbe?.httpGet?.path,
        annotations['prometheus.io/path'],
      ]) {
        expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
      }
    } finally {
      await app.close();
      await checkpoint.cleanup();
    }
  });

  it('drains within the grace period, after readiness has failed', () => {
    const drainDelayMs = Number(environment.DRAIN_DELAY_MS);
    expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(drainDelayMs + SHUTDOWN_TIMEOUT_MS);
    const readiness = container.readinessProbe!;
    expect(drainDelayMs).toBeGreaterThanOrEqual(
      readiness.periodSeconds! * readiness.failureThreshold! * 1000,
    );
  });

  it('runs as non-root on a read-only root file system, writing only to an emptyDir /tmp', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
    expect(pod.volumes?.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
  });

  it('requests CPU and memory, and limits memory', () => {
    expect(container.resources?.requests).toMatchObject({
      cpu: expect.anything(),
      memory: expect.anything(),
    });
    expect(container.resources?.limits?.memory).toBeDefined();
  });

  it('the Service, HPA and PDB point at these pods', () => {
    const labels = (
      deployment as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }
    ).spec.template.metadata.labels;
    const service = findObject(baseObjects, 'Service', 'food101-serve') as unknown as {
      spec: { selector: Record<string, string>; ports: Array<{ targetPort: string }> };
    };
    expect(labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports[0].targetPort).toBe('http');
    const pdb = findObject(baseObjects, 'PodDisruptionBudget', 'food101-serve') as unknown as {
      spec: { selector: { matchLabels: Record<string, string> } };
    };
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    const hpa = findObject(baseObjects, 'HorizontalPodAutoscaler', 'food101-serve') as unknown as {
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number };
    };
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    // The PDB lets one pod go; the HPA's minimum keeps another one serving meanwhile.
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect((deployment as unknown as { spec: { replicas?: number } }).spec.replicas).toBeUndefined();
  });
});

describe('training Jobs: commands the trainer accepts', () => {
  const jobs = baseObjects.filter((object) => object.kind === 'Job');

  it('every pnpm line of every Job uses commands and flags the trainer knows', () => {
    const invocations = jobs.flatMap((job) => podSpecOf(job).containers.flatMap(trainerInvocations));
    expect(invocations.map((invocation) => invocation.command)).toEqual(
      expect.arrayContaining(['download', 'prepare', 'stats', 'import-weights', 'train', 'evaluate']),
    );
    for (const { command, args, line } of invocations) {
      expect(unknownTrainerOptions(command, args), line).toEqual([]);
    }
  });

  it('rejects a flag the trainer does not have (the check is not a no-op)', () => {
    expect(unknownTrainerOptions('train', ['--prepared', 'p', '--out', 'o', '--learning-rate', '1'])).toEqual(
      ['--learning-rate', '1'],
    );
  });

  it('the training Job resumes itself: --resume auto, retries, and preemption not counted as failure', () => {
    const job = findObject(jobs, 'Job', 'food101-train') as unknown as {
      spec: {
        backoffLimit: number;
        podFailurePolicy: { rules: Array<{ action: string; onPodConditions: Array<{ type: string }> }> };
      };
    };
    const train = trainerInvocations(podSpecOf(job as never).containers[0]).find(
      (entry) => entry.command === 'train',
    );
    expect(train?.args.join(' ')).toMatch(/--resume auto$/);
    expect(job.spec.backoffLimit).toBeGreaterThan(0);
    expect(job.spec.podFailurePolicy.rules).toContainEqual({
      action: 'Ignore',
      onPodConditions: [{ type: 'DisruptionTarget' }],
    });
    expect(podSpecOf(job as never).restartPolicy).toBe('Never');
  });

  it('data and checkpoints live on the work volume, where the commands write them', () => {
    for (const job of jobs) {
      const mounts = podSpecOf(job).containers[0].volumeMounts ?? [];
      expect(mounts).toContainEqual({ name: 'work', mountPath: '/app/data', subPath: 'data' });
      expect(
        podSpecOf(job).volumes?.find((volume) => volume.name === 'work')?.persistentVolumeClaim?.claimName,
      ).toBe('food101-work');
    }
    const trainMounts = podSpecOf(findObject(jobs, 'Job', 'food101-train')).containers[0].volumeMounts ?? [];
    expect(trainMounts.map((mount) => mount.mountPath)).toEqual(
      expect.arrayContaining(['/app/checkpoints', '/app/reports', '/models']),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Rendering (kubectl's built-in kustomize), when kubectl is installed

function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const hasKubectl = kubectlAvailable();
if (!hasKubectl) console.warn('kubectl is not on PATH: skipping the `kubectl kustomize` rendering tests');

function render(overlay: string): KubernetesObject[] {
  const text = execFileSync('kubectl', ['kustomize', path.join(k8sDir, 'overlays', overlay)], {
    encoding: 'utf8',
  });
  return parseYamlDocuments(text, overlay);
}

describe.skipIf(!hasKubectl)('kubectl kustomize', () => {
  it('renders cpu-serve: Deployment, Service, HPA, PDB, the server ConfigMap and the models volume', () => {
    const objects = render('cpu-serve');
    for (const object of objects) expect(() => validateObject(object), object.kind).not.toThrow();
    expect(objects.map((object) => object.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PersistentVolumeClaim',
      'PodDisruptionBudget',
      'Service',
    ]);
    expect(new Set(objects.map((object) => object.metadata.namespace))).toEqual(new Set(['food101']));
    // The Deployment refers to the generated (hash-suffixed) ConfigMap, so a new release rolls the pods.
    const configMap = findObject(objects, 'ConfigMap', 'food101-serve');
    expect(configMap.metadata.name).toMatch(/^food101-serve-[a-z0-9]{10}$/);
    const container = podSpecOf(findObject(objects, 'Deployment', 'food101-serve')).containers[0];
    expect(container.envFrom?.[0].configMapRef?.name).toBe(configMap.metadata.name);
    expect(container.image).toMatch(/:[\w.-]+$/);
    expect(container.image).not.toMatch(/:latest$/);
    expect(container.resources?.requests?.cpu).toBeDefined();
    expect(Object.keys((configMap as unknown as { data: Record<string, string> }).data)).toEqual(
      expect.arrayContaining(['CHECKPOINT', 'ENGINE', 'PORT', 'DRAIN_DELAY_MS']),
    );
  });

  it('renders gpu-train: the work and models volumes, prepare and a GPU training Job that resumes itself', () => {
    const objects = render('gpu-train');
    for (const object of objects) expect(() => validateObject(object), object.kind).not.toThrow();
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual([
      'Job/food101-prepare',
      'Job/food101-train',
      'PersistentVolumeClaim/food101-models',
      'PersistentVolumeClaim/food101-work',
    ]);
    const train = podSpecOf(findObject(objects, 'Job', 'food101-train'));
    const container = train.containers[0];
    expect(container.resources?.limits?.['nvidia.com/gpu']).toBe(1);
    expect(train.tolerations).toContainEqual(expect.objectContaining({ key: 'nvidia.com/gpu' }));
    expect(container.image).not.toMatch(/:latest$/);
    const command = trainerInvocations(container).find((entry) => entry.command === 'train');
    expect(command?.args).toEqual(expect.arrayContaining(['--backend', 'tensorflow', '--resume', 'auto']));
    // The micro-batch is planned from the GPU's memory (`--accumulate auto`), not fixed for one card.
    expect(command?.args).not.toContain('--accumulate');
    expect(unknownTrainerOptions('train', command!.args)).toEqual([]);
  });
});
