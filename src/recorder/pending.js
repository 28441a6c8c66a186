
  // ---- Pending work: what could still push (README, "How a page is audited").
  // Counted from the page's side, as zone.js counts tasks for Angular's
  // Testability: a piece of work begins when the page starts it and ends once
  // its callbacks ran, never after a guessed grace period. Work ends in a task
  // of our own posted after the one that finished it (`afterTask`): tasks run
  // one after another and each ends with its microtasks, so by then the page's
  // handlers and every promise reaction they chained have run, and any work
  // they started in turn is already counted.
  //
  // Invisible to the page: only the functions that start work are wrapped,
  // they call the browser's own with the page's `this` and arguments, and they
  // look native (`disguise`: name, length, toString, not constructible).
  // Callbacks are never wrapped: a timer's, a frame's or an idle callback's
  // end is told by a marker of ours scheduled right after it with the same
  // delay, which the browser runs after it (timers of equal delay run in the
  // order they were set; frame and idle callbacks in the order requested).
  // A promise the page gets back is settled as the browser's own is, so an
  // unhandled failed `fetch` still raises `unhandledrejection`.
  // Work that stays open (a long poll, a stream, a frame that never comes)
  // stops counting once it is long-lived: open for LONG_LIVED_MS *and* across
  // LONG_LIVED_PROBES of the tool's probes. A probe runs only when the main
  // thread is free, so work waiting on the page itself (callbacks behind a
  // 6 s hydration, a timer made late by it) does not age while the page is
  // blocked: the clock alone would take it for a long poll and judge early.
  var LONG_LIVED_MS = 5000;
  var LONG_LIVED_PROBES = 10;
  var probes = 0; // busy() calls answered so far
  function longLived(since, probe, t) {
    return t - since > LONG_LIVED_MS && probes - probe > LONG_LIVED_PROBES;
  }
  var PromiseCtor = Promise;
  var promiseThen = Promise.prototype.then;
  var portProto = MessagePort.prototype;
  var portPost = portProto.postMessage;
  var portOnMessage = getOwnPropertyDescriptor(portProto, 'onmessage');
  var nativeTimer = {
    setTimeout: window.setTimeout,
    clearTimeout: window.clearTimeout,
    requestAnimationFrame: window.requestAnimationFrame,
    cancelAnimationFrame: window.cancelAnimationFrame,
    requestIdleCallback: window.requestIdleCallback,
    cancelIdleCallback: window.cancelIdleCallback
  };

  // Runs `fn` in a task of ours after the current task and its microtasks.
  var afterQueue = [];
  var afterHead = 0;
  var channel = new window.MessageChannel();
  apply(portOnMessage.set, channel.port1, [function () {
    var fn = afterQueue[afterHead];
    afterQueue[afterHead] = undefined;
    afterHead += 1;
    if (afterHead === afterQueue.length) { afterQueue = []; afterHead = 0; }
    if (typeof fn === 'function') fn();
  }]);
  function afterTask(fn) {
    afterQueue[afterQueue.length] = fn;
    apply(portPost, channel.port2, [0]);
  }

  // Work in flight: id -> { kind, since }.
  var work = {};
  var nextWork = 0;
  function begin(kind) {
    nextWork += 1;
    work[nextWork] = { kind: kind, since: now(), probe: probes };
    return nextWork;
  }
  function end(id) { afterTask(function () { delete work[id]; }); }

  // Replaces `owner[name]` (a function) with the wrapper `make(native)`
  // returns, disguised as the native one; keeps the property's attributes.
  function wrapFunction(owner, name, make) {
    var d;
    try { d = getOwnPropertyDescriptor(owner, name); } catch (e) { return; }
    if (!d || typeof d.value !== 'function') return;
    var wrapper = disguise(make(d.value), d.value);
    try {
      defineProperty(owner, name, { value: wrapper, writable: d.writable, enumerable: d.enumerable, configurable: d.configurable });
    } catch (e) { /* a locked owner: this kind of work goes uncounted */ }
  }
  // `this` for a function the page called bare: strict mode gives undefined
  // where the browser's own function takes the window.
  function self(that) { return that === undefined || that === null ? window : that; }

  // A promise settled as `native` is, counted as `kind` until its reactions ran.
  function tracked(kind, native) {
    var id = begin(kind);
    return new PromiseCtor(function (resolve, reject) {
      apply(promiseThen, native, [
        function (value) { resolve(value); end(id); },
        function (reason) { reject(reason); end(id); }
      ]);
    });
  }

  // fetch, and the body reads the page starts on its response.
  wrapFunction(window, 'fetch', function (native) {
    return { fetch() { return tracked('fetch', apply(native, self(this), arguments)); } }.fetch;
  });
  var bodyReads = ['json', 'text', 'arrayBuffer', 'blob', 'formData', 'bytes'];
  for (var b = 0; b < bodyReads.length; b++) {
    wrapFunction(Response.prototype, bodyReads[b], function (native) {
      return { read() { return tracked('fetch', apply(native, this, arguments)); } }.read;
    });
  }

  // XHR: from send until its loadend listeners ran.
  wrapFunction(XMLHttpRequest.prototype, 'send', function (native) {
    return {
      send() {
        var id = begin('xhr');
        try {
          apply(addEventListener, this, ['loadend', function () { end(id); }, { once: true }]);
          return apply(native, this, arguments);
        } catch (e) {
          end(id); // not an XHR, or not opened: nothing was sent
          throw e;
        }
      }
    }.send;
  });

  // Messages: to this window until delivered; on a port until a message of
  // ours posted after it arrived (ports deliver in the order posted).
  var selfMessages = [];
  wrapFunction(window, 'postMessage', function (native) {
    return {
      postMessage() {
        var target = self(this);
        var result = apply(native, target, arguments);
        if (target === window) selfMessages[selfMessages.length] = begin('message');
        return result;
      }
    }.postMessage;
  });
  var messageSource = getOwnPropertyDescriptor(MessageEvent.prototype, 'source').get;
  apply(addEventListener, window, ['message', function (e) {
    var source;
    try { source = apply(messageSource, e, []); } catch (err) { return; }
    if (source !== window || selfMessages.length === 0) return;
    var id = selfMessages[0];
    selfMessages = apply(arraySlice, selfMessages, [1]);
    end(id);
  }, true]);
  wrapFunction(portProto, 'postMessage', function (native) {
    return {
      postMessage() {
        var result = apply(native, this, arguments);
        var id = begin('message');
        afterTask(function () { end(id); });
        return result;
      }
    }.postMessage;
  });

  // Timers, animation frames and idle callbacks. A callback scheduled 3 times
  // or more is recurring (a poller, a carousel, an animation loop), as is an
  // interval: counted, not timed.
  var timeouts = {};         // id -> { due, loop, marker }
  var intervals = {};        // id -> true
  var intervalCount = 0;
  var frames = {};           // id -> { kind, since, loop, marker }
  var scheduled = new WeakMapCtor(); // callback -> times scheduled
  function scheduleCount(handler) {
    if (!isObjectLike(handler)) return 0;
    var n = (apply(wmGet, scheduled, [handler]) || 0) + 1;
    apply(wmSet, scheduled, [handler, n]);
    return n;
  }
  function forgetTimer(id) {
    var timer = timeouts[id];
    if (timer) { delete timeouts[id]; apply(nativeTimer.clearTimeout, window, [timer.marker]); }
    if (intervals[id]) { delete intervals[id]; intervalCount -= 1; }
  }
  wrapFunction(window, 'setTimeout', function (native) {
    return {
      setTimeout(handler, delay) {
        var id = apply(native, self(this), arguments);
        var ms = +delay > 0 ? +delay : 0;
        if (ms <= LONG_LIVED_MS * 6) {
          var marker = apply(nativeTimer.setTimeout, window, [function () { delete timeouts[id]; }, ms]);
          timeouts[id] = { due: now() + ms, loop: scheduleCount(handler) >= 3, marker: marker };
        }
        return id;
      }
    }.setTimeout;
  });
  wrapFunction(window, 'setInterval', function (native) {
    return {
      setInterval() {
        var id = apply(native, self(this), arguments);
        if (!intervals[id]) { intervals[id] = true; intervalCount += 1; }
        return id;
      }
    }.setInterval;
  });
  // clearTimeout and clearInterval clear either kind, as natively.
  wrapFunction(window, 'clearTimeout', function (native) {
    return { clearTimeout(id) { var r = apply(native, self(this), arguments); forgetTimer(id); return r; } }.clearTimeout;
  });
  wrapFunction(window, 'clearInterval', function (native) {
    return { clearInterval(id) { var r = apply(native, self(this), arguments); forgetTimer(id); return r; } }.clearInterval;
  });
  function wrapFrames(request, cancel, kind) {
    var requestMarker = nativeTimer[request];
    var cancelMarker = nativeTimer[cancel];
    if (typeof requestMarker !== 'function') return;
    wrapFunction(window, request, function (native) {
      return {
        [request](callback, options) {
          var id = apply(native, self(this), arguments);
          var markerArgs = [function () { delete frames[id]; }];
          if (options !== undefined) markerArgs[1] = options;
          var marker;
          try { marker = apply(requestMarker, window, markerArgs); } catch (e) { return id; }
          frames[id] = { kind: kind, since: now(), probe: probes, loop: scheduleCount(callback) >= 3, marker: marker };
          return id;
        }
      }[request];
    });
    wrapFunction(window, cancel, function (native) {
      return {
        [cancel](id) {
          var r = apply(native, self(this), arguments);
          var frame = frames[id];
          if (frame) { delete frames[id]; apply(cancelMarker, window, [frame.marker]); }
          return r;
        }
      }[cancel];
    });
  }
  wrapFrames('requestAnimationFrame', 'cancelAnimationFrame', 'animation frame');
  wrapFrames('requestIdleCallback', 'cancelIdleCallback', 'idle callback');

  // Scripts, stylesheets, images and iframes the page inserts after its load
  // event, until their load or error handlers ran. (Those inserted before it
  // held the load event up.) Lazy ones load when scrolled to: not counted.
  var loaded = false;
  var elementWork = new WeakMapCtor(); // element -> id of its load in flight
  var getAttribute = Element.prototype.getAttribute;
  var querySelectorAll = Element.prototype.querySelectorAll;
  var localNameGetter = getOwnPropertyDescriptor(Element.prototype, 'localName').get;
  var imageComplete = getOwnPropertyDescriptor(HTMLImageElement.prototype, 'complete').get;
  var LOADING = 'script[src],link[href],img,iframe[src]';
  var SCRIPT_TYPES = { '': 1, module: 1, 'text/javascript': 1, 'application/javascript': 1, 'text/ecmascript': 1 };
  function attr(el, name) {
    var v = apply(getAttribute, el, [name]);
    return v === null ? null : apply(toLowerCase, apply(trim, v, []), []);
  }
  // Whether inserting (or re-sourcing) `el` starts a load with a load event.
  function startsLoad(el, name) {
    if (attr(el, 'loading') === 'lazy') return false;
    switch (name) {
      case 'script':
        return attr(el, 'src') !== null && attr(el, 'nomodule') === null &&
          apply(hasOwn, SCRIPT_TYPES, [attr(el, 'type') || '']);
      case 'link':
        var rel = attr(el, 'rel') || '';
        return apply(indexOf, ' ' + rel + ' ', [' stylesheet ']) >= 0;
      case 'img':
        return (attr(el, 'src') || attr(el, 'srcset')) !== null && !apply(imageComplete, el, []);
      case 'iframe':
        var src = attr(el, 'src');
        return src !== null && src !== '' && src !== 'about:blank';
    }
    return false;
  }
  function watchElement(el) {
    var name;
    try { name = apply(localNameGetter, el, []); } catch (e) { return; }
    var inFlight = apply(wmGet, elementWork, [el]);
    if (inFlight !== undefined && (name !== 'img' || work[inFlight])) return; // once, or an image re-sourced
    try { if (!startsLoad(el, name)) return; } catch (e) { return; }
    var id = begin(name === 'link' ? 'stylesheet' : name);
    apply(wmSet, elementWork, [el, id]);
    var done = function () { end(id); };
    apply(addEventListener, el, ['load', done, { once: true }]);
    apply(addEventListener, el, ['error', done, { once: true }]);
  }
  function inserted(records) {
    for (var i = 0; i < records.length; i++) {
      var r = records[i];
      if (r.type === 'attributes') { watchElement(r.target); continue; }
      var nodes = r.addedNodes;
      for (var j = 0; j < nodes.length; j++) {
        var node = nodes[j];
        if (node.nodeType !== 1) continue;
        watchElement(node);
        var inside;
        try { inside = apply(querySelectorAll, node, [LOADING]); } catch (e) { continue; }
        for (var k = 0; k < inside.length; k++) watchElement(inside[k]);
      }
    }
  }
  // Watched from the load event on, before the page's own load handlers run
  // (a capture listener of the recorder's, added first): they may insert.
  var observer = new window.MutationObserver(inserted);
  var observe = MutationObserver.prototype.observe;
  var eventTarget = getOwnPropertyDescriptor(Event.prototype, 'target').get;
  apply(addEventListener, window, ['load', function (e) {
    // The capture phase also brings every image's and script's load here.
    if (apply(eventTarget, e, []) !== document) return;
    try {
      apply(observe, observer, [document, { childList: true, subtree: true, attributes: true, attributeFilter: ['src', 'srcset'] }]);
    } catch (e) { /* no document to watch */ }
    afterTask(function () { loaded = true; });
  }, true]);

  // What can still push within `windowMs`: whether the load event's handlers
  // ran, work in flight by kind, the earliest one-shot timer or frame due
  // within the window, whether recurring work runs, and when the last push was.
  function busy(windowMs) {
    probes += 1;
    var t = now();
    var soon = null;
    var recurring = intervalCount > 0;
    var kinds = {};
    var inFlight = 0;
    function due(ms) { if (ms <= windowMs && (soon === null || ms < soon)) soon = ms < 0 ? 0 : ms; }
    var ids = objectKeys(timeouts);
    for (var i = 0; i < ids.length; i++) {
      var timer = timeouts[ids[i]];
      if (t > timer.due && timer.overdue === undefined) timer.overdue = probes;
      if (timer.overdue !== undefined && longLived(timer.due, timer.overdue, t)) continue; // a frozen timer queue
      if (timer.loop) recurring = true; else due(timer.due - t);
    }
    ids = objectKeys(frames);
    for (i = 0; i < ids.length; i++) {
      var frame = frames[ids[i]];
      if (longLived(frame.since, frame.probe, t)) continue; // a frame that never comes (nothing rendered)
      if (frame.loop) recurring = true; else { due(0); kinds[frame.kind] = (kinds[frame.kind] || 0) + 1; }
    }
    ids = objectKeys(work);
    for (i = 0; i < ids.length; i++) {
      var item = work[ids[i]];
      if (longLived(item.since, item.probe, t)) continue;
      inFlight += 1;
      kinds[item.kind] = (kinds[item.kind] || 0) + 1;
    }
    return {
      loaded: loaded,
      in_flight: inFlight,
      kinds: kinds,
      soon_ms: soon,
      recurring: recurring,
      since_push_ms: lastPushT < 0 ? null : t - lastPushT
    };
  }
