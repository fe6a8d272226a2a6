import { spawnSync } from 'node:child_process';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { classificationMetrics } from '../../src/metrics/classification-metrics.ts';
import { confusionMatrix } from '../../src/metrics/confusion-matrix.ts';
import { topKAccuracy } from '../../src/metrics/top-k.ts';

/**
 * Cross-check against scikit-learn, the reference our metric definitions follow.
 * Needs python3 with scikit-learn (Debian: `apt-get install -y python3-sklearn`; CI installs it).
 * Set PYTHON to choose the interpreter; otherwise python3 on PATH, then /usr/bin/python3.
 */
const python = [process.env.PYTHON, 'python3', '/usr/bin/python3'].find(
  (candidate) => candidate && spawnSync(candidate, ['-c', 'import sklearn']).status === 0,
);

const REFERENCE = `
import json, sys
import numpy as np
from sklearn.metrics import (accuracy_score, confusion_matrix, precision_recall_fscore_support,
                             top_k_accuracy_score)
results = []
for case in json.load(sys.stdin):
    y_true, y_pred, n = np.array(case['yTrue']), np.array(case['yPred']), case['numClasses']
    present = sorted(set(case['yTrue']) | set(case['yPred']))
    result = {
        'confusion': confusion_matrix(y_true, y_pred, labels=list(range(n))).tolist(),
        'accuracy': accuracy_score(y_true, y_pred),
        'present': present,
    }
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=present, zero_division=0)
    result['perClass'] = {'precision': p.tolist(), 'recall': r.tolist(), 'f1': f.tolist(), 'support': s.tolist()}
    for average in ['macro', 'weighted']:
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=present, average=average, zero_division=0)
        result[average] = {'precision': p, 'recall': r, 'f1': f}
    scores = np.array(case['probabilities'])
    result['topK'] = {str(k): top_k_accuracy_score(y_true, scores, k=k, labels=list(range(n))) for k in [1, 5]}
    results.append(result)
json.dump(results, sys.stdout)
`;

interface Case {
  yTrue: number[];
  yPred: number[];
  numClasses: number;
  probabilities: number[][];
}

/** 50 classes; 4 never occur as labels, 3 of them are never predicted either. */
function randomCase(seed: number): Case {
  const random = seedrandom(`metrics-${seed}`);
  const numClasses = 50;
  const pick = (allowed: number[]) => allowed[Math.floor(random() * allowed.length)];
  const all = Array.from({ length: numClasses }, (_, c) => c);
  const labelled = all.filter((c) => ![3, 17, 29, 41].includes(c));
  const predictable = all.filter((c) => ![3, 17, 29].includes(c));
  const samples = 200 + Math.floor(random() * 400);
  const yTrue = Array.from({ length: samples }, () => pick(labelled));
  // Roughly 60 % right, like a model partway through training.
  const yPred = yTrue.map((label) => (random() < 0.6 ? label : pick(predictable)));
  yPred[0] = 41; // predicted at least once, never a label
  // Continuous random scores: ties have probability ~0, so sklearn's and our tie rules agree.
  const probabilities = yTrue.map((label) =>
    all.map((c) => random() + (c === label && random() < 0.4 ? 0.5 : 0)),
  );
  return { yTrue, yPred, numClasses, probabilities };
}

function expectClose(actual: number, expected: number, what: string) {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs sklearn ${expected}`).toBeLessThanOrEqual(1e-12);
}

describe('metrics against scikit-learn', () => {
  const title = 'agree to 1e-12 on random 50-class labels with absent classes';
  it.skipIf(!python)(
    python ? title : `${title} (SKIPPED: no python3 with scikit-learn; apt-get install -y python3-sklearn)`,
    () => {
      const cases = [1, 2, 3, 4, 5].map(randomCase);
      const run = spawnSync(python!, ['-c', REFERENCE], { input: JSON.stringify(cases), encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const references = JSON.parse(run.stdout);

      for (const [i, testCase] of cases.entries()) {
        const reference = references[i];
        const confusion = confusionMatrix(testCase.yTrue, testCase.yPred, testCase.numClasses);
        expect(confusion).toEqual(reference.confusion);
        const metrics = classificationMetrics(confusion);
        expectClose(metrics.accuracy, reference.accuracy, `case ${i} accuracy`);
        for (const key of ['precision', 'recall', 'f1'] as const) {
          expectClose(metrics[key].macro, reference.macro[key], `case ${i} macro ${key}`);
          expectClose(metrics[key].weighted, reference.weighted[key], `case ${i} weighted ${key}`);
          for (const [j, c] of (reference.present as number[]).entries()) {
            expectClose(metrics.perClass[c][key], reference.perClass[key][j], `case ${i} class ${c} ${key}`);
          }
        }
        expect((reference.present as number[]).map((c) => metrics.perClass[c].support)).toEqual(
          reference.perClass.support,
        );
        // The sampled case really has the classes these rules are about.
        expect(metrics.perClass[41]).toMatchObject({ support: 0 });
        expect(metrics.perClass[41].predicted).toBeGreaterThan(0);
        expect(metrics.perClass[3]).toMatchObject({ support: 0, predicted: 0 });
        for (const k of [1, 5]) {
          expectClose(topKAccuracy(testCase.probabilities, testCase.yTrue, k), reference.topK[k], `top-${k}`);
        }
      }
    },
  );
});
