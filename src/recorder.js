// insider-audit's in-page recorder. Installed with
// Page.addScriptToEvaluateOnNewDocument, so it runs before any script of the page.
// It watches window.InsiderQueue (an accessor on window) and every queue's `push`,
// and keeps a log in execution order that the tool takes after the page settles.
// It must survive hostile pages: every built-in it uses is captured before the
// page runs, and nothing the page can override is called afterwards.
(function () {
  'use strict';
  if (window !== window.top) return; // Only the top document is audited.
  var HOOK = '__insiderAuditRecorder';
  if (Object.prototype.hasOwnProperty.call(window, HOOK)) return;

  // Built-ins, captured before the page can replace them.
  var O = Object;
  var defineProperty = O.defineProperty;
  var getPrototypeOf = O.getPrototypeOf;
  var objectKeys = O.keys;
  var ObjectProto = O.prototype;
  var hasOwn = O.prototype.hasOwnProperty;
  var objToString = O.prototype.toString;
  var isArray = Array.isArray;
  var ArrayPush = Array.prototype.push;
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
  var locationPathGetter = O.getOwnPropertyDescriptor(window.location, 'pathname');
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

  // The first stack frame outside the recorder: {script, line, column}.
  var FRAME = /^\s*at (?:.*? \()?(.*?):(\d+):(\d+)\)?$/;
  function callerLocation() {
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
    for (var i = 1; i < lines.length; i++) {
      if (apply(indexOf, lines[i], [SELF_URL]) >= 0) continue;
      var m = apply(regexExec, FRAME, [lines[i]]);
      if (m) return { script: m[1], line: +m[2], column: +m[3] };
    }
    return null;
  }

  // Copies a value out of the page in the tagged form of src/jsvalue.rs.
  function encode(value) {
    var seen = new WeakMapCtor();
    var budget = { nodes: MAX_NODES };
    return enc(value, 0, seen, budget);
  }
  function className(v) {
    try {
      var proto = getPrototypeOf(v);
      var ctor = proto && proto.constructor;
      if (typeof ctor === 'function' && typeof ctor.name === 'string' && ctor.name) return ctor.name;
    } catch (e) { /* fall through */ }
    return apply(objToString, v, []);
  }
  function entriesOf(v, depth, seen, budget) {
    var out = [];
    var keys;
    try { keys = objectKeys(v); } catch (e) { return { entries: [['', ['x', 'keys threw: ' + str(e)]]], cut: false }; }
    var cut = false;
    for (var i = 0; i < keys.length; i++) {
      if (i >= MAX_ITEMS) { cut = true; break; }
      var item;
      try { item = enc(v[keys[i]], depth + 1, seen, budget); } catch (e) { item = ['x', 'getter threw: ' + str(e)]; }
      out[out.length] = [keys[i], item];
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
      case 'function': return ['f', str(v.name)];
    }
    if (v === null) return ['z'];
    if (apply(wmGet, seen, [v]) === true) return ['c'];
    if (depth >= MAX_DEPTH) return ['t'];
    apply(wmSet, seen, [v, true]);
    try {
      var tag = apply(objToString, v, []);
      if (tag === '[object Date]') {
        var time = apply(dateGetTime, v, []);
        return ['d', time === time ? apply(dateToISO, v, []) : 'Invalid Date'];
      }
      if (isArray(v)) {
        var items = [];
        var n = v.length, cut = false;
        for (var i = 0; i < n; i++) {
          if (i >= MAX_ITEMS) { cut = true; break; }
          var item;
          try { item = enc(v[i], depth + 1, seen, budget); } catch (e) { item = ['x', 'getter threw: ' + str(e)]; }
          items[items.length] = item;
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

  // Queues: each object ever assigned to window.InsiderQueue gets an id, and its
  // `push` is watched so that pushes are recorded before and after the SDK
  // replaces it.
  var queueIds = new WeakMapCtor();
  var takenOver = new WeakMapCtor();
  var nextQueueId = 0;
  var current; // the value of window.InsiderQueue

  function isObjectLike(v) {
    return v !== null && (typeof v === 'object' || typeof v === 'function');
  }
  function queueId(q) { return isObjectLike(q) ? (apply(wmGet, queueIds, [q]) || 0) : 0; }
  function lengthOf(q) {
    try { var n = q.length; return typeof n === 'number' && n >= 0 ? n : 0; } catch (e) { return 0; }
  }
  function kindOf(v) {
    if (v === undefined) return 'undefined';
    if (!isObjectLike(v)) return 'primitive';
    if (isArray(v)) return 'array';
    try { if (typeof v.push === 'function') return 'queue_object'; } catch (e) { /* hostile getter */ }
    return 'other';
  }

  function watchQueue(q) {
    if (!isObjectLike(q) || apply(wmHas, queueIds, [q])) return;
    nextQueueId += 1;
    var id = nextQueueId;
    apply(wmSet, queueIds, [q, id]);
    var inner = null; // the push the SDK (or a queue object) provides
    try {
      var own = q.push;
      if (typeof own === 'function' && own !== ArrayPush) inner = own;
    } catch (e) { /* hostile getter: keep the native push */ }
    function push() {
      var location = callerLocation();
      var taken = !!apply(wmGet, takenOver, [q]);
      for (var i = 0; i < arguments.length; i++) {
        var value;
        try { value = encode(arguments[i]); } catch (e) { value = ['x', str(e)]; }
        record({ kind: 'push', location: location, queue: id, taken_over: taken, value: value });
      }
      return apply(inner || ArrayPush, this, arguments);
    }
    try {
      defineProperty(q, 'push', {
        configurable: true,
        enumerable: false,
        get: function () { return push; },
        set: function (fn) {
          inner = fn;
          apply(wmSet, takenOver, [q, true]);
          record({ kind: 'takeover', location: callerLocation(), queue: id });
        }
      });
    } catch (e) { /* a frozen queue: pushes cannot be watched */ }
  }

  function recordAbsentRead() {
    var location = callerLocation();
    var key = location ? location.script + ':' + location.line + ':' + location.column : '?';
    if (apply(hasOwn, absentReads, [key])) { absentReads[key].count += 1; return; }
    absentReads[key] = record({ kind: 'absent_read', location: location, count: 1 });
  }

  defineProperty(window, 'InsiderQueue', {
    configurable: true,
    enumerable: true,
    get: function () {
      if (current === undefined) recordAbsentRead();
      return current;
    },
    set: function (v) {
      var prev = current;
      record({
        kind: 'assign',
        location: callerLocation(),
        same: v === prev,
        value_kind: kindOf(v),
        prev_exists: isObjectLike(prev),
        prev_len: isObjectLike(prev) ? lengthOf(prev) : 0,
        prev_taken_over: isObjectLike(prev) ? !!apply(wmGet, takenOver, [prev]) : false
      });
      current = v;
      watchQueue(v);
    }
  });

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

  // Same-document navigations: a route change of a single-page app is a new page view.
  function href() { try { return apply(locationHrefGetter.get, window.location, []); } catch (e) { return ''; } }
  function path() { try { return apply(locationPathGetter.get, window.location, []); } catch (e) { return ''; } }
  var lastPath = path();
  function routed() {
    var p = path();
    record({ kind: 'route', url: href(), new_view: p !== lastPath });
    lastPath = p;
  }
  try {
    historyProto.pushState = function () { var r = apply(pushState, this, arguments); routed(); return r; };
    historyProto.replaceState = function () { var r = apply(replaceState, this, arguments); routed(); return r; };
  } catch (e) { /* frozen History */ }
  apply(addEventListener, window, ['popstate', routed]);
  apply(addEventListener, window, ['hashchange', function () { if (path() !== lastPath) routed(); }]);

  // What the tool calls after settling: the log, then the read-back.
  defineProperty(window, HOOK, {
    configurable: false,
    enumerable: false,
    writable: false,
    value: O.freeze({
      take: function () {
        var out = { events: log, dropped: dropped, doc: DOC_ID };
        log = [];
        dropped = 0;
        return out;
      },
      // Where the log stands now: pushes after this mark happened after an action.
      mark: function () { return { doc: DOC_ID, seq: seq }; },
      encode: encode
    })
  });
})();
//# sourceURL=insider-audit-recorder.js
