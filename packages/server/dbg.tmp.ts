import { buildApp } from './src/app.ts';
import { createTinyCheckpoint } from './test/helpers/tiny-checkpoint.ts';

const cp = await createTinyCheckpoint();
const app = await buildApp({ checkpoint: cp.dir, workers: 0, backend: 'cpu', logger: { level: 'error' } });
await app.classifier.ready;
const r = await app.inject({
  method: 'POST',
  url: '/api/predict',
  payload: 'hello',
  headers: { 'content-type': 'text/plain' },
});
console.log(r.statusCode, r.body);
await app.close();
await cp.cleanup();
