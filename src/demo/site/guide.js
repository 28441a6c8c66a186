// A single-page app: each method of the brewing guide is a view of its own
// (a query-string route), with its own user push, page data and init. The
// guide opens on "espresso", then moves to "filter" as a reader would; the
// fragment link (#grind) stays in the same view.
(function () {
  function render(method) {
    document.getElementById('guide').textContent = 'How to brew: ' + method;
    window.InsiderQueue.push({ type: 'user', value: { language: 'en_US', gdpr_optin: true } });
    window.InsiderQueue.push({ type: 'other' });
    window.InsiderQueue.push({ type: 'init' });
  }
  function go(search) {
    history.pushState({}, '', location.pathname + search);
    render(new URLSearchParams(search).get('method'));
  }
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-route]');
    if (!link) return;
    event.preventDefault();
    go(link.getAttribute('href'));
  });
  render(new URLSearchParams(location.search).get('method') || 'espresso');
  setTimeout(function () { go('?method=filter'); }, 200);
  setTimeout(function () { location.hash = '#grind'; }, 300);
})();
