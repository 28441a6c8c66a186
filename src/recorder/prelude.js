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
  var toLowerCase = String.prototype.toLowerCase;
  var trim = String.prototype.trim;
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
  var lastPushT = -1; // when the last push was recorded

  // Every function of ours the page can reach looks like the one it stands
  // for: the same name and length, and Function.prototype.toString answers
  // for it as for that one (toString's own stand-in included). Wrappers are
  // written as methods, so, like the browser's own functions, they have no
  // `prototype` and cannot be called with `new`.
  var fnToString = Function.prototype.toString;
  var disguised = new WeakMapCtor();
  function disguise(wrapper, original) {
    try {
      var name = getOwnPropertyDescriptor(original, 'name');
      var length = getOwnPropertyDescriptor(original, 'length');
      if (name) defineProperty(wrapper, 'name', { value: name.value, configurable: true });
      if (length) defineProperty(wrapper, 'length', { value: length.value, configurable: true });
    } catch (e) { /* keep the wrapper's own */ }
    apply(wmSet, disguised, [wrapper, original]);
    return wrapper;
  }
  (function () {
    var toStringStandIn = {
      toString() {
        var original = apply(wmGet, disguised, [this]);
        return apply(fnToString, original === undefined ? this : original, arguments);
      }
    }.toString;
    disguise(toStringStandIn, fnToString);
    defineProperty(Function.prototype, 'toString', { value: toStringStandIn, writable: true, enumerable: false, configurable: true });
  })();

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
