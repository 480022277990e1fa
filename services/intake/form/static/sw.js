// Service worker: keeps the app shell so the form opens without a network. It never touches
// the API (/v1/…): sending and retrying is the page's job, from its IndexedDB outbox.
const VERSION = "__SHELL_VERSION__"; // replaced by intake with a hash of the shell's files
const CACHE = `seinpost-shell-${VERSION}`;
const SHELL = ["./", "app.js", "style.css", "manifest.webmanifest", "icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((key) => key.startsWith("seinpost-shell-") && key !== CACHE)
            .map((key) => caches.delete(key)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const scope = new URL(self.registration.scope);
  if (request.method !== "GET" || url.origin !== scope.origin) return;
  if (!url.pathname.startsWith(scope.pathname)) return; // the API goes straight to the network
  if (request.mode === "navigate") {
    // Network first, so a new version shows as soon as there is a connection; the cached
    // shell when there is none. The page itself never carries personal data.
    event.respondWith(
      fetch(request).catch(() =>
        caches.match("./", { ignoreSearch: true }).then((hit) => hit ?? Response.error()),
      ),
    );
    return;
  }
  event.respondWith(
    caches.match(request, { ignoreSearch: true }).then((hit) => hit ?? fetch(request)),
  );
});
