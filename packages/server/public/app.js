// The web UI: pick, drop, paste or photograph an image; POST it to /api/predict; show the top 5.
// Plain ES module, no build step, nothing loaded from other hosts.

import { formatLabel } from './format-label.js';
import { formatCount, modelTagline } from './model-tagline.js';
import { classifyOnDevice } from './on-device.js';

const TOP_K = 5;
const $ = (id) => document.getElementById(id);

const elements = {
  status: $('status'),
  statusText: $('status-text'),
  tagline: $('tagline'),
  syntheticNotice: $('synthetic-notice'),
  dropzone: $('dropzone'),
  preview: $('preview'),
  previewFigure: document.querySelector('.preview'),
  busy: $('busy'),
  fileInput: $('file-input'),
  cameraInput: $('camera-input'),
  error: $('error'),
  results: $('results'),
  placeholder: $('placeholder'),
  predictions: $('predictions'),
  latency: $('latency'),
  modelStats: $('model-stats'),
  figures: $('figures'),
  classCount: $('class-count'),
  classList: $('class-list'),
  preprocess: $('preprocess'),
  where: $('where'),
  whereNote: $('where-note'),
};

const percent = (value, digits = 1) => `${(value * 100).toFixed(digits)}%`;

let previewUrl;
let requestCounter = 0;
/** GET /api/model's answer, once loaded: the on-device path needs its classes, preprocessing and model url. */
let modelInfo;

/** "on this device" or "on the server" (the default), from the switch. */
const onDevice = () => elements.where.querySelector('input[name="where"]:checked')?.value === 'device';

async function classify(file) {
  if (!file) return;
  if (file.type && !file.type.startsWith('image/')) {
    showError(`“${file.name}” is not an image. Choose a JPEG, PNG, WebP, GIF or AVIF photo.`);
    return;
  }
  const request = ++requestCounter;
  showError(null);
  showPreview(file);
  setBusy(true);
  const device = onDevice() && modelInfo?.browserModel;
  try {
    const body = device ? await classifyOnDevice(file, modelInfo, TOP_K) : await classifyOnServer(file);
    if (request !== requestCounter) return; // a newer photo was chosen meanwhile
    renderPredictions(body, device ? 'on this device' : 'on the server');
  } catch (error) {
    if (request !== requestCounter) return;
    const offline = !device && error instanceof TypeError;
    const message = device ? `This device could not classify the photo: ${error.message}` : error.message;
    showError(offline ? 'Cannot reach the server. Is it still running?' : message);
  } finally {
    if (request === requestCounter) setBusy(false);
  }
}

async function classifyOnServer(file) {
  const form = new FormData();
  form.append('image', file, file.name || 'pasted-image');
  const response = await fetch(`/api/predict?topK=${TOP_K}`, { method: 'POST', body: form });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error?.message ?? `The server answered ${response.status}.`);
  return body;
}

function showPreview(file) {
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(file);
  elements.preview.src = previewUrl;
  elements.preview.alt = file.name ? `Your upload: ${file.name}` : 'Your pasted upload';
  elements.previewFigure.hidden = false;
  elements.dropzone.dataset.state = 'preview';
}

function setBusy(busy) {
  elements.busy.hidden = !busy;
  elements.results.setAttribute('aria-busy', String(busy));
}

/** An error replaces the result: the previous photo's labels must not sit beside it as if they were this one's. */
function showError(message) {
  elements.error.hidden = !message;
  elements.error.textContent = message ?? '';
  if (message) clearPredictions();
}

function clearPredictions() {
  elements.predictions.replaceChildren();
  elements.predictions.hidden = true;
  elements.latency.hidden = true;
  elements.latency.textContent = '';
  elements.placeholder.hidden = false;
}

