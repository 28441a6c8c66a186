// The demo shop's bundle (loaded with `defer`): it reports the page type and
// fires the page view's init after the user and page data.
(function () {
  var page = document.body.getAttribute('data-page') || 'other';
  window.InsiderQueue.push({ type: page });
  window.InsiderQueue.push({ type: 'init' });
})();
