// An old profile helper: once the page has loaded (and the SDK with it), it
// "sets the user" by writing the SDK's read-back directly, replacing what the
// SDK took from the user push.
window.addEventListener('load', function () {
  window.InsiderQueue.user = { uuid: 'DEMO-1001' };
});