function renderPredictions({ predictions, latencyMs, model }, where) {
  const items = predictions.map(({ label, probability }) => {
    const item = document.createElement('li');
    item.className = 'prediction';
    const name = document.createElement('span');
    name.className = 'prediction-label';
    name.textContent = formatLabel(label);
    name.title = label;
    const value = document.createElement('span');
    value.className = 'prediction-value';
    value.textContent = percent(probability);
    const bar = document.createElement('span');
    bar.className = 'prediction-bar';
    bar.setAttribute('aria-hidden', 'true');
    const fill = document.createElement('span');
    bar.append(fill);
    item.append(name, value, bar);
    // Set the width after insertion so the bar animates from zero.
    requestAnimationFrame(() => {
      fill.style.width = `${Math.max(0.5, probability * 100)}%`;
    });
    return item;
  });
  elements.predictions.replaceChildren(...items);
  elements.predictions.hidden = false;
  elements.placeholder.hidden = true;
  elements.latency.hidden = false;
  elements.latency.textContent = `${latencyMs.toFixed(0)} ms ${where} · model ${(model ?? modelInfo)?.checkpoint}`;
}

/**
 * The int8 guard on the model card: its decision, int8 and float32 validation top-1 and their top-1
 * agreement; the full sentence (the reason) as the tooltip.
 */
function int8GuardStat(guard) {
  if (!guard) return undefined;
  const figures = guard.figures;
  const numbers =
    figures && figures.images > 0
      ? `top-1 ${percent(figures.int8Top1, 2)} vs float32 ${percent(figures.float32Top1, 2)}, ` +
        `agreement ${percent(figures.agreement)} on ${figures.images} val images`
      : undefined;
  const verdict = { kept: 'int8 kept', refused: 'int8 refused', forced: 'int8 kept unchecked' }[
    guard.decision
  ];
  const element = stat('Int8 guard', verdict, numbers);
  element.title = guard.reason;
  return element;
}

/** The switch appears only when the server runs an ONNX model the page can fetch. */
function showWhereSwitch(browserModel) {
  elements.where.hidden = !browserModel;
  if (!browserModel) return;
  const megabytes = (browserModel.bytes / 1e6).toFixed(1);
  elements.whereNote.textContent = `(on this device downloads the ${browserModel.precision} model once, ${megabytes} MB)`;
}

/** A figure of the model card: a short value in large type, and an optional note in small type under it. */
function stat(label, value, note) {
  const wrapper = document.createElement('div');
  wrapper.className = 'stat';
  const term = document.createElement('dt');
  term.textContent = label;
  const detail = document.createElement('dd');
  detail.textContent = value;
  wrapper.append(term, detail);
  if (note) {
    const small = document.createElement('dd');
    small.className = 'stat-note';
    small.textContent = note;
    wrapper.append(small);
  }
  return wrapper;
}

