// The Pantri ops dashboard: one MQTT over WebSockets connection (MQTT.js) with the ops credential, subscribed to
// pantri/v1/ops/#. Retained topics give the current state (presence, inventory, orders) on every (re)connect; events
// are live only. Rendering is batched (at most 4 times a second) and lists are capped, so 10,000 devices do not
// freeze the page.
(function () {
  'use strict';
  const OPS = 'pantri/v1/ops/';
  const MAX_ROWS = 200;        // rows drawn per list; the filter narrows the rest
  const MAX_EVENTS = 200;
  const RATE_WINDOW_S = 300;
  const devices = new Map();   // DeviceId -> presence
  const inventory = new Map(); // Instruction_Ref -> status
  const orders = new Map();    // OrderRef -> { status, history: [state...] }
  const events = [];
  const rate = new Map();      // ack ID -> Map(second -> count)
  let paused = false;
  let dirty = true;
  let client = null;

  const $ = (id) => document.getElementById(id);

  function setConnection(state, text) {
    const el = $('connection');
    el.dataset.state = state;
    el.className = 'state-' + state;
    el.textContent = text || state;
  }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text == null ? '' : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function time(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleTimeString();
  }

  function onMessage(topic, payload) {
    const text = new TextDecoder().decode(payload);
    const rest = topic.substring(OPS.length);
    if (rest === 'events') {
      let e; try { e = JSON.parse(text); } catch { return; }
      const second = Math.floor(Date.parse(e.At) / 1000) || Math.floor(Date.now() / 1000);
      const id = e.Ack && e.Ack.ID;
      if (!rate.has(id)) rate.set(id, new Map());
      const byId = rate.get(id);
      byId.set(second, (byId.get(second) || 0) + 1);
      if (!paused) {
        events.unshift(e);
        if (events.length > MAX_EVENTS) events.length = MAX_EVENTS;
      }
    } else if (rest.startsWith('devices/')) {
      const id = rest.substring('devices/'.length);
      if (text.length === 0) devices.delete(id); else { try { devices.set(id, JSON.parse(text)); } catch { return; } }
    } else if (rest.startsWith('inventory/')) {
      const ref = rest.substring('inventory/'.length);
      if (text.length === 0) inventory.delete(ref); else { try { inventory.set(ref, JSON.parse(text)); } catch { return; } }
    } else if (rest.startsWith('orders/')) {
      const ref = rest.substring('orders/'.length);
      if (text.length === 0) { orders.delete(ref); } else {
        let o; try { o = JSON.parse(text); } catch { return; }
        const known = orders.get(ref);
        const history = known ? known.history : [];
        if (history[history.length - 1] !== o.State) history.push(o.State);
        orders.set(ref, { status: o, history });
      }
    }
    dirty = true;
  }

  function renderDevices() {
    const filter = $('device-filter').value.trim().toLowerCase();
    const rows = [];
    for (const [id, p] of devices) {
      if (filter && !(id + ' ' + p.Status + ' ' + (p.Reason || '')).toLowerCase().includes(filter)) continue;
      rows.push(p);
      if (rows.length >= MAX_ROWS) break;
    }
    rows.sort((a, b) => a.DeviceId.localeCompare(b.DeviceId));
    const body = document.createElement('tbody');
    body.id = 'devices';
    for (const p of rows) {
      const tr = document.createElement('tr');
      tr.dataset.device = p.DeviceId;
      tr.dataset.status = p.Status;
      cell(tr, p.DeviceId);
      cell(tr, p.Status, p.Status === 'online' ? 'online' : 'offline');
      cell(tr, time(p.LastSeen));
      cell(tr, p.Reason || '', 'muted');
      body.appendChild(tr);
    }
    $('devices').replaceWith(body);
    $('devices-count').textContent = '(' + devices.size + (rows.length < devices.size ? ', showing ' + rows.length : '') + ')';
  }

  function renderInventory() {
    const box = document.createElement('div');
    box.id = 'inventory';
    let n = 0;
    for (const [ref, s] of inventory) {
      if (++n > MAX_ROWS) break;
      const scale = Math.max(s.Level || 0, s.ReorderAt * 2, 1);
      const item = document.createElement('div');
      item.dataset.instruction = ref;
      item.dataset.level = s.Level == null ? '' : String(s.Level);
      const f = s.Forecast || {};
      const label = document.createElement('div');
      label.textContent = ref + ': ' + (s.Level == null ? 'no level yet' : s.Level + ' ' + s.Unit) + ' · trigger at ' + s.ReorderAt + ' ' + s.Unit +
        ' · ' + (s.Armed ? 'armed' : 'not armed') + ' · forecast ' + (f.State || '?') +
        (f.HoursToReorder != null ? ' (reorder in ' + f.HoursToReorder.toFixed(1) + ' h)' : '');
      const bar = document.createElement('div');
      bar.className = 'bar';
      const level = document.createElement('div');
      level.className = 'level' + (s.Level != null && s.Level <= s.ReorderAt ? ' low' : '');
      level.style.width = (100 * Math.min(1, (s.Level || 0) / scale)) + '%';
      const trigger = document.createElement('div');
      trigger.className = 'trigger';
      trigger.style.left = (100 * Math.min(1, s.ReorderAt / scale)) + '%';
      bar.append(level, trigger);
      item.append(label, bar);
      box.appendChild(item);
    }
    $('inventory').replaceWith(box);
    $('inventory-count').textContent = '(' + inventory.size + ')';
  }

  function renderOrders() {
    const list = [...orders.values()].sort((a, b) => Date.parse(b.status.UpdatedAt) - Date.parse(a.status.UpdatedAt)).slice(0, MAX_ROWS);
    const body = document.createElement('tbody');
    body.id = 'orders';
    for (const { status: o, history } of list) {
      const tr = document.createElement('tr');
      tr.dataset.order = o.OrderRef;
      tr.dataset.state = o.State;
      cell(tr, o.OrderRef); cell(tr, o.Instruction_Ref); cell(tr, o.Quantity + ' × ' + o.Product + ' @ ' + o.Retailer);
      cell(tr, o.State); cell(tr, history.join(' → '), 'muted'); cell(tr, time(o.UpdatedAt));
      body.appendChild(tr);
    }
    $('orders').replaceWith(body);
    $('orders-count').textContent = '(' + orders.size + ')';
  }

  function renderEvents() {
    const body = document.createElement('tbody');
    body.id = 'events';
    for (const e of events) {
      const tr = document.createElement('tr');
      tr.dataset.kind = e.Kind;
      tr.dataset.id = e.Ack ? e.Ack.ID : '';
      cell(tr, time(e.At)); cell(tr, e.Kind); cell(tr, e.DeviceId || e.AccountId || '');
      cell(tr, e.Ack ? e.Ack.ID : ''); cell(tr, e.Ack ? e.Ack.Status : '', 'muted');
      body.appendChild(tr);
    }
    $('events').replaceWith(body);
  }

  const COLORS = ['#3b7dd8', '#1f8f4e', '#d9822b', '#b83232', '#7b4bd8', '#2aa1a1', '#777'];
  function renderRate() {
    const canvas = $('rate');
    const ctx = canvas.getContext('2d');
    const now = Math.floor(Date.now() / 1000);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    let max = 1;
    for (const byId of rate.values()) {
      for (const [s, n] of byId) { if (s < now - RATE_WINDOW_S) byId.delete(s); else max = Math.max(max, n); }
    }
    const legend = $('rate-legend');
    legend.textContent = '';
    let i = 0;
    for (const [id, byId] of [...rate.entries()].sort((a, b) => a[0] - b[0])) {
      const color = COLORS[i++ % COLORS.length];
      ctx.strokeStyle = color;
      ctx.beginPath();
      for (let x = 0; x <= RATE_WINDOW_S; x++) {
        const n = byId.get(now - RATE_WINDOW_S + x) || 0;
        const px = x * canvas.width / RATE_WINDOW_S;
        const py = canvas.height - 2 - n * (canvas.height - 4) / max;
        if (x === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      }
      ctx.stroke();
      const span = document.createElement('span');
      span.style.color = color;
      span.textContent = 'ID ' + id;
      legend.appendChild(span);
    }
  }

  function render() {
    if (dirty) {
      dirty = false;
      renderDevices(); renderInventory(); renderOrders(); renderEvents();
    }
    renderRate();
  }

  function connect(user, password) {
    if (client) client.end(true);
    // Retained state is re-read on every connect: start each session clean.
    devices.clear(); inventory.clear(); orders.clear(); dirty = true;
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/mqtt';
    setConnection('connecting', 'connecting…');
    client = mqtt.connect(url, {
      clientId: 'ops-dashboard-' + Math.random().toString(16).slice(2, 10),
      username: user, password: password, protocolVersion: 5, clean: true, reconnectPeriod: 1000, connectTimeout: 5000,
    });
    client.on('connect', () => {
      setConnection('connected', 'connected');
      client.subscribe(OPS + '#', { qos: 1 }, (err, granted) => {
        if (err || !granted || granted.some((g) => g.qos > 2)) setConnection('error', 'subscription refused');
      });
    });
    client.on('reconnect', () => setConnection('reconnecting', 'reconnecting…'));
    client.on('close', () => { if ($('connection').dataset.state === 'connected') setConnection('reconnecting', 'connection lost, reconnecting…'); });
    client.on('offline', () => setConnection('offline', 'offline'));
    client.on('error', (err) => {
      setConnection('error', 'refused: ' + (err && err.message ? err.message : err));
      // A refused login is final: do not retry it every second (the gateway throttles repeated wrong passwords).
      if (err && (err.code === 134 || err.code === 135 || err.code === 4 || err.code === 5)) client.end(true);
    });
    client.on('message', onMessage);
  }

  $('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    $('board').hidden = false;
    connect($('user').value, $('password').value);
  });
  $('device-filter').addEventListener('input', () => { dirty = true; });
  $('pause').addEventListener('click', () => {
    paused = !paused;
    $('pause').textContent = paused ? 'Resume' : 'Pause';
    $('events-paused').textContent = paused ? 'paused: new events are counted in the chart but not listed' : '';
  });
  setInterval(render, 250);
})();
