// kijun dashboard: host table (search, sort, filters, pages), a page per control, a host's drill-down.
// Every string from the data block is put in the page as text (textContent, text nodes), never as markup.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("kijun-data").textContent);
  var H = D.hosts, C = D.controls, K = D.checks, F = D.f, S = D.s, X = D.details, ST = D.st;
  var PAGE = 100, PASS = 6, CAP = 500;
  var state = { q: "", zone: "", owner: "", status: "", control: "", sort: "f0", dir: -1, page: 0 };
  var rows = [], byName = {}, byControl = {};
  H.forEach(function (h, i) { byName[h[0]] = i; });
  C.forEach(function (c, i) { byControl[c[0]] = i; });

  function el(tag, cls, kids) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    (kids || []).forEach(function (k) {
      if (k === null || k === undefined) return;
      e.appendChild(typeof k === "object" ? k : document.createTextNode(String(k)));
    });
    return e;
  }
  function link(text, hash) { var a = el("a", "", [text]); a.href = "#" + hash; return a; }
  function hostLink(name) { return link(name, "host/" + encodeURIComponent(name)); }
  function controlLink(id) { return link(id, "control/" + encodeURIComponent(id)); }
  function pair(p, fallback) { p = p || [fallback, fallback]; return p[0] === p[1] ? p[0] : p[0] + " / " + p[1]; }
  function badge(code) { return el("span", "badge st-" + ST[code], [D.stja[code] + " " + ST[code]]); }
  function age(since) {
    var d = (Date.parse(D.run.started.slice(0, 10)) - Date.parse(since)) / 86400000;
    return isNaN(d) ? "" : since + " (" + Math.round(d) + " 日 days)";
  }
  function option(select, value, text) { var o = el("option", "", [text]); o.value = value; select.appendChild(o); }
  function uniq(k) { var seen = {}; H.forEach(function (h) { seen[h[k]] = 1; }); return Object.keys(seen).sort(); }

  function setup() {
    uniq(1).forEach(function (z) { option(document.getElementById("f-zone"), z, pair(D.zones[z], z)); });
    uniq(3).forEach(function (o) { option(document.getElementById("f-owner"), o, o || "—"); });
    C.map(function (c, i) { return i; }).sort(function (a, b) { return C[a][0] < C[b][0] ? -1 : 1; })
      .forEach(function (i) { option(document.getElementById("f-control"), String(i), C[i][0] + " " + C[i][3]); });
    var bind = { q: "q", "f-zone": "zone", "f-owner": "owner", "f-status": "status", "f-control": "control" };
    Object.keys(bind).forEach(function (id) {
      var node = document.getElementById(id);
      node.addEventListener(id === "q" ? "input" : "change", function () { state[bind[id]] = node.value; apply(); });
    });
    document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
    Array.prototype.forEach.call(document.querySelectorAll("#host-table th[data-k]"), function (th) {
      th.addEventListener("click", function () {
        var k = th.getAttribute("data-k");
        state.dir = state.sort === k ? -state.dir : (k.charAt(0) === "f" ? -1 : 1);
        state.sort = k;
        sort(); draw();
      });
    });
    document.getElementById("prev").addEventListener("click", function () { if (state.page > 0) { state.page--; draw(); } });
    document.getElementById("next").addEventListener("click", function () {
      if ((state.page + 1) * PAGE < rows.length) { state.page++; draw(); }
    });
    window.addEventListener("hashchange", route);
  }

  function failingOn(ci) {
    var on = new Uint8Array(H.length);
    for (var i = 0; i < F.length; i += 4) if (F[i + 1] === ci && F[i + 2] <= 2) on[F[i]] = 1;
    return on;
  }

  function apply() {
    var q = state.q.trim().toLowerCase(), on = state.control === "" ? null : failingOn(+state.control);
    rows = [];
    for (var i = 0; i < H.length; i++) {
      var h = H[i], n = h[8], bad = n[1] + n[2] > 0 || h[4] !== "assessed";
      if (state.zone && h[1] !== state.zone) continue;
      if (state.owner && h[3] !== state.owner) continue;
      if (state.status === "fail" && !n[0]) continue;
      if (state.status === "error" && !bad) continue;
      if (state.status === "waived" && !n[3]) continue;
      if (state.status === "clean" && (n[0] || bad)) continue;
      if (on && !on[i]) continue;
      if (q && (h[0] + " " + h[6] + " " + h[3] + " " + h[1] + " " + h[2]).toLowerCase().indexOf(q) < 0) continue;
      rows.push(i);
    }
    state.page = 0;
    sort(); draw();
  }

  function key(i) {
    var k = state.sort, n = H[i][8];
    if (k === "f1") return n[1] + n[2];
    return k.charAt(0) === "f" ? n[+k.slice(1)] : H[i][+k];
  }
  function sort() {
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x < y) return -state.dir;
      if (x > y) return state.dir;
      return H[a][0] < H[b][0] ? -1 : 1;
    });
  }

  function draw() {
    var frag = document.createDocumentFragment(), start = state.page * PAGE, end = Math.min(rows.length, start + PAGE);
    for (var r = start; r < end; r++) {
      var h = H[rows[r]], n = h[8], name = el("td", "", [hostLink(h[0])]);
      if (h[6]) { name.appendChild(el("br")); name.appendChild(el("span", "mono en", [h[6]])); }
      var tr = el("tr", "", [name, el("td", "", [pair(D.zones[h[1]], h[1])]), el("td", "", [h[3]]), el("td", "", [h[2]]),
        el("td", h[4] === "assessed" ? "st-pass" : "st-unreachable", [h[4] + (h[5] ? ": " + h[5] : "")])]);
      [[n[0], 0], [n[1] + n[2], 1], [n[3], 3], [n[6], 6]].forEach(function (v) {
        tr.appendChild(el("td", "num" + (v[0] ? " st-" + ST[v[1]] : " zero"), [v[0]]));
      });
      tr.setAttribute("data-host", h[0]);
      frag.appendChild(tr);
    }
    document.getElementById("host-rows").replaceChildren(frag);
    document.getElementById("host-count").textContent = rows.length + " / " + H.length + " ホスト hosts";
    document.getElementById("page").textContent = (rows.length ? state.page + 1 : 0) + " / " + Math.ceil(rows.length / PAGE);
    Array.prototype.forEach.call(document.querySelectorAll("#host-table th[data-k]"), function (th) {
      th.className = th.getAttribute("data-k") === state.sort ? (state.dir > 0 ? "sorted-asc" : "sorted-desc") : "";
    });
  }

  function citations(c) {
    var box = el("div");
    c[7].forEach(function (ci) {
      box.appendChild(el("div", "", [[ci[0], ci[1]].join(" ")]));
      if (ci[2]) box.appendChild(el("blockquote", "", [ci[2]]));
    });
    return box;
  }
  function rowsOf(dl, pairs) {
    pairs.forEach(function (p) { if (p[1] === "" || p[1] === null || p[1] === undefined) return; dl.appendChild(el("dt", "", [p[0]])); dl.appendChild(el("dd", p[2] || "", [p[1]])); });
    return dl;
  }

  function card(c, code, extra, host) {
    var title = el("h4", "", [badge(code), " ", controlLink(c[0]), " ", c[3], " ", el("span", "en", [c[4]]), " ",
      el("span", "sev sev-" + c[2], ["[" + D.sevja[c[2]] + " " + c[2] + "]"])]);
    if (host !== null) title.insertBefore(el("span", "", [hostLink(host), " "]), title.firstChild);
    var box = el("div", "finding " + ST[code], [title]), d = X[extra];
    var dl = rowsOf(el("dl"), [["所見 message", d[0]], ["発生 open since", d[1] ? age(d[1]) : ""]]);
    d[2].forEach(function (k) {
      if (k[1] === PASS) { rowsOf(dl, [["✓ " + K[k[0]][0], K[k[0]][1]]]); return; }
      rowsOf(dl, [
        ["点検 check", K[k[0]][0] + " — " + K[k[0]][1] + " / " + K[k[0]][2]],
        ["観測値 observed", k[2], "mono"],
        ["期待 expected", k[3] === k[4] ? k[3] : k[3] + " / " + k[4]],
        ["決定した行 set in", k[5], "mono"],
        ["詳細 detail", k[6]],
        ["証跡 evidence", k[7].map(function (s) { return S[s]; }).join(", "), "mono"]
      ]);
    });
    if (d[3]) {
      var w = d[3];
      rowsOf(dl, [["例外措置 waiver", w[0] + (w[1] ? " 適用 applied" : " 不適用 NOT applied") + " — " + w[2] + " (期限 expires " + w[3] + ", " + w[4] + " " + w[5] + ")"]]);
    }
    rowsOf(dl, [["是正 remediation", c[5]], ["", c[6]]]);
    box.appendChild(dl);
    box.appendChild(citations(c));
    return box;
  }

  function hostView(name) {
    var hi = byName[name], v = el("div");
    if (hi === undefined) return el("p", "warn", ["no such host: " + name]);
    var h = H[hi], list = [];
    for (var i = 0; i < F.length; i += 4) if (F[i] === hi) list.push([F[i + 1], F[i + 2], F[i + 3]]);
    list.sort(function (a, b) { return a[1] - b[1] || (C[a[0]][0] < C[b[0]][0] ? -1 : 1); });
    v.appendChild(el("h2", "", [h[0], " ", el("span", "en", [link("× 閉じる close", "hosts")])]));
    v.appendChild(rowsOf(el("dl", "meta"), [["ゾーン zone", pair(D.zones[h[1]], h[1])], ["役割 role", h[2]], ["課 owner", h[3]],
      ["アドレス address", h[6], "mono"], ["収集 collection", h[4] + (h[5] ? ": " + h[5] : "")], ["収集日時 collected", h[7], "mono"]]));
    var other = el("ul");
    list.forEach(function (f) {
      var c = C[f[0]];
      if (f[1] <= 3 && f[1] !== 2) { v.appendChild(card(c, f[1], f[2], null)); return; }
      var note = f[1] === 4 ? c[8] : (f[2] >= 0 ? S[f[2]] : "");
      other.appendChild(el("li", "", [badge(f[1]), " ", controlLink(c[0]), " ", c[3], note ? " — " + note : ""]));
    });
    v.appendChild(other);
    return v;
  }

  function controlView(id) {
    var ci = byControl[id], v = el("div");
    if (ci === undefined) return el("p", "warn", ["no such control: " + id]);
    var c = C[ci], n = [0, 0, 0, 0, 0, 0, 0], shown = 0, cards = el("div"), rest = el("ul");
    v.appendChild(el("h2", "", [c[0] + " " + c[3], " ", el("span", "en", [c[4]]), " ", el("span", "en", [link("× 閉じる close", "controls")])]));
    v.appendChild(rowsOf(el("dl", "meta"), [["領域 area", pair(D.areas[c[1]], c[1])], ["重要度 severity", D.sevja[c[2]] + " " + c[2]],
      ["是正 remediation", c[5] + " / " + c[6]], ["必要な証跡 attestation", c[8]]]));
    v.appendChild(citations(c));
    var found = [];
    for (var i = 0; i < F.length; i += 4) if (F[i + 1] === ci) { n[F[i + 2]]++; if (F[i + 2] !== PASS) found.push(i); }
    found.sort(function (a, b) { return F[a + 2] - F[b + 2]; });
    found.forEach(function (i) {
      if (shown++ >= CAP) return;
      var code = F[i + 2], h = H[F[i]][0];
      if (code <= 3 && code !== 2) cards.appendChild(card(c, code, F[i + 3], h));
      else rest.appendChild(el("li", "", [badge(code), " ", hostLink(h), F[i + 3] >= 0 && code !== 4 ? " — " + S[F[i + 3]] : ""]));
    });
    v.appendChild(el("p", "", [ST.map(function (s, k) { return D.stja[k] + " " + s + ": " + n[k]; }).join(" · ")]));
    if (found.length > CAP) v.appendChild(el("p", "warn", ["最初の " + CAP + " 件を表示 first " + CAP + " of " + found.length + " shown; use the host table's control filter"]));
    v.appendChild(cards);
    v.appendChild(rest);
    return v;
  }

  function route() {
    var m = /^#(host|control)\/(.*)$/.exec(location.hash), view = document.getElementById("view");
    if (!m) { view.hidden = true; return; }
    var name = decodeURIComponent(m[2]);
    view.replaceChildren(m[1] === "host" ? hostView(name) : controlView(name));
    view.hidden = false;
    view.scrollIntoView();
  }

  setup();
  apply();
  route();
  document.documentElement.setAttribute("data-ready", "1");
})();
