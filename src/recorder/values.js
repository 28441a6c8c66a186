
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

