// WPT's service_workers/sw-update-ui.js: updateUI() by the registration's id.
'use strict';
importScripts('sw-helpers.js');

async function updateUI(event) {
  let updateParams = [];
  switch (event.registration.id) {
    case 'update-once':
      updateParams = [{title: 'Title1'}];
      break;
    case 'update-twice':
      updateParams = [{title: 'Title1'}, {title: 'Title2'}];
      break;
  }
  // Every call in the same turn; the first rejection's name.
  return Promise.all(updateParams.map(param => event.updateUI(param)))
      .then(() => 'update success')
      .catch(error => error.name);
}

self.addEventListener('backgroundfetchsuccess', event => {
  if (event.registration.id === 'update-inactive') {
    // A task after the handler returned, outside waitUntil: the event is inactive.
    setTimeout(() => {
      event.updateUI({title: 'New title'})
          .catch(error => sendMessageToDocument({type: event.type, update: error.name}));
    }, 1);
    return;
  }
  event.waitUntil(updateUI(event).then(update => sendMessageToDocument({type: event.type, update})));
});
