/*
 * Stand-in for Insider One's ins.js, for the offline demo and the tests only.
 * The real SDK is served from Insider's servers, which a demo without network
 * cannot reach. This stand-in behaves as the README's "Rules" describes the SDK: it keeps
 * the page's InsiderQueue array, replaces its `push`, takes user pushes into
 * `InsiderQueue.user` (the read-back the guide's checklist uses), and shows
 * itself as `window.Insider`. `Insider.received` lists every entry it
 * processed, in order, as text: the tests compare it with and without the audit.
 */
(function () {
  var queue = window.InsiderQueue = window.InsiderQueue || [];
  var user = null; // the SDK's own copy of the user
  var received = [];
  function describe(v, depth, seen) {
    if (v === null) return 'null';
    if (typeof v === 'string') return '"' + (v.length > 200 ? v.slice(0, 200) + '…' : v) + '"';
    if (typeof v !== 'object') return typeof v === 'function' ? 'function' : String(v);
    if (depth > 4) return '…';
    for (var s = 0; s < seen.length; s++) if (seen[s] === v) return '<cycle>';
    seen[seen.length] = v;
    var isList = Array.isArray(v);
    var parts = [];
    for (var key in v) {
      var item;
      try { item = describe(v[key], depth + 1, seen); } catch (e) { item = '<threw>'; }
      parts[parts.length] = (isList ? '' : key + ':') + item;
    }
    seen.length -= 1;
    return (isList ? '[' : '{') + parts.join(',') + (isList ? ']' : '}');
  }
  function take(entry) {
    var text;
    try { text = describe(entry, 0, []); } catch (e) { text = '<unreadable>'; }
    received[received.length] = text;
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
  window.Insider = { version: 'stand-in', user: function () { return user; }, received: received };
})();
