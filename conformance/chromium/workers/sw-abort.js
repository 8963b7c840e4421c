// WPT's service_workers/sw-abort.js: how each record's responseReady settles.
'use strict';
importScripts('sw-helpers.js');

async function getFetchResult(record) {
  try {
    await record.responseReady;
  } catch (error) {
    return {response: false, name: error.name};
  }
  return {response: true, name: null};
}

self.addEventListener('backgroundfetchabort', event => {
  event.waitUntil(
      event.registration.matchAll()
          .then(records => Promise.all(records.map(record => getFetchResult(record))))
          .then(results => sendMessageToDocument({type: event.type, results})));
});
