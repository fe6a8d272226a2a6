// The page's service worker: it keeps what "on this device" needs, so that classifying on the device
// works with the server down once the model has been used. The page, its scripts, /api/model and
// onnxruntime-web go to the network first and fall back to the copy kept from the last visit; the model,
// whose URL holds its sha256, is taken from the cache first (the URL always means the same bytes).
// Predictions, readiness and everything else always go to the server.

const CACHE = 'food-ui';
const MODEL = /^\/api\/model\/onnx\/[0-9a-f]{64}\.onnx$/;
const KEPT = (pathname) => !pathname.startsWith('/api/') || pathname === '/api/model' || MODEL.test(pathname);

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !KEPT(url.pathname)) return;
  if (url.pathname.startsWith('/docs') || url.pathname === '/metrics') return;
  event.respondWith(MODEL.test(url.pathname) ? cacheFirst(event.request) : networkFirst(event.request));
});

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) {
    // One model at a time: a new export replaces the old one's bytes.
    for (const key of await cache.keys()) {
      if (MODEL.test(new URL(key.url).pathname)) await cache.delete(key);
    }
    await cache.put(request, response.clone());
  }
  return response;
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request);
    if (kept) return kept;
    throw error;
  }
}