async function loadModelCard() {
  const response = await fetch('/api/model');
  if (!response.ok) return;
  const model = await response.json();
  modelInfo = model;
  showWhereSwitch(model.browserModel);
  elements.tagline.textContent = modelTagline(model);
  // A model trained on generated pictures must not pass for a food model.
  elements.syntheticNotice.hidden = model.dataset.synthetic !== true;
  const stats = [
    stat('Classes', String(model.classes.length)),
    stat('Parameters', formatCount(model.parameters)),
  ];
  if (model.test?.accuracy != null) stats.push(stat('Test accuracy', percent(model.test.accuracy)));
  if (model.test?.top5 != null) stats.push(stat('Test top-5', percent(model.test.top5)));
  if (model.test?.macroF1 != null) stats.push(stat('Test macro-F1', model.test.macroF1.toFixed(3)));
  if (model.training.bestValAccuracy != null)
    stats.push(stat('Val accuracy', percent(model.training.bestValAccuracy)));
  if (model.training.epoch != null) {
    const epochs = model.training.epochs != null ? ` / ${model.training.epochs}` : '';
    stats.push(stat('Epochs', `${model.training.epoch}${epochs}`));
  }
  if (model.dataset.name) {
    const kind = model.dataset.synthetic ? 'synthetic images, not food photos' : undefined;
    stats.push(stat('Data set', model.dataset.name, kind));
  }
  stats.push(stat('Input', `${model.preprocess.cropSize}×${model.preprocess.cropSize}`));
  const precision = model.engine.precision ? ` ${model.engine.precision}` : '';
  stats.push(
    stat('Engine', `${model.engine.name === 'onnx' ? 'ONNX Runtime' : 'TensorFlow.js'}${precision}`),
  );
  const guard = int8GuardStat(model.int8Guard);
  if (guard) stats.push(guard);
  elements.modelStats.replaceChildren(...stats);

  const captions = {
    'curves.svg': 'Training curves: loss and accuracy per epoch',
    'curves.png': 'Training curves: loss and accuracy per epoch',
    'confusion.svg': 'Confusion matrix on the test split',
    'confusion.png': 'Confusion matrix on the test split',
  };
  const figures = model.assets.map((name) => {
    const figure = document.createElement('figure');
    const image = document.createElement('img');
    image.src = `/api/model/assets/${encodeURIComponent(name)}`;
    image.alt = captions[name] ?? name;
    image.loading = 'lazy';
    const caption = document.createElement('figcaption');
    caption.textContent = captions[name] ?? name;
    figure.append(image, caption);
    return figure;
  });
  elements.figures.replaceChildren(...figures);
  elements.figures.hidden = figures.length === 0;

  elements.classCount.textContent = String(model.classes.length);
  elements.classList.replaceChildren(
    ...model.classes.map((label) => {
      const chip = document.createElement('li');
      chip.textContent = formatLabel(label);
      return chip;
    }),
  );
  const { resizeShorterSide, cropSize, interpolation, mean, std } = model.preprocess;
  const triple = (values) => values.map((value) => value.toFixed(3)).join(', ');
  elements.preprocess.textContent =
    `Shorter side resized to ${resizeShorterSide} px (${interpolation}), centre crop ${cropSize}×${cropSize}, ` +
    `normalised with mean (${triple(mean)}) and std (${triple(std)}) — the same steps as in evaluation.`;
}

function setStatus(state, text) {
  elements.status.dataset.state = state;
  elements.statusText.textContent = text;
}

async function pollReadiness() {
  try {
    const response = await fetch('/api/ready');
    if (response.ok) {
      setStatus('ready', 'Model ready');
      return;
    }
    setStatus('loading', 'Model loading…');
  } catch {
    setStatus('offline', 'Server offline');
  }
  setTimeout(pollReadiness, 2000);
}

function firstImage(items) {
  for (const item of items ?? []) {
    if (item.kind === 'file' && item.type.startsWith('image/')) return item.getAsFile();
  }
  return null;
}

function wireInputs() {
  // The browser cannot show some files the server can read (TIFF) or that are not images at all:
  // fall back to the empty drop area instead of a broken picture.
  elements.preview.addEventListener('error', () => {
    elements.previewFigure.hidden = true;
    elements.dropzone.dataset.state = 'empty';
  });
  for (const input of [elements.fileInput, elements.cameraInput]) {
    input.addEventListener('change', () => {
      classify(input.files?.[0]);
      input.value = ''; // choosing the same file again still fires `change`
    });
  }
  const { dropzone } = elements;
  // A click anywhere on the drop area opens the picker too (keyboard users have the buttons).
  dropzone.addEventListener('click', () => elements.fileInput.click());
  const previousState = () => (elements.previewFigure.hidden ? 'empty' : 'preview');
  dropzone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropzone.dataset.state = 'dragging';
  });
  dropzone.addEventListener('dragleave', () => {
    dropzone.dataset.state = previousState();
  });
  dropzone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropzone.dataset.state = previousState();
    const file = event.dataTransfer?.files?.[0];
    if (file) classify(file);
  });
  // Dropping a file elsewhere on the page must not navigate away from it.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());
  document.addEventListener('paste', (event) => {
    const file = firstImage(event.clipboardData?.items);
    if (file) {
      event.preventDefault();
      classify(file);
    }
  });
}

wireInputs();
// Keeps the page and the model for classifying on the device with the server down (sw.js).
navigator.serviceWorker?.register('/sw.js').catch(() => {});
loadModelCard().catch(() => {});
pollReadiness();
