// WPT's service_workers/sw.js: each completion event's registration and records.
'use strict';
importScripts('sw-helpers.js');

const FEATURE_NAME = '/background-fetch/resources/feature-name.txt';
const MISSING = '/background-fetch/resources/missing.txt';

async function getFetchResult(record) {
  const response = await record.responseReady.catch(() => null);
  if (!response) return null;
  const result = {
    url: response.url,
    status: response.status,
    text: await response.text().catch(() => 'error'),
  };
  if (self.reportCors) {  // sw-cors.js
    result.type = response.type;
    result.xSecretHeader = response.headers.get('X-Secret-Header');
  }
  return result;
}

function handleBackgroundFetchEvent(event) {
  const registration = event.registration;
  let matchFunction;
  switch (registration.id) {
    case 'matchexistingrequest':
      matchFunction = () => registration.match(FEATURE_NAME);
      break;
    case 'matchexistingrequesttwice':
      matchFunction = async () => [await registration.match(FEATURE_NAME),
                                   await registration.match(FEATURE_NAME)];
      break;
    case 'matchmissingrequest':
      matchFunction = () => registration.match(MISSING);
      break;
    default:
      matchFunction = () => registration.matchAll();
  }
  event.waitUntil(
      matchFunction()
          .then(records => {
            if (!records) return [];  // nothing matched
            if (!records.map) return [records];  // one record
            return records;
          })
          .then(records => Promise.all(records.map(record => getFetchResult(record))))
          .then(results => sendMessageToDocument(
              {type: event.type, eventRegistration: cloneRegistration(registration), results}))
          .catch(() => sendMessageToDocument(
              {type: event.type, eventRegistration: {}, results: [], error: true})));
}

self.addEventListener('backgroundfetchsuccess', handleBackgroundFetchEvent);
self.addEventListener('backgroundfetchfail', handleBackgroundFetchEvent);
self.addEventListener('backgroundfetchabort', handleBackgroundFetchEvent);
