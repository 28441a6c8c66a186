// insider-audit's in-page recorder. Installed with
// Page.addScriptToEvaluateOnNewDocument, so it runs before any script of the page.
// It watches window.InsiderQueue (an accessor on window) and every queue's `push`,
// and keeps a log in execution order that the tool takes after the page settles.
// Auditing changes nothing (README, "How a page is audited"): the page makes the same pushes, the SDK receives the same entries,
// the same errors are thrown, getters in pushed values are not run. It survives
// hostile pages: every built-in it uses is captured before the page runs.
(function () {
  'use strict';
  if (window !== window.top) return; // Only the top document is audited.
  var HOOK = '__insiderAuditRecorder';
  if (Object.prototype.hasOwnProperty.call(window, HOOK)) return;

  // Built-ins, captured before the page can replace them.
  var O = Object;
  var defineProperty = O.defineProperty;
  var getPrototypeOf = O.getPrototypeOf;
  var getOwnPropertyDescriptor = O.getOwnPropertyDescriptor;
  var isExtensible = O.isExtensible;
  var isFrozen = O.isFrozen;
  var reflectGet = Reflect.get;
  var objectKeys = O.keys;
  var ObjectProto = O.prototype;
  var hasOwn = O.prototype.hasOwnProperty;
  var isArray = Array.isArray;
  var ArrayPush = Array.prototype.push;
  var arraySlice = Array.prototype.slice;
  var apply = Reflect.apply;
  var ErrorCtor = Error;
  var StringCtor = String;
  var split = String.prototype.split;
  var slice = String.prototype.slice;
  var indexOf = String.prototype.indexOf;
  var regexExec = RegExp.prototype.exec;
  var dateToISO = Date.prototype.toISOString;
  var dateGetTime = Date.prototype.getTime;
  var numberIsFinite = Number.isFinite;
  var WeakMapCtor = WeakMap;
  var wmGet = WeakMap.prototype.get;
  var wmSet = WeakMap.prototype.set;
  var wmHas = WeakMap.prototype.has;
  var perfNow = Performance.prototype.now;
  var perf = window.performance;
  var addEventListener = EventTarget.prototype.addEventListener;
  var historyProto = History.prototype;
  var pushState = historyProto.pushState;
  var replaceState = historyProto.replaceState;
  // Location's properties are unforgeable: own properties of the instance.
  var locationHrefGetter = O.getOwnPropertyDescriptor(window.location, 'href');
  var SELF_URL = 'insider-audit-recorder.js';

  var MAX_EVENTS = 2000;
  var MAX_DEPTH = 8;
  var MAX_NODES = 3000;
  var MAX_STRING = 4000;
  var MAX_ITEMS = 200;

  var DOC_ID = Math.random().toString(36).slice(2) + Date.now().toString(36);
  var log = [];
  var dropped = 0;
  var seq = 0;
  var absentReads = {}; // "url:line:col" -> event

  function now() {
    try { return Math.round(apply(perfNow, perf, []) * 10) / 10; } catch (e) { return 0; }
  }
  function record(event) {
    seq += 1;
    event.seq = seq;
    event.t = now();
    if (log.length < MAX_EVENTS) log[log.length] = event; else dropped += 1;
    return event;
  }
  function str(v) { try { return StringCtor(v); } catch (e) { return '?'; } }

  // The stack frames outside the recorder, innermost first: {script, line, column}.
  var FRAME = /^\s*at (?:.*? \()?(.*?):(\d+):(\d+)\)?$/;
  function stackFrames() {
    var stack = '';
    var savedLimit, savedPrepare;
    try {
      savedLimit = ErrorCtor.stackTraceLimit;
      savedPrepare = ErrorCtor.prepareStackTrace;
      ErrorCtor.stackTraceLimit = 40;
      ErrorCtor.prepareStackTrace = undefined;
      stack = str(new ErrorCtor().stack);
    } catch (e) {
      stack = '';
    } finally {
      try {
        ErrorCtor.stackTraceLimit = savedLimit;
        ErrorCtor.prepareStackTrace = savedPrepare;
      } catch (e) { /* a frozen Error: nothing to restore */ }
    }
    var lines = apply(split, stack, ['\n']);
    var frames = [];
    for (var i = 1; i < lines.length; i++) {
      if (apply(indexOf, lines[i], [SELF_URL]) >= 0) continue;
      var m = apply(regexExec, FRAME, [lines[i]]);
      if (m) frames[frames.length] = { script: m[1], line: +m[2], column: +m[3] };
    }
    return frames;
  }
  // The first stack frame outside the recorder.
  function callerLocation() {
    var frames = stackFrames();
    return frames.length > 0 ? frames[0] : null;
  }

  // Copies a value out of the page in the tagged form of src/jsvalue.rs.
  // Values are read through property descriptors, never by running a getter or
  // a Proxy's `get` trap: getters and proxies in pushed values (and in the
  // read-back, which may hold the same objects) run no more often than without
  // the audit. A getter shows as a value not read.
  function encode(value) {
    var seen = new WeakMapCtor();
    var budget = { nodes: MAX_NODES };
    return enc(value, 0, seen, budget);
  }
  var NOT_READ = ['x', 'a getter, not read: reading it would run page code the page did not run'];
  // The value of own property `key` of `v`, tagged.
  function member(v, key, depth, seen, budget) {
    try {
      var d = getOwnPropertyDescriptor(v, key);
      if (!d) return ['u'];
      if (apply(hasOwn, d, ['value'])) return enc(d.value, depth + 1, seen, budget);
      return NOT_READ;
    } catch (e) {
      return ['x', 'getter threw: ' + str(e)];
    }
  }
  // An own data property's value, without running a getter.
  function ownValue(v, key, otherwise) {
    try {
      var d = getOwnPropertyDescriptor(v, key);
      return d && apply(hasOwn, d, ['value']) ? d.value : otherwise;
    } catch (e) { return otherwise; }
  }
  function isDate(v) {
    try { apply(dateGetTime, v, []); return true; } catch (e) { return false; }
  }
  function className(v) {
    try {
      var proto = getPrototypeOf(v);
      var ctor = proto ? ownValue(proto, 'constructor') : undefined;
      var name = typeof ctor === 'function' ? ownValue(ctor, 'name') : undefined;
      if (typeof name === 'string' && name) return name;
    } catch (e) { /* fall through */ }
    return 'Object';
  }
  function entriesOf(v, depth, seen, budget) {
    var out = [];
    var keys;
    try { keys = objectKeys(v); } catch (e) { return { entries: [['', ['x', 'keys threw: ' + str(e)]]], cut: false }; }
    var cut = false;
    for (var i = 0; i < keys.length; i++) {
      if (i >= MAX_ITEMS) { cut = true; break; }
      out[out.length] = [keys[i], member(v, keys[i], depth, seen, budget)];
    }
    return { entries: out, cut: cut };
  }
  function enc(v, depth, seen, budget) {
    budget.nodes -= 1;
    if (budget.nodes < 0) return ['t'];
    switch (typeof v) {
      case 'undefined': return ['u'];
      case 'boolean': return ['b', v];
      case 'number': return numberIsFinite(v) ? ['n', v] : ['N', str(v)];
      case 'string':
        return v.length > MAX_STRING ? ['s', apply(slice, v, [0, MAX_STRING]), true] : ['s', v];
      case 'bigint': return ['B', str(v)];
      case 'symbol': return ['y', str(v.description)];
      case 'function': return ['f', str(ownValue(v, 'name', ''))];
    }
    if (v === null) return ['z'];
    if (apply(wmGet, seen, [v]) === true) return ['c'];
    if (depth >= MAX_DEPTH) return ['t'];
    apply(wmSet, seen, [v, true]);
    try {
      if (isDate(v)) {
        var time = apply(dateGetTime, v, []);
        return ['d', time === time ? apply(dateToISO, v, []) : 'Invalid Date'];
      }
      if (isArray(v)) {
        var items = [];
        var n = ownValue(v, 'length', 0);
        var cut = false;
        for (var i = 0; i < n; i++) {
          if (i >= MAX_ITEMS) { cut = true; break; }
          items[items.length] = member(v, i, depth, seen, budget);
        }
        return ['a', items, cut];
      }
      var proto = getPrototypeOf(v);
      var fields = entriesOf(v, depth, seen, budget);
      if (proto === ObjectProto || proto === null) return ['o', fields.entries, fields.cut];
      return ['i', className(v), fields.entries, fields.cut];
    } catch (e) {
      return ['x', str(e)];
    } finally {
      apply(wmSet, seen, [v, false]); // shared, not cyclic, when met again
    }
  }

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
    try {
      defineProperty(push, 'name', { value: ownValue(fn, 'name', 'push'), configurable: true });
      defineProperty(push, 'length', { value: ownValue(fn, 'length', 1), configurable: true });
    } catch (e) { /* keep the defaults */ }
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
  if (navigationApi && typeof navigationApi.addEventListener === 'function') {
    apply(addEventListener, navigationApi, ['currententrychange', routed]);
  } else {
    // Without the Navigation API: watch the History API and traversals.
    try {
      historyProto.pushState = function () { var r = apply(pushState, this, arguments); routed(); return r; };
      historyProto.replaceState = function () { var r = apply(replaceState, this, arguments); routed(); return r; };
    } catch (e) { /* frozen History */ }
    apply(addEventListener, window, ['popstate', routed]);
    apply(addEventListener, window, ['hashchange', routed]);
  }

  // What could still push: the page's timers, animation frames and idle
  // callbacks, for a settle that ends as soon as nothing can (README, "How
  // a page is audited"). Only the scheduling functions are wrapped, and they call
  // the browser's own with the page's arguments unchanged: callbacks are not
  // wrapped, so what they do, throw and see is what it is without the audit.
  // A timer counts as fired once its due time has passed; a callback scheduled
  // again and again (a polling or carousel loop) is recurring, as is an interval
  // or an animation-frame loop.
  var lastPushT = -1;
  var timeouts = {};         // id -> { due, loop }
  var intervals = {};        // id -> true
  var intervalCount = 0;
  var scheduled = new WeakMapCtor(); // callback -> times scheduled
  var frameRequests = [];    // times of recent requestAnimationFrame / requestIdleCallback calls
  function scheduleCount(handler) {
    if (!isObjectLike(handler)) return 0;
    var n = (apply(wmGet, scheduled, [handler]) || 0) + 1;
    apply(wmSet, scheduled, [handler, n]);
    return n;
  }
  function wrapScheduler(name, onCall) {
    var native = window[name];
    if (typeof native !== 'function') return;
    var wrapper = {
      [name]: function () {
        // Called bare from page code, `this` is undefined here (strict mode)
        // where the browser's own function takes the window.
        var result = apply(native, this === undefined || this === null ? window : this, arguments);
        try { onCall(result, arguments); } catch (e) { /* bookkeeping only */ }
        return result;
      }
    }[name];
    try {
      defineProperty(wrapper, 'length', { value: ownValue(native, 'length', 0), configurable: true });
      window[name] = wrapper;
    } catch (e) { /* a locked window: no timer tracking */ }
  }
  wrapScheduler('setTimeout', function (id, args) {
    var delay = +args[1];
    timeouts[id] = { due: now() + (delay > 0 ? delay : 0), loop: scheduleCount(args[0]) >= 3 };
  });
  wrapScheduler('clearTimeout', function (_, args) { delete timeouts[args[0]]; });
  wrapScheduler('setInterval', function (id) { if (!intervals[id]) { intervals[id] = true; intervalCount += 1; } });
  wrapScheduler('clearInterval', function (_, args) {
    if (intervals[args[0]]) { delete intervals[args[0]]; intervalCount -= 1; }
  });
  function frameRequested() {
    frameRequests[frameRequests.length] = now();
    if (frameRequests.length > 16) frameRequests = apply(arraySlice, frameRequests, [-8]);
  }
  wrapScheduler('requestAnimationFrame', frameRequested);
  wrapScheduler('requestIdleCallback', frameRequested);

  // Whether anything can still push within `windowMs`: the earliest one-shot
  // timer due within it, whether recurring work runs, and when the last push was.
  function busy(windowMs) {
    var t = now();
    var soon = null;
    var recurring = intervalCount > 0;
    var ids = objectKeys(timeouts);
    for (var i = 0; i < ids.length; i++) {
      var timer = timeouts[ids[i]];
      if (timer.due < t - 50) { delete timeouts[ids[i]]; continue; }
      if (timer.loop) { recurring = true; continue; }
      var dueIn = timer.due - t;
      if (dueIn <= windowMs && (soon === null || dueIn < soon)) soon = dueIn < 0 ? 0 : dueIn;
    }
    var recentFrames = 0;
    for (var j = 0; j < frameRequests.length; j++) if (frameRequests[j] > t - 200) recentFrames += 1;
    if (recentFrames >= 3) recurring = true;
    else if (frameRequests.length > 0 && frameRequests[frameRequests.length - 1] > t - 50 && soon === null) soon = 0;
    return {
      soon_ms: soon,
      recurring: recurring,
      since_push_ms: lastPushT < 0 ? null : t - lastPushT
    };
  }

  // What the tool calls after settling: the log, then the read-back.
  defineProperty(window, HOOK, {
    configurable: false,
    enumerable: false,
    writable: false,
    value: O.freeze({
      take: function () {
        checkWindowProperty();
        var events = [];
        for (var i = 0; i < log.length; i++) {
          if (!log[i].dropped_forward) events[events.length] = log[i];
        }
        var out = { events: events, dropped: dropped, doc: DOC_ID, start_url: startUrl };
        log = [];
        dropped = 0;
        return out;
      },
      // Where the log stands now: pushes after this mark happened after an action.
      mark: function () { return { doc: DOC_ID, seq: seq }; },
      busy: busy,
      encode: encode
    })
  });
})();
//# sourceURL=insider-audit-recorder.js
