  function isObjectLike(v) {
    return v !== null && (typeof v === 'object' || typeof v === 'function');
  }
  function lengthOf(q) {
    var n = ownValue(q, 'length', 0);
    return typeof n === 'number' && n >= 0 ? n : 0;
  }
  function kindOf(v) {
    if (v === undefined) return 'undefined';
    if (!isObjectLike(v)) return 'primitive';
    if (isArray(v)) return 'array';
    try {
      var d = getOwnPropertyDescriptor(v, 'push');
      if (d ? typeof d.value === 'function' || !!d.get : typeof v.push === 'function') return 'queue_object';
    } catch (e) { /* hostile proxy */ }
    return 'other';
  }
  function isSdkUrl(url) {
    var path = apply(split, apply(split, url, ['#'])[0], ['?'])[0];
    var at = path.length - 7;
    return path === 'ins.js' || (at >= 0 && apply(slice, path, [at]) === '/ins.js');
  }

  // Queues. Each object ever assigned to window.InsiderQueue gets an id, and its
  // `push` becomes an accessor that behaves like the page's own data property:
  // it returns what was last assigned and takes assignments (frozen queues
  // refuse them, as natively). What is recorded is what the queue's innermost
  // push receives: the array's own push, or the push that replaced it without
  // forwarding (the SDK's). The getter hands out those innermost pushes wrapped
  // in a recording function; a page wrapper is handed out as it is, so a wrapper
  // that saved the previous push and forwards to it reaches the recording
  // function once, and an entry it holds, drops or rewrites is recorded when,
  // whether and as the innermost push receives it.
  //
  // An assigned function is a wrapper when a reference to the push it replaces
  // was handed out and not called on the spot (`var orig = q.push`); it is the
  // innermost push when the SDK tag assigns it, or when nobody could hold the
  // previous push to forward to.
  var queueStates = new WeakMapCtor();
  var nextQueueId = 0;
  var current; // the value of window.InsiderQueue
  var active = []; // recording calls in progress, innermost last

  function stateOf(q) { return isObjectLike(q) ? apply(wmGet, queueStates, [q]) : undefined; }

  // The function `q.push` resolves to natively when the queue has no own push.
  function inheritedPush(q) {
    try {
      var proto = getPrototypeOf(q);
      return proto === null ? undefined : reflectGet(proto, 'push', q);
    } catch (e) { return ArrayPush; }
  }

  // The recording function standing for innermost push `fn` of queue `state`.
  function recorderFor(state, fn) {
    var cached = apply(wmGet, state.recorders, [fn]);
    if (cached) return cached;
    var sdk = apply(wmHas, state.sdkSet, [fn]);
    function push() {
      var frames = stackFrames();
      var location = outermostCall(state, frames);
      var entries = [];
      var recorded = [];
      for (var i = 0; i < arguments.length; i++) {
        entries[i] = arguments[i];
        var value;
        try { value = encode(arguments[i]); } catch (e) { value = ['x', str(e)]; }
        lastPushT = now();
        recorded[i] = record({ kind: 'push', location: location, queue: state.id, taken_over: sdk || state.taken, value: value });
      }
      // A recording call reached from inside another one with the same entries:
      // the outer function forwarded them, so the outer record goes.
      var outer = active.length > 0 ? active[active.length - 1] : null;
      if (outer && sameEntries(outer.entries, entries)) dropRecords(outer.recorded);
      active[active.length] = { entries: entries, recorded: recorded };
      var threw = true;
      try {
        var result = apply(fn, this, arguments);
        threw = false;
        return result;
      } finally {
        active.length -= 1;
        // The array's own push refused the entries (a frozen array): not received.
        if (threw && !sdk && fn === ArrayPush) dropRecords(recorded);
      }
    }
    disguise(push, fn);
    apply(wmSet, state.recorders, [fn, push]);
    return push;
  }
  function sameEntries(a, b) {
    if (a.length !== b.length || a.length === 0) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function dropRecords(events) {
    for (var i = 0; i < events.length; i++) if (events[i]) events[i].dropped_forward = true;
  }

  // The page's own call as evidence: when the last read of `push` sits on the
  // current stack (the page read `q.push` and called what it got, through any
  // wrappers), that read's position; else the first frame outside the recorder.
  function outermostCall(state, frames) {
    var read = state.lastRead;
    state.lastRead = null;
    if (read && read.frames.length > 0 && read.frames.length <= frames.length) {
      var offset = frames.length - read.frames.length;
      var same = true;
      for (var i = 0; i < read.frames.length && same; i++) {
        var a = read.frames[i], b = frames[offset + i];
        same = a.script === b.script && a.line === b.line && (i === 0 || a.column === b.column);
      }
      if (same) {
        state.handedOut = read.handedBefore; // that read was a call, not a saved reference
        return read.frames[0];
      }
    }
    return frames.length > 0 ? frames[0] : null;
  }

  function watchQueue(q) {
    if (!isObjectLike(q) || apply(wmHas, queueStates, [q])) return;
    nextQueueId += 1;
    var state = {
      id: nextQueueId,
      own: undefined,      // the function assigned to `push` (undefined: inherited)
      ownSet: false,       // natively the queue has an own `push` property
      innermost: true,     // `own` (or the inherited push) is an innermost push
      taken: false,        // the SDK (or another innermost push) replaced the array's own
      handedOut: false,    // a reference to the current push was handed out
      lastRead: null,
      enumerable: false,
      recorders: new WeakMapCtor(),
      sdkSet: new WeakMapCtor(),
      getter: null,
      setter: null,
      unwatched: false
    };
    apply(wmSet, queueStates, [q, state]);
    var d;
    try { d = getOwnPropertyDescriptor(q, 'push'); } catch (e) { d = undefined; }
    if (d && !apply(hasOwn, d, ['value'])) {
      unwatchable('the queue\'s push is an accessor of the page\'s own: its pushes cannot be watched');
      state.unwatched = true;
      return;
    }
    if (d) { state.own = d.value; state.ownSet = true; state.enumerable = !!d.enumerable; }
    state.getter = function () {
      var handedBefore = state.handedOut;
      state.handedOut = true;
      state.lastRead = { frames: stackFrames(), handedBefore: handedBefore };
      var fn = state.ownSet ? state.own : inheritedPush(q);
      return state.innermost && typeof fn === 'function' ? recorderFor(state, fn) : fn;
    };
    state.setter = function (fn) {
      var frames = stackFrames();
      // Natively a frozen (or non-extensible) queue refuses the assignment.
      try {
        if (!isExtensible(q) && (!state.ownSet || isFrozen(q))) return;
      } catch (e) { /* a revoked proxy: let it through */ }
      assignPush(state, fn, frames.length > 0 ? frames[0] : null);
    };
    if (!install(q, state)) {
      state.unwatched = true;
      unwatchable(isExtensible(q) ? 'the queue refused a watch on its push' : 'the queue was frozen before the page pushed: its pushes cannot be watched');
    }
  }
  function install(q, state) {
    try {
      defineProperty(q, 'push', { configurable: true, enumerable: state.enumerable, get: state.getter, set: state.setter });
      return true;
    } catch (e) { return false; }
  }
  function assignPush(state, fn, location) {
    var fromSdk = !!location && isSdkUrl(location.script);
    state.innermost = typeof fn === 'function' && (fromSdk || !state.handedOut);
    state.own = fn;
    state.ownSet = true;
    state.handedOut = false;
    state.lastRead = null;
    if (state.innermost) {
      state.taken = true;
      if (fromSdk) apply(wmSet, state.sdkSet, [fn, true]);
      record({ kind: 'takeover', location: location, queue: state.id });
    } else {
      record({ kind: 'wrap', location: location, queue: state.id });
    }
  }
  // A page that redefined the queue's push with Object.defineProperty: adopt the
  // new value as an assignment and watch on, when it is an ordinary one.
  function readopt(q) {
    var state = stateOf(q);
    if (!state || state.unwatched) return;
    var d;
    try { d = getOwnPropertyDescriptor(q, 'push'); } catch (e) { return; }
    if (d && d.get === state.getter) return;
    if (!d) {
      // Deleted: natively the inherited push again.
      state.own = undefined; state.ownSet = false; state.innermost = true;
    } else if (apply(hasOwn, d, ['value']) && d.writable && d.configurable) {
      state.enumerable = !!d.enumerable;
      assignPush(state, d.value, null);
    } else {
      state.unwatched = true;
      unwatchable('the page redefined the queue\'s push (Object.defineProperty, not writable or an accessor): later changes to it cannot be watched');
      return;
    }
    if (!install(q, state)) {
      state.unwatched = true;
      unwatchable('the page redefined the queue\'s push: later changes to it cannot be watched');
    }
  }
  var unwatchableSeen = {};
  function unwatchable(reason) {
    if (apply(hasOwn, unwatchableSeen, [reason])) return;
    unwatchableSeen[reason] = true;
    record({ kind: 'unwatchable', location: callerLocation(), reason: reason });
  }

  function recordAbsentRead() {
    var location = callerLocation();
    var key = location ? location.script + ':' + location.line + ':' + location.column : '?';
    if (apply(hasOwn, absentReads, [key])) { absentReads[key].count += 1; return; }
    absentReads[key] = record({ kind: 'absent_read', location: location, count: 1 });
  }

  function windowGetter() {
    if (current === undefined) recordAbsentRead();
    else if (isObjectLike(current)) readopt(current);
    return current;
  }
  function windowSetter(v) {
    var prev = current;
    var prevState = stateOf(prev);
    record({
      kind: 'assign',
      location: callerLocation(),
      same: v === prev,
      value_kind: kindOf(v),
      prev_exists: isObjectLike(prev),
      prev_len: isObjectLike(prev) ? lengthOf(prev) : 0,
      prev_taken_over: !!(prevState && prevState.taken)
    });
    current = v;
    watchQueue(v);
  }
  defineProperty(window, 'InsiderQueue', {
    configurable: true,
    enumerable: true,
    get: windowGetter,
    set: windowSetter
  });
  // Whether the page replaced window.InsiderQueue with a property of its own.
  function checkWindowProperty() {
    var d;
    try { d = getOwnPropertyDescriptor(window, 'InsiderQueue'); } catch (e) { return; }
    if (d && d.get === windowGetter) return;
    unwatchable(d
      ? 'the page redefined window.InsiderQueue with Object.defineProperty: assignments and pushes after that cannot be watched'
      : 'the page deleted window.InsiderQueue: assignments after that cannot be watched');
  }

  var legacy;
  defineProperty(window, 'insider_object', {
    configurable: true,
    enumerable: true,
    get: function () { return legacy; },
    set: function (v) {
      record({ kind: 'legacy_object', location: callerLocation() });
      legacy = v;
    }
  });

  // Uncaught errors: a push before the queue exists throws here.
  apply(addEventListener, window, ['error', function (e) {
    var location = null;
    try {
      if (e.filename) location = { script: str(e.filename), line: e.lineno | 0, column: e.colno | 0 };
    } catch (err) { /* ignore */ }
    var message;
    try { message = str(e.message || (e.error && e.error.message) || 'error'); } catch (err) { message = 'error'; }
    record({ kind: 'page_error', location: location, message: message });
  }, true]);
  apply(addEventListener, window, ['unhandledrejection', function (e) {
    var message;
    try { message = 'Unhandled rejection: ' + str(e.reason && e.reason.message || e.reason); } catch (err) { message = 'Unhandled rejection'; }
    record({ kind: 'page_error', location: null, message: message });
  }]);

  // Same-document navigations. A page view begins where the URL changes other
  // than by its fragment (README, "How a page is audited"): pushState/replaceState to a new path or
  // query, a traversal landing on one, the Navigation API. Chromium's Navigation
  // API reports every one of them (`currententrychange`, fired as the URL
  // commits), so nothing of the page's has to be patched.
  function href() { try { return apply(locationHrefGetter.get, window.location, []); } catch (e) { return ''; } }
  function viewKey(url) { return apply(split, url, ['#'])[0]; }
  var startUrl = href();
  var lastView = viewKey(startUrl);
  function routed() {
    var url = href();
    var key = viewKey(url);
    record({ kind: 'route', url: url, new_view: key !== lastView });
    lastView = key;
  }
  var navigationApi = window.navigation;
  var leaves = []; // { seq, url } of each navigation to another document begun
  if (navigationApi && typeof navigationApi.addEventListener === 'function') {
    apply(addEventListener, navigationApi, ['currententrychange', routed]);
    // A navigation to another document starting (a script's `location.href`,
    // a form, a meta refresh): where the log stands then. A page held back
    // from leaving is judged on what it did before (README, "Crawl scope").
    var destinationOf = getOwnPropertyDescriptor(NavigateEvent.prototype, 'destination').get;
    var destinationProto = NavigationDestination.prototype;
    var destinationUrl = getOwnPropertyDescriptor(destinationProto, 'url').get;
    var destinationSameDocument = getOwnPropertyDescriptor(destinationProto, 'sameDocument').get;
    apply(addEventListener, navigationApi, ['navigate', function (e) {
      try {
        var destination = apply(destinationOf, e, []);
        if (apply(destinationSameDocument, destination, [])) return;
        leaves[leaves.length] = { seq: seq, url: apply(destinationUrl, destination, []) };
      } catch (err) { /* not a navigation we can read */ }
    }, true]);
  } else {
    // Without the Navigation API: watch the History API and traversals.
    try {
      historyProto.pushState = disguise({ pushState() { var r = apply(pushState, this, arguments); routed(); return r; } }.pushState, pushState);
      historyProto.replaceState = disguise({ replaceState() { var r = apply(replaceState, this, arguments); routed(); return r; } }.replaceState, replaceState);
    } catch (e) { /* frozen History */ }
    apply(addEventListener, window, ['popstate', routed]);
    apply(addEventListener, window, ['hashchange', routed]);
  }
