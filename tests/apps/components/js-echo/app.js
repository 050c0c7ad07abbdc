// A Spin JS SDK v3 app (fetch event, built with j2w): echoes what it received so tests can check how the host maps
// the request, answers a fixed status and header on /status/418, and tries an outbound fetch on /fetch.
async function handle(request) {
  const url = new URL(request.url);
  if (url.pathname === '/status/418') {
    return new Response('short and stout\n', { status: 418, headers: { 'content-type': 'text/plain', 'x-teapot': 'yes' } });
  }
  if (url.pathname === '/fetch') {
    const target = url.searchParams.get('url') ?? 'http://127.0.0.1:9/';
    try {
      const upstream = await fetch(target);
      const text = await upstream.text();
      return new Response(text, { status: 200, headers: { 'x-upstream-status': String(upstream.status) } });
    } catch (error) {
      console.error(`fetch ${target} failed: ${error}`);
      return new Response(`fetch failed: ${error}\n`, { status: 502, headers: { 'content-type': 'text/plain' } });
    }
  }
  const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
  const headers = {};
  for (const [name, value] of request.headers) {
    headers[name] = value;
  }
  console.log(`js-echo ${request.method} ${url.pathname}`);
  const payload = JSON.stringify({ method: request.method, url: request.url, path: url.pathname, query: url.search, headers, body });
  return new Response(payload, { status: 200, headers: { 'content-type': 'application/json', 'x-echo-method': request.method } });
}

addEventListener('fetch', (event) => {
  event.respondWith(handle(event.request));
});
