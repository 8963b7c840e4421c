// WPT's service_workers/sw-helpers.js, and the backend's hold of installation.
'use strict';

// The page's 'ready' handshake makes the page the source every later message goes to.
let source = null;
self.addEventListener('message', event => {
  if (self.onHandshakeMessage && self.onHandshakeMessage(event)) return;
  source = event.source;
  source.postMessage('ready');
});

function sendMessageToDocument(message) {
  source.postMessage(message);
}

// A BackgroundFetchRegistration cannot be posted: copy its enumerable non-function
// properties (its attributes, and onprogress).
function cloneRegistration(registration) {
  const copy = {};
  for (const key in registration) {
    if (typeof registration[key] !== 'function') copy[key] = registration[key];
  }
  return copy;
}

// PageSetup(activate=False): the install event stays extended, so the registration
// never gets an active worker while the test runs.
if (new URL(self.location.href).searchParams.has('hold-install')) {
  self.addEventListener('install', event => event.waitUntil(new Promise(() => {})));
}
