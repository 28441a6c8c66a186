/*
 * Stand-in for Insider One's ins.js, for the offline demo and the tests only.
 * The real SDK is served from Insider's servers, which a demo without network
 * cannot reach. This stand-in behaves as rules.md describes the SDK: it keeps
 * the page's InsiderQueue array, replaces its `push`, takes user pushes into
 * `InsiderQueue.user` (the read-back the guide's checklist uses), and shows
 * itself as `window.Insider`.
 */
(function () {
  var queue = window.InsiderQueue = window.InsiderQueue || [];
  var user = null; // the SDK's own copy of the user
  function take(entry) {
    if (!entry || entry.type !== 'user') return;
    var value = entry.value;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return;
    user = user || {};
    for (var key in value) {
      if (value[key] !== undefined) user[key] = value[key];
    }
    queue.user = user;
  }
  for (var i = 0; i < queue.length; i++) take(queue[i]);
  queue.push = function () {
    for (var j = 0; j < arguments.length; j++) take(arguments[j]);
    return Array.prototype.push.apply(queue, arguments);
  };
  window.Insider = { version: 'stand-in', user: function () { return user; } };
})();
