// The page side of the Chromium backend: evaluated once in each test's page, it
// defines `__bgfetch`, which the backend's Runtime.evaluate snippets call.  Values cross
// as JSON (the interface's forms: conformance/interface.py); page objects as handles.
(() => {
  'use strict';
  const opened = performance.now();
  const objects = [];  // handle -> BackgroundFetchRegistration | BackgroundFetchRecord
  let registration = null;  // the page's ServiceWorkerRegistration
  let pendingCalls = 0;  // promise-returning calls not yet settled
  const messages = [];  // posted by the worker while the page listened, not yet taken
  const dropped = [];  // posted while a call was pending: WPT's page was not listening
  let messageWaiters = [];
  const progress = new Map();  // handle -> [Progress]
  let progressWaiters = [];

  const handle = object => {
    let index = objects.indexOf(object);
    if (index < 0) index = objects.push(object) - 1;
    return index;
  };
  const object = index => {
    if (!(index in objects)) throw new TypeError(`no page object with handle ${index}`);
    return objects[index];
  };
  const wake = waiters => { for (const wake of waiters.splice(0)) wake(); };

  const bodyInit = ({kind, text}) => {
    const bytes = new TextEncoder().encode(text);
    switch (kind) {
      case 'string': return text;
      case 'arraybuffer': return bytes.buffer;
      case 'typedarray': return bytes;
      case 'dataview': return new DataView(bytes.buffer);
      case 'blob': return new Blob([bytes]);
      case 'file': return new File([bytes], 'body.txt');
      case 'urlsearchparams': return new URLSearchParams(text);
      case 'formdata': {
        const form = new FormData();
        form.append('text', text);
        return form;
      }
    }
    throw new TypeError(`unknown body kind ${kind}`);
  };
  // A RequestInfo from its JSON form: a URL string, or {url, init} (a Request).
  const requestInfo = spec => {
    if (typeof spec === 'string') return spec;
    const init = Object.assign({}, spec.init);
    if (init.headers) init.headers = new Headers(init.headers);
    if (init.body) init.body = bodyInit(init.body);
    return new Request(spec.url, init);
  };
  const requests = spec => Array.isArray(spec) ? spec.map(requestInfo) : requestInfo(spec);

  const attributes = r => ({
    id: r.id, uploadTotal: r.uploadTotal, uploaded: r.uploaded,
    downloadTotal: r.downloadTotal, downloaded: r.downloaded,
    result: r.result, failureReason: r.failureReason, recordsAvailable: r.recordsAvailable,
  });
  const base64 = async data => {
    const url = await new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(new Blob([data]));
    });
    return url.slice(url.indexOf(',') + 1);
  };
  // A Request's or Response's headers and body ({bodyBase64} or {bodyError}).
  const snapshot = async message => {
    const out = {url: message.url, headers: [...message.headers]};
    try {
      out.bodyBase64 = await base64(await message.arrayBuffer());
    } catch (error) {
      out.bodyBase64 = '';
      out.bodyError = error.name;
    }
    return out;
  };
  const rejected = error => ({
    rejected: {
      name: (error && error.name) || typeof error,
      message: (error && error.message) || String(error),
      // A QuotaExceededError's (null where the exception has none).
      quota: error && typeof error.quota === 'number' ? error.quota : null,
      requested: error && typeof error.requested === 'number' ? error.requested : null,
    },
  });
  // A promise-returning call: {value} or {rejected: {name, message}}.  While it is
  // pending the page does not listen to the worker (WPT listens only after each call).
  const call = async fn => {
    pendingCalls++;
    try {
      return {value: await fn()};
    } catch (error) {
      return rejected(error);
    } finally {
      pendingCalls--;
    }
  };
  // A synchronous read, or a wait the page makes while listening: {value} or {rejected}.
  const read = fn => {
    try {
      return {value: fn()};
    } catch (error) {
      return rejected(error);
    }
  };
  const wait = async fn => {
    try {
      return {value: await fn()};
    } catch (error) {
      return rejected(error);
    }
  };
  const TIMEOUT = '__timeout__';  // the backend's name for a wait that timed out
  const timedOut = message => { throw {name: TIMEOUT, message}; };
  const timeout = seconds => new Promise(resolve => setTimeout(resolve, seconds * 1000));

  navigator.serviceWorker.addEventListener('message', event => {
    if (pendingCalls) {
      dropped.push(event.data);
      return;
    }
    messages.push(event.data);
    wake(messageWaiters);
  });

  const manager = () => registration.backgroundFetch;
  const activated = worker => new Promise(resolve => {
    if (worker.state === 'activated') return resolve();
    worker.addEventListener('statechange', () => worker.state === 'activated' && resolve());
  });

  self.__bgfetch = {
    // WPT's service_worker_unregister_and_register, and backgroundFetchTest's wait for
    // activation (unless *activate* is false: the worker's install is held).
    register: (script, scope, activate) => call(async () => {
      const old = await navigator.serviceWorker.getRegistration(scope);
      if (old) await old.unregister();
      registration = await navigator.serviceWorker.register(script, {scope});
      if (activate) await activated(registration.installing || registration.waiting || registration.active);
      return registration.scope;
    }),
    // Abort what the test left running (the ids aborted), then unregister: nothing of
    // the test outlives its page.
    abortAll: () => call(async () => {
      if (!registration) return [];
      const aborted = [];
      for (const id of await manager().getIds()) {
        const found = await manager().get(id);
        if (found && await found.abort()) aborted.push(id);
      }
      return aborted;
    }),
    unregister: () => call(async () => {
      if (!registration) return false;
      // A held install (activate=False) is released first: unregister() waits for it.
      if (registration.installing) registration.installing.postMessage('__bgfetch_release_install__');
      return registration.unregister();
    }),
    registrationState: () => read(() => ({
      installing: registration.installing !== null,
      waiting: registration.waiting !== null,
      active: registration.active !== null,
    })),
    fetch: (id, spec, options) => call(async () => handle(await manager().fetch(id, requests(spec), options))),
    fetchTogether: calls => call(async () => {
      const promises = calls.map(c => manager().fetch(c.id, requests(c.requests), c.options));
      const settled = await Promise.allSettled(promises);
      return settled.map(s => s.status === 'fulfilled' ? {value: handle(s.value)} : rejected(s.reason));
    }),
    get: (...args) => call(async () => {
      const found = await manager().get(...args);
      return found ? handle(found) : null;
    }),
    getIds: () => call(async () => [...await manager().getIds()]),
    attributes: h => read(() => attributes(object(h))),
    abort: h => call(async () => object(h).abort()),
    match: (h, ...args) => call(async () => {
      if (args.length) args[0] = requestInfo(args[0]);
      const found = await object(h).match(...args);
      return found ? handle(found) : null;
    }),
    matchAll: (h, ...args) => call(async () => {
      if (args.length && args[0] !== undefined) args[0] = requestInfo(args[0]);
      return (await object(h).matchAll(...args)).map(handle);
    }),
    recordRequest: h => call(async () => {
      const request = object(h).request;
      return Object.assign(await snapshot(request.clone()), {method: request.method, mode: request.mode});
    }),
    recordResponse: (h, seconds) => call(async () => {
      const response = await Promise.race([
        object(h).responseReady,
        timeout(seconds).then(() => timedOut(`responseReady did not settle in ${seconds} s`)),
      ]);
      return Object.assign(await snapshot(response), {status: response.status, type: response.type});
    }),
    listenProgress: (h, via) => read(() => {
      const target = object(h);
      const seen = progress.get(h) || [];
      progress.set(h, seen);
      const listener = event => {
        seen.push({
          targetIsRegistration: event.target === target,
          type: event.type,
          isTrusted: event.isTrusted,
          target: attributes(event.target || target),
          time: (performance.now() - opened) / 1000,
        });
        wake(progressWaiters);
      };
      if (via === 'onprogress') target.onprogress = listener;
      else target.addEventListener('progress', listener);
    }),
    progress: (h, atLeast, seconds) => wait(async () => {
      const seen = progress.get(h) || [];
      const deadline = performance.now() + seconds * 1000;
      while (seen.length < atLeast && performance.now() < deadline) {
        await Promise.race([
          new Promise(resolve => progressWaiters.push(resolve)),
          timeout((deadline - performance.now()) / 1000),
        ]);
      }
      return seen.slice();
    }),
    // WPT's getMessageFromServiceWorker(): the next message the page listened to.
    nextMessage: seconds => wait(async () => {
      const deadline = performance.now() + seconds * 1000;
      while (!messages.length && performance.now() < deadline) {
        await Promise.race([
          new Promise(resolve => messageWaiters.push(resolve)),
          timeout((deadline - performance.now()) / 1000),
        ]);
      }
      if (!messages.length) timedOut(`no message from the worker within ${seconds} s`);
      return messages.shift();
    }),
    dropped: () => read(() => dropped.slice()),
    postToWorker: data => read(() => {
      if (!registration.active) throw new TypeError('the registration has no active worker');
      registration.active.postMessage(data);
    }),
    interfaces: names => read(() => {
      const found = {};
      for (const name of names) {
        if (typeof self[name] !== 'function') continue;
        found[name] = Object.getOwnPropertyNames(self[name].prototype)
            .filter(member => member !== 'constructor').sort();
      }
      found.ServiceWorkerRegistration =
          'backgroundFetch' in ServiceWorkerRegistration.prototype ? ['backgroundFetch'] : [];
      return found;
    }),
  };
})();
