/* logferry's page: the charts (uPlot), drag-to-zoom, row expand, field-name completion, the live tail.
   Everything else is server-rendered HTML; no data from an event is ever inserted as HTML. */
(function () {
  "use strict";
  var LEVEL_ORDER = ["fatal", "critical", "error", "warn", "info", "debug", "trace"];
  var LEVEL_COLOURS = { fatal: "#6a1b9a", critical: "#8e24aa", error: "#e53935", warn: "#fb8c00", info: "#1e88e5",
    debug: "#90a4ae", trace: "#cfd8dc", other: "#b0bec5" };
  var PALETTE = ["#1e88e5", "#e53935", "#43a047", "#fb8c00", "#8e24aa", "#00acc1", "#6d4c41", "#3949ab", "#c0ca33", "#d81b60"];

  function json(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }

  /* A stacked bar chart of buckets [{start, count, series: {key: n}}] with drag-to-zoom. */
  function stackedBars(el, buckets, keys, colour, intervalMs) {
    var xs = buckets.map(function (b) { return Date.parse(b.start) / 1000; });
    var raw = keys.map(function (k) { return buckets.map(function (b) { return b.series[k] || 0; }); });
    // Each drawn series is the sum of its key and those below it; drawn top first, so lower ones cover it.
    var cumulative = [], acc = xs.map(function () { return 0; });
    raw.forEach(function (r) { acc = acc.map(function (a, i) { return a + r[i]; }); cumulative.push(acc.slice()); });
    var order = keys.map(function (_, i) { return keys.length - 1 - i; });
    var series = [{ value: function (u, v) { return v == null ? "" : new Date(v * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC"; } }];
    order.forEach(function (i) {
      series.push({ label: keys[i], fill: colour(keys[i], i), stroke: colour(keys[i], i), width: 0, points: { show: false },
        paths: uPlot.paths.bars({ size: [0.92, 80], align: 1 }),
        value: function (u, v, si, idx) { return idx == null ? "" : raw[i][idx]; } });
    });
    var data = [xs].concat(order.map(function (i) { return cumulative[i]; }));
    var opts = {
      width: Math.max(300, el.clientWidth), height: 170, series: series,
      scales: { x: { time: true, range: function (u, min, max) { return [min, max + intervalMs / 1000]; } } },
      axes: [{ stroke: "#5f6b7a" }, { stroke: "#5f6b7a", size: 50 }],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      legend: { live: true },
      hooks: { setSelect: [function (u) {
        if (u.select.width < 3) return;
        var from = u.posToVal(u.select.left, "x"), to = u.posToVal(u.select.left + u.select.width, "x");
        zoomTo(el, new Date(from * 1000), new Date(to * 1000));
      }] }
    };
    el.textContent = "";
    var plot = new uPlot(opts, data, el);
    window.addEventListener("resize", function () { plot.setSize({ width: Math.max(300, el.clientWidth), height: 170 }); });
    return plot;
  }

  function zoomTo(el, from, to) {
    var params = new URLSearchParams(el.dataset.query || "");
    params.set("from", from.toISOString());
    params.set("to", to.toISOString());
    params.delete("cursor");
    window.location.assign((el.dataset.path || "/") + "?" + params.toString());
  }

  function levelKeys(levels) {
    var known = LEVEL_ORDER.filter(function (l) { return levels.indexOf(l) >= 0; });
    var rest = levels.filter(function (l) { return LEVEL_ORDER.indexOf(l) < 0; }).sort();
    return known.concat(rest, ["other"]);
  }

  function initCharts() {
    var hist = document.getElementById("histogram"), data = json("histogram-data");
    if (hist && data) {
      stackedBars(hist, data.buckets, levelKeys(data.levels), function (k, i) { return LEVEL_COLOURS[k] || PALETTE[i % PALETTE.length]; }, data.interval_ms);
    }
    var errs = document.getElementById("errors-chart"), edata = json("errors-data");
    if (errs && edata) {
      var keys = edata.buckets.length ? Object.keys(edata.buckets[0].series) : [];
      if (!keys.length) { keys = ["errors"]; edata.buckets.forEach(function (b) { b.series = { errors: b.count }; }); }
      var width = { "1m": 60e3, "5m": 300e3, "1h": 3600e3, "1d": 86400e3 }[edata.interval] || 60e3;
      stackedBars(errs, edata.buckets, keys, function (k, i) { return k === "other" ? "#b0bec5" : k === "missing" ? "#e0e0e0" : PALETTE[i % PALETTE.length]; }, width);
    }
  }

  /* A row's whole document: the button (or a click on the row) shows and hides the detail row. */
  function initRows() {
    document.addEventListener("click", function (ev) {
      var t = ev.target;
      if (t.closest("a, button:not(.expand), input, pre, .context, .detail")) return;
      var body = t.closest("tbody.event");
      if (!body) return;
      var button = body.querySelector("button.expand"), detail = body.querySelector("tr.detail");
      var open = detail.hidden;
      detail.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      button.textContent = open ? "▾" : "▸";
    });
  }

  /* Field names completed in the query bar: the word before the caret, before a ':' is typed. */
  function initCompletion() {
    var q = document.getElementById("q"), list = document.getElementById("q-complete");
    var names = json("field-names") || [];
    if (!q || !list || !names.length) return;
    var shown = [], active = -1;
    function token() {
      var before = q.value.slice(0, q.selectionStart);
      var m = /(^|[\s(!+-])([A-Za-z_@][\w.@-]*)$/.exec(before);
      return m ? { word: m[2], start: before.length - m[2].length } : null;
    }
    function hide() { list.hidden = true; shown = []; active = -1; q.removeAttribute("aria-activedescendant"); }
    function render() {
      list.textContent = "";
      shown.forEach(function (name, i) {
        var li = document.createElement("li");
        li.id = "qc-" + i; li.setAttribute("role", "option"); li.textContent = name;
        li.setAttribute("aria-selected", String(i === active));
        li.addEventListener("mousedown", function (e) { e.preventDefault(); accept(i); });
        list.appendChild(li);
      });
      list.hidden = !shown.length;
      if (active >= 0) q.setAttribute("aria-activedescendant", "qc-" + active);
    }
    function accept(i) {
      var t = token(); if (!t) return hide();
      var name = shown[i], after = q.value.slice(q.selectionStart);
      q.value = q.value.slice(0, t.start) + name + ":" + after;
      var caret = t.start + name.length + 1;
      q.setSelectionRange(caret, caret);
      hide();
    }
    q.addEventListener("input", function () {
      var t = token();
      if (!t || t.word.length < 1) return hide();
      var w = t.word.toLowerCase();
      shown = names.filter(function (n) { return n.toLowerCase().indexOf(w) === 0 && n.toLowerCase() !== w; }).slice(0, 10);
      active = shown.length ? 0 : -1;
      render();
    });
    q.addEventListener("keydown", function (e) {
      if (list.hidden) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
        render();
      } else if (e.key === "Tab" || (e.key === "Enter" && active >= 0)) {
        e.preventDefault(); accept(active);
      } else if (e.key === "Escape") { e.preventDefault(); hide(); }
    });
    q.addEventListener("blur", function () { setTimeout(hide, 100); });
  }

  /* Empty fields are left out of the URL, so it holds only the state in force. */
  function initForm() {
    var form = document.getElementById("querybar");
    if (!form) return;
    form.addEventListener("submit", function () {
      form.querySelectorAll("input").forEach(function (i) { if (!i.value) i.disabled = true; });
    });
    document.addEventListener("keydown", function (e) {
      var q = document.getElementById("q");
      if (e.key === "/" && q && document.activeElement !== q && !/INPUT|TEXTAREA/.test(document.activeElement.tagName)) {
        e.preventDefault(); q.focus();
      }
    });
  }

  /* The live tail: server-sent events from /api/v1/tail, newest on top; paused, they wait in a buffer. */
  function initTail() {
    var box = document.getElementById("tail");
    if (!box) return;
    var rows = document.getElementById("tail-rows"), status = document.getElementById("tail-status");
    var toggle = document.getElementById("tail-toggle");
    var paused = false, buffer = [], received = 0, MAX_ROWS = 1000;
    function get(doc, path) {
      return path.split(".").reduce(function (o, k) { return o && typeof o === "object" ? o[k] : undefined; }, doc);
    }
    function row(doc) {
      var tr = document.createElement("tr"); tr.className = "fresh";
      var level = get(doc, "log.level") || "";
      var cells = [doc["@timestamp"], level, get(doc, "service.name"), get(doc, "endpoint"),
        get(doc, "http.response.status_code"), doc.message];
      cells.forEach(function (v, i) {
        var td = document.createElement("td");
        if (i === 1) { var s = document.createElement("span"); s.className = "lvl lvl-" + level; s.textContent = level; td.appendChild(s); }
        else td.textContent = v == null ? "" : String(v);
        if (i === 5 && get(doc, "error.type")) {
          var e = document.createElement("span"); e.className = "err";
          e.textContent = " " + get(doc, "error.type") + (get(doc, "error.message") ? ": " + get(doc, "error.message") : "");
          td.appendChild(e);
        }
        tr.appendChild(td);
      });
      return tr;
    }
    function show(docs) {
      docs.forEach(function (doc) { rows.insertBefore(row(doc), rows.firstChild); });
      while (rows.children.length > MAX_ROWS) rows.removeChild(rows.lastChild);
    }
    function say() {
      status.textContent = (paused ? "paused" : "live") + " · " + received + " new event(s)" +
        (paused && buffer.length ? " · " + buffer.length + " waiting" : "");
    }
    var source = new EventSource(box.dataset.stream);
    source.addEventListener("open", say);
    source.addEventListener("error", function () { status.textContent = "reconnecting…"; });
    source.addEventListener("events", function (ev) {
      var docs = JSON.parse(ev.data);
      received += docs.length;
      if (paused) buffer = buffer.concat(docs); else show(docs);
      say();
    });
    source.addEventListener("unavailable", function (ev) { status.textContent = "waiting for the store: " + JSON.parse(ev.data); });
    source.addEventListener("skipped", function (ev) { status.textContent += " · " + ev.data + " skipped in a burst"; });
    toggle.addEventListener("click", function () {
      paused = !paused;
      toggle.textContent = paused ? "Resume" : "Pause";
      toggle.setAttribute("aria-pressed", String(paused));
      if (!paused) { show(buffer); buffer = []; }
      say();
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initCharts(); initRows(); initCompletion(); initForm(); initTail();
    // When the page is drawn (chart included): what bench/ui.py times a render by.
    document.documentElement.dataset.ready = String(performance.now());
  });
})();
