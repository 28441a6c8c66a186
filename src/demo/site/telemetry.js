// The shop's analytics debug console: it keeps the queue's current push and
// forwards every call to it, counting entries by type. insider-audit records
// what the SDK receives through it, once, and the page works as without it.
(function () {
  var queue = window.InsiderQueue = window.InsiderQueue || [];
  var forward = queue.push;
  var counts = {};
  queue.push = function () {
    for (var i = 0; i < arguments.length; i++) {
      var type = arguments[i] && arguments[i].type;
      counts[type] = (counts[type] || 0) + 1;
    }
    return forward.apply(this, arguments);
  };
  window.shopTelemetry = { counts: counts };
})();
