
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
        var out = { events: events, dropped: dropped, doc: DOC_ID, start_url: startUrl, leaves: leaves };
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
