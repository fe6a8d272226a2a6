/**
 * Proves a provisioned tfjs-node works by running one TensorFlow op in a fresh Node process (a binding
 * that fails to load must not take this process down, nor register half a backend in it).
 */
import { spawn } from 'node:child_process';
import { UserError } from '@food/core/errors';

export interface BindingCheck {
  backend: string;
  tensorflowVersion: string;
  gpu: boolean;
}

const CHECK_SCRIPT = `
const tf = require(process.argv[1]);
const a = tf.tensor2d([[1, 2], [3, 4]]);
const product = tf.matMul(a, a).arraySync();
if (JSON.stringify(product) !== '[[7,10],[15,22]]') throw new Error('matMul gave ' + JSON.stringify(product));
console.log('CHECK ' + JSON.stringify({
  backend: tf.getBackend(),
  tensorflowVersion: tf.backend().binding.TF_Version,
  gpu: tf.backend().isUsingGpuDevice === true,
}));
`;

export function checkBinding(packageRoot: string): Promise<BindingCheck> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHECK_SCRIPT, packageRoot], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.on('close', (code) => {
      const line = output.split('\n').find((text) => text.startsWith('CHECK '));
      if (code === 0 && line) return resolve(JSON.parse(line.slice('CHECK '.length)) as BindingCheck);
      const error =
        output.split('\n').find((text) => /Error|undefined symbol|cannot open/.test(text)) ?? output.trim();
      reject(
        new UserError(
          `the built binding did not run matMul (exit ${code}): ${error}`,
          'BINDING_CHECK_FAILED',
        ),
      );
    });
  });
}
