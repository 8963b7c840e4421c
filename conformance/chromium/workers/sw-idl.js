// Answers the message 'interfaces' with the Background Fetch interfaces of the worker's
// global, each with its IDL members; any other message is the 'ready' handshake.
'use strict';
importScripts('sw-helpers.js');

const NAMES = [
  // The current spec's, then the 2017-10-12 draft's.
  'BackgroundFetchManager', 'BackgroundFetchRegistration', 'BackgroundFetchRecord',
  'BackgroundFetchEvent', 'BackgroundFetchUpdateUIEvent',
  'BackgroundFetchActiveFetches', 'BackgroundFetchActiveFetch', 'BackgroundFetchFetch',
  'BackgroundFetchSettledEvent', 'BackgroundFetchUpdateEvent', 'BackgroundFetchClickEvent',
  'BackgroundFetchSettledFetches', 'BackgroundFetchSettledFetch',
];

function interfaces() {
  const found = {};
  for (const name of NAMES) {
    if (typeof self[name] !== 'function') continue;
    found[name] = Object.getOwnPropertyNames(self[name].prototype)
        .filter(member => member !== 'constructor').sort();
  }
  found.ServiceWorkerRegistration =
      'backgroundFetch' in ServiceWorkerRegistration.prototype ? ['backgroundFetch'] : [];
  // The global's own attributes are on the global object itself ([Global]), not on
  // ServiceWorkerGlobalScope.prototype.
  const own = [self, ServiceWorkerGlobalScope.prototype].flatMap(o => Object.getOwnPropertyNames(o));
  found.ServiceWorkerGlobalScope =
      [...new Set(own.filter(member => member.startsWith('onbackgroundfetch')))].sort();
  return found;
}

self.onHandshakeMessage = event => {
  if (event.data !== 'interfaces') return false;
  event.source.postMessage({interfaces: interfaces()});
  return true;
};
