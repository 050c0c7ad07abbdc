// A Spin JS SDK v3-style app reading Spin variables the way the SDK's Variables.get does (an import of
// fermyon:spin/variables@2.0.0): GET /NAME answers 200 with the value, or 404 with the error's tag and message.
import { get } from 'fermyon:spin/variables@2.0.0';

function handle(request) {
  const name = new URL(request.url).pathname.slice(1);
  try {
    return new Response(get(name), { status: 200, headers: { 'content-type': 'text/plain' } });
  } catch (error) {
    const payload = error?.payload ?? error;
    const tag = payload?.tag ?? 'unknown';
    const message = payload?.val ?? String(error);
    return new Response(`${tag}: ${message}`, { status: 404, headers: { 'content-type': 'text/plain', 'x-variable-error': tag } });
  }
}

addEventListener('fetch', (event) => {
  event.respondWith(handle(event.request));
});
