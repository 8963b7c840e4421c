// Chromium's service_workers/sw-cors.js: sw.js, plus each response's type and its
// X-Secret-Header.
'use strict';
self.reportCors = true;
importScripts('sw.js');
