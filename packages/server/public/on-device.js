// "On this device": the server's ONNX model, run in the page with onnxruntime-web (wasm, SIMD), with the
// checkpoint's own preprocessing (GET /api/model: preprocess), as core/preprocess/image.ts applies it:
// shorter side resized to resizeShorterSide (the longer side truncated), centre crop cropSize² with the
// offsets floored, alpha composited onto white, (pixel / 255 − mean) / std, HWC.
//
// One unavoidable difference: the resize is the browser's (canvas, high-quality smoothing), not libvips'
// (sharp's linear kernel), so pixel values differ slightly and a photo whose two best classes are nearly
// tied may swap them; the test in packages/server/test/on-device.int.test.ts measures the agreement.

const ORT_WEB = '/vendor/onnxruntime-web/';
const INPUT = 'input';
const OUTPUT = 'probabilities';

let loaded; // { url, promise } of the session being loaded or loaded

/** Loads (once per model url) onnxruntime-web and the model; the model bytes come from the HTTP cache when there. */
export function loadDeviceModel(browserModel) {
  if (loaded?.url !== browserModel.url) {
    const promise = (async () => {
      const ort = await import(`${ORT_WEB}ort.wasm.min.mjs`);
      ort.env.wasm.wasmPaths = ORT_WEB;
      // Threads need SharedArrayBuffer, which only a cross-origin-isolated page has.
      ort.env.wasm.numThreads = globalThis.crossOriginIsolated
        ? Math.min(4, navigator.hardwareConcurrency)
        : 1;
      const started = performance.now();
      const response = await fetch(browserModel.url);
      if (!response.ok)
        throw new Error(`The model could not be downloaded (${response.status}). Reload the page.`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      return { ort, session, loadMs: performance.now() - started };
    })();
    loaded = { url: browserModel.url, promise };
    promise.catch(() => {
      if (loaded?.promise === promise) loaded = undefined; // let a later photo try again
    });
  }
  return loaded.promise;
}

/** Shorter side → `shorterSide`, longer side scaled and truncated (core's resizedSize). */
export function resizedSize(width, height, shorterSide) {
  if (width <= height) return { width: shorterSide, height: Math.floor((shorterSide * height) / width) };
  return { width: Math.floor((shorterSide * width) / height), height: shorterSide };
}

/** The photo as the model's input: HWC Float32Array of cropSize²·3 normalised values. */
export async function preprocessInBrowser(blob, preprocess) {
  const { resizeShorterSide, cropSize, mean, std } = preprocess;
  // EXIF orientation is applied, as sharp's autoOrient does.
  const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  const resized = resizedSize(bitmap.width, bitmap.height, resizeShorterSide);
  const left = Math.floor((resized.width - cropSize) / 2);
  const top = Math.floor((resized.height - cropSize) / 2);
  const canvas = new OffscreenCanvas(cropSize, cropSize);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.fillStyle = '#fff';
  context.fillRect(0, 0, cropSize, cropSize);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  // Resize the whole photo and keep the centre window: the crop is the canvas itself.
  context.drawImage(bitmap, -left, -top, resized.width, resized.height);
  bitmap.close();
  const rgba = context.getImageData(0, 0, cropSize, cropSize).data;
  const out = new Float32Array(cropSize * cropSize * 3);
  for (let pixel = 0, i = 0; pixel < rgba.length; pixel += 4) {
    for (let channel = 0; channel < 3; channel++, i++) {
      out[i] = (rgba[pixel + channel] / 255 - mean[channel]) / std[channel];
    }
  }
  return out;
}

/** Classifies `blob` on this device: the top `topK` classes, most probable first, and the time it took. */
export async function classifyOnDevice(blob, model, topK) {
  const { ort, session } = await loadDeviceModel(model.browserModel);
  const started = performance.now();
  const { cropSize } = model.preprocess;
  const input = new ort.Tensor('float32', await preprocessInBrowser(blob, model.preprocess), [
    1,
    cropSize,
    cropSize,
    3,
  ]);
  const outputs = await session.run({ [INPUT]: input });
  const probabilities = outputs[OUTPUT].data;
  input.dispose?.();
  const predictions = Array.from(probabilities, (probability, index) => ({ index, probability }))
    // Ties go to the lower index, as core's topK does.
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, topK)
    .map(({ index, probability }) => ({ label: model.classes[index], probability }));
  return { predictions, latencyMs: performance.now() - started };
}
