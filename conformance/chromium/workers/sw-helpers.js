// WPT's service_workers/sw-helpers.js, and the backend's hold of installation.
'use strict';

// PageSetup(activate=False): the install event stays extended, so the registration has
// no active worker while the test runs, until the page closing releases it (the
// unregister job would wait behind the unfinished register job for ever).
const RELEASE_INSTALL = '__bgfetch_release_install__';
let releaseInstall = () => {};
if (new URL(self.location.href).searchParams.has('hold-install')) {
  const held = new Promise(resolve => { releaseInstall = resolve; });
  self.addEventListener('install', event => event.waitUntil(held));
}

// The page's 'ready' handshake makes the page the source every later message goes to.
let source = null;
self.addEventListener('message', event => {
  if (event.data === RELEASE_INSTALL) return releaseInstall();
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
