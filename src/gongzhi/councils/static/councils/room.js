/* 共治 live meeting room: member phone view, moderator console, projector.
 *
 * No framework and no inline script (the CSP forbids it): the page carries the first state as a
 * JSON data block (#room-initial) and the labels (#room-labels, translated on the server); this
 * file opens the websocket named by data-ws-url, re-renders from every state the server sends,
 * and sends actions with the version the screen showed (a stale screen gets a resync, not a
 * wrong action). Reconnects with backoff and sends its last version; the server answers with the
 * state rebuilt from the event log.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-room]");
  if (!root) { return; }
  var mode = root.getAttribute("data-mode");
  var L = JSON.parse(document.getElementById("room-labels").textContent);
  var A = L.actions, T = L.text, P = L.proxy || {};
  var current = JSON.parse(document.getElementById("room-initial").textContent);
  var roster = current.roster || {};
  var socket = null, retry = 0, closedForGood = false, seq = 0, motionSeq = -1;
  var clockOffset = 0; // server time minus browser time, ms
  var announced = {};
  var confirming = false; // 宣布散会 waits for a second, explicit tap
  var rendered = false; // the first paint announces nothing that happened before the page opened
  var quorumLost = null; // whether the quorum was lacking at the last state (null: not in session)
  // Buttons shown greyed out when the rules do not allow them now; tapping one asks the server
  // why (GET .../why-not), so no state message carries reasons nobody reads.
  var GREY_CHAIR = ["take_up_item", "call_vote", "announce_result", "declare_adjourned"];
  var GREY_MEMBER = ["request_floor", "second"];

  function $(sel) { return root.querySelector(sel); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); }); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function name(id) { return id ? (roster[id] || id) : T.nobody; }
  function stanceLabel(s) { return s ? (T.stance[s] || s) : ""; }
  function setConn(text) { var c = $("[data-room-conn]"); if (c) { c.textContent = text; } }
  function announce(text) { var a = $("[data-room-announce]"); if (a) { a.textContent = text; } }
  function alertMsg(text) {
    var a = $("[data-room-alert]");
    if (!a) { return; }
    a.hidden = !text;
    a.textContent = text || "";
  }

  function actionLabel(code) {
    var parts = code.split(":");
    if (parts[0] === "recognize") { return A.recognize + name(parts[1]); }
    if (parts[0] === "take_up_item" && parts[1]) {
      // The next order of the day, by its title (the engine takes items up in order).
      var items = (current.state && current.state.agenda && current.state.agenda.items) || [];
      var item = items[Number(parts[1]) - 1];
      return A.take_up_item + (item ? "：" + item.title : "");
    }
    return A[code] || code;
  }
  // The console records for a member: the label names the act, not "I".
  function proxyLabel(code) { return P[code] || P[code.split(":")[0]] || actionLabel(code); }

  // A legal code -> the action sent to the server.
  function actionFor(code, extra) {
    var p = code.split(":");
    var head = p[0], arg = p[1];
    var a = { type: head };
    if (head === "cast_vote") { a.choice = arg; }
    else if (head === "call_vote") { a.method = arg; }
    else if (head === "cut_off") { a.reason = arg; }
    else if (head === "rule") { a.well_taken = arg === "true"; }
    else if (head === "recognize") { a.member = arg; }
    else if (head === "speak" && arg) { a.stance = arg; }
    else if (head === "request_floor" && arg) { a.stance = arg; }
    else if (head === "take_up_item") { a.item = Number(arg); }
    if (extra) { Object.keys(extra).forEach(function (k) { a[k] = extra[k]; }); }
    return a;
  }

  function send(action, onBehalfOf) {
    if (!socket || socket.readyState !== WebSocket.OPEN) { alertMsg(T.offline); return; }
    seq += 1;
    var msg = { id: seq, action: action, expected_version: current.version };
    if (onBehalfOf) { msg.on_behalf_of = onBehalfOf; }
    socket.send(JSON.stringify(msg));
  }

  // -------------------------------------------------------------------------------- rendering

  function renderStatus(s) {
    var box = $("[data-room-status]");
    if (!box) { return; }
    box.querySelector("[data-field=session]").textContent = T.session[s.session] || s.session;
    box.querySelector("[data-field=chair]").textContent = s.chair ? name(s.chair) : "—";
    var q = s.quorum || {};
    // Before the meeting opens nobody can have signed in: say so instead of "0 / 0".
    box.querySelector("[data-field=quorum]").textContent = s.session === "not_started" ? T.attendance_later :
      q.present + " / " + q.membership + "（" + T.quorum_needed + " " + q.needed + " · " +
      (q.has ? T.quorum_ok : T.quorum_no) + "）";
    // Without a quorum only adjourn, recess and fixing the time to adjourn may be voted (RONR
    // 40:6-7): said on every screen while it lasts, and announced when it is lost or regained.
    var banner = $("[data-room-quorum]");
    var lost = s.session === "in_session" && !q.has;
    if (banner) {
      banner.hidden = !lost;
      banner.textContent = lost ? T.quorum_lost_banner.replace("%(present)s", q.present).replace("%(needed)s", q.needed) : "";
    }
    var regained = quorumLost === true && !lost && s.session === "in_session";
    if (quorumLost !== null && lost !== quorumLost && s.session === "in_session") {
      announce(lost ? T.quorum_lost_now : T.quorum_regained);
    }
    var flash = $("[data-room-quorum-news]");
    if (flash && (regained || lost || s.session !== "in_session")) {
      flash.textContent = regained ? T.quorum_regained : "";
      flash.hidden = !regained;
    }
    quorumLost = s.session === "in_session" ? lost : null;
    // Parts of the page that belong to one phase of the meeting (start form, minutes link).
    Array.prototype.forEach.call(root.querySelectorAll("[data-room-show]"), function (e) {
      e.hidden = e.getAttribute("data-room-show").split(" ").indexOf(s.session) < 0;
    });
  }

  function renderBox(s, you) {
    var form = $("[data-room-box]");
    if (form) { form.hidden = !(s.ballot && s.ballot.method === "secret_ballot" && you && you.moderator); }
  }

  function renderWho(s, you) {
    var box = $("[data-room-who]");
    if (!box) { return; }
    var text = "";
    if (s.session === "not_started") { text = T.not_started_yet; }
    else if (!you || (!you.member && !you.moderator)) { text = T.not_member; }
    box.textContent = text;
    box.hidden = !text;
  }

  function renderAgenda(s) {
    var box = $("[data-room-agenda]");
    if (!box) { return; }
    box.textContent = "";
    var a = s.agenda || { items: [], current: null };
    if (!a.items.length) { box.appendChild(el("li", { "class": "room-empty" }, T.no_agenda)); return; }
    a.items.forEach(function (item, i) {
      var li = el("li", { "class": i === a.current ? "room-agenda-item room-agenda-item--current" : "room-agenda-item" });
      li.appendChild(el("span", null, item.title));
      if (i === a.current) {
        li.setAttribute("aria-current", "step");
        li.appendChild(el("strong", { "class": "room-badge" }, T.current_item));
        if (a.dealt) { li.appendChild(el("span", { "class": "room-meta" }, T.item_done)); }
      } else if (a.current === null || i < a.current) {
        li.appendChild(el("span", { "class": "room-meta" }, T.item_done));
      }
      box.appendChild(li);
    });
  }

  function renderFloor(s) {
    var box = $("[data-room-floor]");
    if (!box) { return; }
    box.textContent = "";
    var f = s.floor;
    if (!f) { box.appendChild(el("p", null, T.floor_none)); return; }
    var who = el("p", { "class": "room-speaker" });
    who.appendChild(el("strong", null, name(f.member)));
    who.appendChild(document.createTextNode(" · " + (f.speaking ? T.speaking : T.has_floor) +
      (f.stance ? " · " + stanceLabel(f.stance) : "")));
    box.appendChild(who);
    if (f.speaking && f.started) {
      // The countdown is drawn every second but only announced at 60 s, 30 s and 0 (aria-live
      // polite): a screen reader reading every tick would drown the meeting.
      var clock = el("p", { "class": "room-clock", "data-clock": "1", "data-started": f.started,
                            "data-limit": String(f.limit) });
      box.appendChild(clock);
      tick();
    }
  }

  function tick() {
    var clock = $("[data-clock]");
    if (!clock) { return; }
    var started = Date.parse(clock.getAttribute("data-started"));
    var limit = Number(clock.getAttribute("data-limit"));
    var elapsed = (Date.now() + clockOffset - started) / 1000;
    var left = Math.round(limit - elapsed);
    var key = clock.getAttribute("data-started");
    if (left >= 0) {
      var m = Math.floor(left / 60), sec = left % 60;
      clock.textContent = T.remaining + " " + m + ":" + (sec < 10 ? "0" : "") + sec;
      clock.classList.remove("room-clock--over");
    } else {
      clock.textContent = T.overrun + " " + (-left) + " " + T.seconds;
      clock.classList.add("room-clock--over");
    }
    [[60, T.minute_left], [30, T.thirty_left], [0, T.time_up]].forEach(function (mark) {
      var k = key + "@" + mark[0];
      if (left <= mark[0] && left > mark[0] - 3 && !announced[k] && limit > mark[0]) {
        announced[k] = true;
        announce(mark[1]);
      }
    });
  }

  function renderQueue(s) {
    var box = $("[data-room-queue]");
    if (!box) { return; }
    box.textContent = "";
    if (!s.queue.length) { box.appendChild(el("li", { "class": "room-empty" }, T.queue_empty)); return; }
    s.queue.forEach(function (q) {
      box.appendChild(el("li", null, name(q.member) + (q.stance ? "（" + stanceLabel(q.stance) + "）" : "")));
    });
  }

  function renderStack(s) {
    var box = $("[data-room-stack]");
    if (!box) { return; }
    box.textContent = "";
    if (!s.stack.length) { box.appendChild(el("li", { "class": "room-empty" }, T.stack_empty)); return; }
    var agenda = s.agenda || { items: [], current: null };
    s.stack.slice().reverse().forEach(function (m, i) {
      var li = el("li", { "class": i === 0 ? "room-motion-item room-motion-item--top" : "room-motion-item" });
      li.appendChild(el("span", { "class": "room-kind" }, kindLabel(m.kind, m.kind_zh)));
      li.appendChild(el("span", { "class": "room-text" }, m.text || ""));
      if (m.target_text && m.target_text !== m.text) {
        li.appendChild(el("span", { "class": "room-meta" }, T.applies_to + "「" + m.target_text + "」"));
      }
      li.appendChild(el("span", { "class": "room-meta" }, movers(m) + " · " + (T.status[m.status] || m.status_zh)));
      if (m.off_agenda) {
        var item = agenda.current !== null && agenda.items[agenda.current];
        li.appendChild(el("span", { "class": "room-warn", role: "note" },
          item ? T.off_agenda.replace("%s", item.title) : T.no_current_item));
      }
      box.appendChild(li);
    });
  }

  function kindLabel(kind, fallback) { return T.motion_kinds[kind] || fallback || kind; }
  function movers(m) {
    return T.mover + " " + name(m.mover) + " · " + T.seconder + " " + (m.seconder ? name(m.seconder) : "—");
  }

  function renderBallot(s, you) {
    var box = $("[data-room-ballot]");
    if (box) {
      box.textContent = "";
      var b = s.ballot;
      if (!b) {
        box.appendChild(el("p", { "class": "muted" }, T.no_ballot));
      } else {
        var motion = s.stack.filter(function (m) { return m.id === b.motion_id; })[0];
        box.appendChild(el("p", { "class": "room-ballot-q" }, (motion ? kindLabel(motion.kind, motion.kind_zh) + "：" + motion.text : "") +
          " · " + (T.methods[b.method] || b.method_zh)));
        box.appendChild(el("p", { "class": "room-ballot-count" }, T.voted + " " + b.voted + " / " + T.of_present + " " + b.present));
        if (you && you.voted) { box.appendChild(el("p", { "class": "notice" }, T.you_voted)); }
      }
    }
    var res = $("[data-room-result]");
    if (res) {
      res.textContent = "";
      var r = s.result;
      if (r && r.void && r.at && announced["void@" + r.at] === undefined) {
        // Said aloud once, when it happens (screen readers; the projector's hall reads it too).
        announced["void@" + r.at] = true;
        if (rendered) { announce(kindLabel(r.kind, r.kind_zh) + " · " + T.vote_void + "：" + T.vote_void_why); }
      }
      if (r && r.void) {
        // The quorum failed while the vote was open: nothing was decided (RONR 40:6-7).
        var v = el("div", { "class": "room-result room-result--void" });
        v.appendChild(el("p", { "class": "room-result-big" }, kindLabel(r.kind, r.kind_zh) + " · " + T.vote_void));
        v.appendChild(el("p", null, r.text));
        v.appendChild(el("p", null, T.vote_void_why));
        res.appendChild(v);
      } else if (r) {
        var div = el("div", { "class": "room-result " + (r.adopted ? "room-result--ok" : "room-result--lost") });
        div.appendChild(el("p", { "class": "room-result-big" }, kindLabel(r.kind, r.kind_zh) + " · " + (r.adopted ? T.adopted : T.lost)));
        div.appendChild(el("p", null, r.text));
        if (r.mover) { div.appendChild(el("p", { "class": "room-meta" }, movers(r))); }
        div.appendChild(el("p", null, T.ayes + " " + r.ayes + " · " + T.noes + " " + r.noes +
          (s.abstentions_asked ? " · " + T.abstentions + " " + r.abstentions : "") + " · " +
          (T.methods[r.method] || r.method_zh)));
        res.appendChild(div);
      }
    }
  }

  function renderActions(you, s) {
    var box = $("[data-room-actions]");
    if (!box) { return; }
    box.textContent = "";
    var legal = (you && you.legal) || [];
    var buttons = legal.filter(function (c) { return c.indexOf("move:") !== 0; });
    // 南塘十三条: a speaker states pro or con first, so hands are raised with a stance.
    var expanded = [];
    buttons.forEach(function (c) {
      if (c === "request_floor") { expanded.push("request_floor:pro", "request_floor:con"); if (!s.stance_required) { expanded.push(c); } }
      else if (c === "speak" && s.stance_required) { /* speak:pro / speak:con are offered instead */ }
      else { expanded.push(c); }
    });
    var grey = greyed(you, s, legal);
    if (!expanded.length) { box.appendChild(el("p", { "class": "muted" }, grey.length ? T.greyed_hint : T.no_actions)); }
    if (confirming && expanded.indexOf("declare_adjourned") < 0) { confirming = false; }
    expanded.forEach(function (code) {
      var cls = "button";
      if (code.indexOf("cast_vote:") === 0) { cls += " room-vote room-vote--" + code.split(":")[1]; }
      else if (code === "leave" || code === "declare_adjourned") { cls += " button--quiet"; }
      if (code === "declare_adjourned" && confirming) {
        // Adjourning ends the meeting for everyone: a second, explicit tap, with a way back.
        var box2 = el("div", { "class": "room-confirm", role: "group", "aria-label": T.confirm_adjourn });
        box2.appendChild(el("p", null, T.confirm_adjourn));
        box2.appendChild(el("button", { type: "button", "class": "button", "data-code": code, "data-confirmed": "1" },
          T.confirm_adjourn_yes));
        box2.appendChild(el("button", { type: "button", "class": "button button--quiet", "data-cancel": "1" }, T.cancel));
        box.appendChild(box2);
        return;
      }
      var b = el("button", { type: "button", "class": cls, "data-code": code }, actionLabel(code));
      box.appendChild(b);
    });
    grey.forEach(function (code) {
      box.appendChild(el("button", { type: "button", "class": "button button--disabled", "aria-disabled": "true",
                                     "data-why": code }, A[code] || code));
    });
    var form = $("[data-room-motion]");
    if (form) {
      var kinds = legal.filter(function (c) { return c.indexOf("move:") === 0; });
      form.hidden = !kinds.length;
      var select = form.querySelector("[data-motion-kind]");
      var keep = select.value;
      select.textContent = "";
      // The main motion first: it is what a member usually means to make.
      kinds.sort(function (a, b) { return (b === "move:main") - (a === "move:main"); });
      var targets = (you && you.targets) || {};
      kinds.forEach(function (c) {
        var p = c.split(":");
        var label = T.motion_kinds[p[1]] || p[1];
        // Which motion or earlier decision it applies to, in words (never an id like m12).
        if (p[2]) { label += "：" + (targets[p.slice(2).join(":")] || T.motion_kinds[p[1]]); }
        select.appendChild(el("option", { value: c }, label));
      });
      if (keep && kinds.indexOf(keep) >= 0) { select.value = keep; }
      else if (kinds.indexOf("move:main") >= 0) { select.value = "move:main"; }
    }
  }

  function greyed(you, s, legal) {
    if (!you || s.session !== "in_session") { return []; }
    var list = [];
    if (you.chair || you.moderator) { list = list.concat(GREY_CHAIR); }
    if (you.member && !you.chair) { list = list.concat(GREY_MEMBER); }
    var agenda = s.agenda || { items: [] };
    return list.filter(function (head) {
      if (head === "take_up_item" && (!agenda.items.length || agenda.next === null)) { return false; }
      if (head === "request_floor" && you.requested) { return false; }
      return !legal.some(function (c) { return c === head || c.indexOf(head + ":") === 0; });
    });
  }

  function explain(code) {
    var out = $("[data-room-why]");
    if (!out) { return; }
    out.hidden = false;
    out.textContent = T.why_loading;
    var url = "/api/v1/councils/meetings/" + current.state.meeting + "/why-not?code=" + encodeURIComponent(code);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json();
    }).then(function (body) {
      var label = A[code] || code;
      out.textContent = body.legal ? label + "：" + T.why_legal_now : label + "：" + (body.message || T.why_unknown);
    }).catch(function () { out.textContent = T.offline; });
  }

  function renderInPerson(you, s) {
    var box = $("[data-room-inperson]");
    if (!box) { return; }
    box.textContent = "";
    var rows = (you && you.in_person) || [];
    var table = el("table");
    var head = el("tr");
    head.appendChild(el("th", { scope: "col" }, T.member));
    head.appendChild(el("th", { scope: "col" }, T.on_behalf));
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var body = el("tbody");
    rows.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("th", { scope: "row" }, name(r.member)));
      var td = el("td", { "class": "room-buttons" });
      r.legal.forEach(function (code) {
        var b = el("button", { type: "button", "class": "button button--quiet", "data-code": code, "data-for": r.member });
        b.textContent = proxyLabel(code);
        b.setAttribute("aria-label", name(r.member) + "：" + proxyLabel(code));
        td.appendChild(b);
      });
      tr.appendChild(td);
      body.appendChild(tr);
    });
    table.appendChild(body);
    box.appendChild(table);
  }

  var lastMessage = current;
  function render(message) {
    lastMessage = message;
    if (message.roster) { roster = message.roster; }
    current = { version: message.version, state: message.state, you: message.you, roster: roster };
    var s = message.state, you = message.you;
    if (s.server_now) { clockOffset = Date.parse(s.server_now) - Date.now(); }
    root.setAttribute("data-version", String(message.version));
    renderStatus(s);
    renderWho(s, you);
    renderBox(s, you);
    renderAgenda(s);
    renderFloor(s);
    renderQueue(s);
    renderStack(s);
    renderBallot(s, you);
    if (mode !== "projector") { renderActions(you, s); }
    if (mode === "console") { renderInPerson(you, s); }
    rendered = true;
    // An id we cannot name means the roster was frozen after we loaded it: ask for it again.
    if (s.chair && !roster[s.chair] && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "resync" }));
    }
  }

  // ----------------------------------------------------------------------------------- events

  root.addEventListener("click", function (ev) {
    if (ev.target.closest("button[data-cancel]")) { confirming = false; render(lastMessage); return; }
    var grey = ev.target.closest("button[data-why]");
    if (grey && root.contains(grey)) { explain(grey.getAttribute("data-why")); return; }
    var b = ev.target.closest("button[data-code]");
    if (!b || !root.contains(b)) { return; }
    if (b.getAttribute("data-code") === "declare_adjourned" && !b.getAttribute("data-confirmed")) {
      confirming = true; render(lastMessage); return;
    }
    confirming = false;
    alertMsg("");
    send(actionFor(b.getAttribute("data-code")), b.getAttribute("data-for"));
  });

  var form = $("[data-room-motion]");
  if (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var code = form.querySelector("[data-motion-kind]").value;
      if (!code) { return; }
      var p = code.split(":");
      var action = { type: "move", kind: p[1], text: form.querySelector("[data-motion-text]").value };
      if (p[2]) { action.target = p[2]; }
      alertMsg("");
      send(action);
      motionSeq = seq;
    });
  }

  // --------------------------------------------------------------------------------- socket

  function connect() {
    var url = root.getAttribute("data-ws-url");
    var sep = url.indexOf("?") >= 0 ? "&" : "?";
    setConn(T.connecting);
    socket = new WebSocket(url + sep + "since=" + encodeURIComponent(String(current.version || 0)));
    var opened = false;
    socket.onopen = function () { opened = true; retry = 0; setConn(T.connected); root.setAttribute("data-connected", "1"); };
    socket.onmessage = function (ev) {
      var msg = JSON.parse(ev.data);
      if (msg.type === "state" || msg.type === "update" || msg.type === "resync") {
        if (msg.type === "update" && msg.version < current.version) { return; }
        render(msg);
        if (msg.type === "resync" && msg.message) { alertMsg(msg.message); }
      } else if (msg.type === "refused") {
        alertMsg(msg.message);
      } else if (msg.type === "ack") {
        if (form && msg.id === motionSeq) { form.reset(); }
        setConn(T.sent + " · " + T.connected);
      }
    };
    socket.onclose = function (ev) {
      root.removeAttribute("data-connected");
      if (!opened && retry > 8) {
        // Refused at the handshake again and again: not logged in, or not allowed in here.
        closedForGood = true; setConn(T.denied); return;
      }
      if (closedForGood) { return; }
      setConn(T.offline);
      // Backoff with jitter, capped at 15 s, so a restarted server is not hit by every phone at once.
      var delay = Math.min(15000, 500 * Math.pow(2, retry)) * (0.5 + Math.random() / 2);
      retry += 1;
      window.setTimeout(connect, delay);
    };
  }

  render(current);
  window.setInterval(tick, 1000);
  connect();
}());
