// Luffy Ingest operator console: one ES module, no build step, no third-party code.
//
// Safety model (docs/CONSOLE.md): every string that comes from the API is attacker-controlled
// (log records are written by anyone holding an ingest token). The page therefore builds its DOM
// only with createElement/createElementNS, textContent and setAttribute on a fixed list of
// attribute names; it never assigns HTML (no innerHTML, insertAdjacentHTML, document.write) and
// never evaluates strings. The server's Content-Security-Policy forbids inline script and style,
// so a mistake here still could not run a payload.
//
// The bearer token lives in sessionStorage (this tab only) and is sent as an Authorization
// header; there are no cookies, so there is no CSRF surface.

const TOKEN_KEY = 'luffy.console.token';
const SVG_NS = 'http://www.w3.org/2000/svg';
const app = document.getElementById('app');

// ------------------------------------------------------------------ DOM helpers

// Attribute names the page may set; a value never becomes markup, and `href` values are built
// by the page itself (hash routes), never taken from the API.
const ATTRS = new Set(['class', 'href', 'type', 'name', 'value', 'placeholder', 'title', 'id',
  'for', 'list', 'min', 'max', 'step', 'autocomplete', 'role', 'aria-label', 'colspan',
  'data-testid', 'data-id', 'data-page', 'open', 'spellcheck']);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    } else if (k === 'text') {
      node.textContent = String(v);
    } else if (k === 'checked' || k === 'disabled' || k === 'hidden') {
      node[k] = Boolean(v);
    } else if (ATTRS.has(k)) {
      node.setAttribute(k, v === true ? '' : String(v));
    } else {
      throw new Error('attribute not allowed: ' + k);
    }
  }
}

function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function str(v) {
  return v === undefined || v === null ? '' : String(v);
}

function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function fmtNum(v) {
  const n = num(v);
  return n === null ? '' : n.toLocaleString('en-US', {maximumFractionDigits: 2});
}

function fmtBytes(v) {
  const n = num(v);
  if (n === null) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = n, i = 0;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
  return (i === 0 ? String(x) : x.toFixed(1)) + ' ' + units[i];
}

// "3 min ago" for an ISO time; the exact time goes into the element's title.
function relTime(iso) {
  const t = Date.parse(str(iso));
  if (Number.isNaN(t)) return '';
  const s = Math.round((Date.now() - t) / 1000);
  const abs = Math.abs(s);
  const unit = abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.floor(abs / 60), 'min']
    : abs < 86400 ? [Math.floor(abs / 3600), 'h'] : [Math.floor(abs / 86400), 'd'];
  return s >= 0 ? unit[0] + ' ' + unit[1] + ' ago' : 'in ' + unit[0] + ' ' + unit[1];
}

function timeCell(iso) {
  return el('time', {title: str(iso), class: 'rel'}, relTime(iso));
}

function badge(text, kind) {
  return el('span', {class: 'badge badge-' + kind, 'data-testid': 'badge-' + kind}, text);
}

function notice(text, kind) {
  return el('p', {class: 'notice notice-' + (kind || 'info'), role: 'status'}, text);
}

// ------------------------------------------------------------------ API

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

let flash = '';

// Forgets the token and shows the sign-in form in place: the URL keeps the view, so signing in
// again (or opening a shared link before signing in) lands where the user was.
function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  flash = message || '';
  render();
}

// One API call. Answers {status, ok, data, message}; status 0 is a network failure. A 401 signs
// the tab out and returns to the sign-in page with the server's message.
async function api(method, path, body) {
  const headers = {Accept: 'application/json'};
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  const init = {method, headers, credentials: 'omit', cache: 'no-store', redirect: 'error'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    return {status: 0, ok: false, data: null, message: 'network error: ' + str(e && e.message)};
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  const message = data && typeof data === 'object' && data.message ? str(data.message)
    : 'HTTP ' + res.status;
  if (res.status === 401) {
    signOut('Signed out: ' + message);
  }
  return {status: res.status, ok: res.ok, data, message};
}

// The text a panel shows for a failed call, or '' when it worked.
function failure(r, what) {
  if (r.ok) return '';
  // A route the server does not have (an older or newer server): the router's own 404.
  if (r.status === 404 && (!r.data || /^no route /.test(str(r.data.message)))) {
    return what + ' is not available on this server.';
  }
  if (r.status === 403) {
    // Admin routes answer 403 to a token without the admin scope.
    if (/admin/i.test(what)) return 'admin token required (' + r.message + ')';
    return 'Not allowed for this token: ' + r.message;
  }
  if (r.status === 0) return r.message;
  return what + ' failed: ' + r.message;
}

// ------------------------------------------------------------------ routing

// The hash is "#/<page>[/<id>][?query]"; the query holds filter state so a link can be shared.
function parseHash() {
  const h = location.hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch (e) { return p; }
  });
  return {parts, params};
}

function hashFor(page, params) {
  const qs = params ? new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null)).toString()
    : '';
  return '#/' + page + (qs ? '?' + qs : '');
}

// Each render bumps the generation; async work started for an older page checks it and stops,
// and the page's timers are cleared.
let generation = 0;
let timers = [];

function current(gen) {
  return gen === generation;
}

function every(ms, fn) {
  timers.push(setInterval(fn, ms));
}

function render() {
  generation++;
  timers.forEach(clearInterval);
  timers = [];
  const {parts, params} = parseHash();
  const page = parts[0] || '';
  const signedIn = token() !== '';
  document.getElementById('signout').hidden = !signedIn;
  document.getElementById('nav').hidden = !signedIn;
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.getAttribute('data-page') === page);
  }
  clear(app);
  if (!signedIn || page === 'signin') {
    document.title = 'Sign in · Luffy Ingest';
    return renderSignIn();
  }
  const gen = generation;
  if (page === 'problems' && parts[1]) return renderProblem(gen, parts[1]);
  if (page === 'agents') return renderAgents(gen, params);
  if (page === 'pipeline') return renderPipeline(gen);
  if (page !== 'problems') {
    location.replace('#/problems');
    return;
  }
  return renderProblems(gen, params);
}

// ------------------------------------------------------------------ sign in

function renderSignIn() {
  const input = el('input', {type: 'password', id: 'token', name: 'token', autocomplete: 'off',
    placeholder: 'bearer token', spellcheck: 'false'});
  const msg = el('p', {class: 'notice notice-error', id: 'signin-message', role: 'alert',
    hidden: !flash}, flash);
  const form = el('form', {class: 'signin', id: 'signin-form'},
    el('h1', {}, 'Sign in'),
    el('p', {class: 'muted'},
      'Paste an API token (auth.tokens in the server configuration). It is kept for this tab ' +
      'only (sessionStorage) and sent as an Authorization header.'),
    el('label', {for: 'token'}, 'Token'), input,
    el('button', {type: 'submit', id: 'signin-button'}, 'Sign in'), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    sessionStorage.setItem(TOKEN_KEY, t);
    // Check the token against a read route before entering; a 401 comes back here.
    const r = await api('GET', '/api/v1/clusters?limit=1');
    if (r.status === 401) return;
    flash = '';
    const page = parseHash().parts[0] || '';
    if (page === '' || page === 'signin') location.hash = '#/problems';
    else render();
  });
  app.appendChild(form);
  input.focus();
}

// ------------------------------------------------------------------ problems

const FILTERS = ['service', 'environment', 'level', 'status', 'language', 'q', 'sort'];
const SORTS = [['last_seen', 'Last seen'], ['count', 'Count'], ['first_seen', 'First seen'],
  ['trend', 'Trend']];

function select(name, options, value) {
  const s = el('select', {name, id: 'f-' + name});
  for (const [v, label] of options) {
    const o = el('option', {value: v}, label);
    if (v === value) o.selected = true;
    s.appendChild(o);
  }
  return s;
}

function datalist(id, values) {
  return el('datalist', {id}, values.map((v) => el('option', {value: v})));
}

function renderProblems(gen, params) {
  document.title = 'Problems · Luffy Ingest';
  const f = {};
  for (const k of FILTERS) f[k] = params.get(k) || '';
  // Page size: ?limit=N in the hash (1-500, the API's bounds), 50 otherwise.
  const lim = Number.parseInt(params.get('limit') || '', 10);
  const limit = Number.isInteger(lim) && lim >= 1 && lim <= 500 ? lim : 50;
  const form = el('form', {class: 'filters', id: 'filters'},
    field('Search', el('input', {type: 'search', name: 'q', id: 'f-q', value: f.q,
      placeholder: 'title, template, culprit, exception'})),
    field('Service', el('input', {type: 'text', name: 'service', id: 'f-service',
      value: f.service})),
    field('Environment', el('input', {type: 'text', name: 'environment', id: 'f-environment',
      value: f.environment, list: 'envs'})),
    field('Level', el('input', {type: 'text', name: 'level', id: 'f-level', value: f.level,
      list: 'levels'})),
    field('Status', select('status', [['', 'any'], ['open', 'open'], ['resolved', 'resolved']],
      f.status)),
    field('Language', el('input', {type: 'text', name: 'language', id: 'f-language',
      value: f.language, list: 'languages'})),
    field('Sort', select('sort', SORTS, f.sort || 'last_seen')),
    el('button', {type: 'submit', id: 'apply'}, 'Apply'),
    el('a', {href: '#/problems', class: 'reset'}, 'Reset'),
    datalist('levels', ['FATAL', 'ERROR', 'WARN', 'INFO']),
    datalist('envs', ['prod', 'staging', 'dev']),
    datalist('languages', ['java', 'python', 'node', 'go', 'dotnet', 'ruby']));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const next = {};
    for (const k of FILTERS) next[k] = form.elements[k].value.trim();
    if (next.sort === 'last_seen') next.sort = '';
    location.hash = hashFor('problems', next);
  });
  const status = el('p', {class: 'muted', id: 'problems-status'}, 'Loading…');
  const tbody = el('tbody', {id: 'problems-body'});
  const table = el('table', {class: 'grid problems', id: 'problems'},
    el('thead', {}, el('tr', {},
      ['Problem', 'Service', 'Level', '#Events', 'Last 24 h', 'First seen', 'Last seen', 'Status']
        .map(th))),
    tbody);
  const more = el('button', {type: 'button', id: 'load-more', hidden: true}, 'Load more');
  app.append(el('h1', {}, 'Problems'), form, status, table, more);

  let shown = 0;
  let cursor = null;
  const load = async () => {
    more.disabled = true;
    const q = new URLSearchParams({limit: String(limit)});
    if (f.service) q.set('service_id', f.service);
    for (const k of ['status', 'environment', 'level', 'language', 'q']) if (f[k]) q.set(k, f[k]);
    if (f.sort) q.set('sort', f.sort);
    if (cursor) q.set('cursor', cursor);
    const r = await api('GET', '/api/v1/clusters?' + q.toString());
    if (!current(gen)) return;
    more.disabled = false;
    if (!r.ok) {
      status.textContent = failure(r, 'The problem list');
      status.className = 'notice notice-error';
      more.hidden = true;
      return;
    }
    const rows = Array.isArray(r.data.clusters) ? r.data.clusters : [];
    // Servers without the filtering parameters ignore them: filter the page here as well (the
    // same rules, so it changes nothing when the server filtered).
    for (const c of rows.filter((c) => matches(c, f))) {
      tbody.appendChild(problemRow(c));
      shown++;
    }
    cursor = r.data.next_cursor === undefined || r.data.next_cursor === null
      ? null : String(r.data.next_cursor);
    more.hidden = cursor === null;
    status.className = 'muted';
    status.textContent = shown === 0 && cursor === null ? 'No problems match.'
      : shown + ' shown' + (cursor === null ? '' : ' · more available');
  };
  more.addEventListener('click', load);
  load();
}

// A header cell; numeric columns (right-aligned like their cells) are marked with a leading '#'.
function th(h) {
  return h.startsWith('#') ? el('th', {class: 'num'}, h.slice(1)) : el('th', {}, h);
}

function field(label, input) {
  return el('label', {class: 'field'}, el('span', {}, label), input);
}

function matches(c, f) {
  const lc = (v) => str(v).toLowerCase();
  if (f.q) {
    const needle = f.q.toLowerCase();
    if (![c.title, c.template, c.culprit, c.exception_type].some((v) => lc(v).includes(needle))) {
      return false;
    }
  }
  if (f.level && c.level !== undefined && lc(c.level) !== lc(f.level)) return false;
  if (f.language && c.language !== undefined && lc(c.language) !== lc(f.language)) return false;
  if (f.status && c.status !== undefined && c.status !== f.status) return false;
  if (f.service && c.service_id !== undefined && c.service_id !== f.service) return false;
  if (f.environment && Array.isArray(c.environments) &&
      !c.environments.some((e) => lc(e) === lc(f.environment))) {
    return false;
  }
  return true;
}

function badges(c) {
  const out = [];
  const list = Array.isArray(c.badges) ? c.badges : [];
  for (const b of ['new', 'regressed', 'spiking']) {
    if (list.includes(b)) out.push(badge(b, b));
  }
  return out;
}

function problemRow(c) {
  const id = str(c.id);
  const title = el('a', {href: '#/problems/' + encodeURIComponent(id), class: 'title'},
    str(c.title) || str(c.template) || '(untitled)');
  const sub = el('div', {class: 'sub'},
    c.exception_type ? el('span', {class: 'exc'}, str(c.exception_type)) : null,
    c.culprit ? el('span', {class: 'culprit'}, str(c.culprit)) : null);
  return el('tr', {'data-id': id, class: 'problem-row'},
    el('td', {class: 'problem'}, title, ' ', badges(c), sub),
    el('td', {}, str(c.service_id), Array.isArray(c.environments) && c.environments.length
      ? el('div', {class: 'sub'}, c.environments.slice(0, 10).map(str).join(', ')) : null),
    el('td', {}, el('span', {class: 'level level-' + levelClass(c.level)}, str(c.level))),
    el('td', {class: 'num'}, el('div', {class: 'count'}, fmtNum(c.count)),
      num(c.trend) !== null && c.trend >= 1
        ? el('div', {class: 'sub trend', title: 'records in the last hour minus the hourly mean ' +
          'of the 23 before'}, '▲ ' + fmtNum(Math.round(c.trend)) + '/h') : null),
    el('td', {}, Array.isArray(c.sparkline) ? sparkline(c.sparkline) : null),
    el('td', {}, timeCell(c.first_seen)),
    el('td', {}, timeCell(c.last_seen)),
    el('td', {}, el('span', {class: 'status status-' + statusClass(c.status)}, str(c.status))));
}

function levelClass(v) {
  const l = str(v).toLowerCase();
  return ['fatal', 'critical', 'error', 'warn', 'warning', 'info', 'debug'].includes(l)
    ? l : 'other';
}

function statusClass(v) {
  return ['open', 'resolved', 'merged'].includes(str(v)) ? str(v) : 'other';
}

// A bar sparkline of integer buckets, oldest first.
function sparkline(values, width = 120, height = 24) {
  const vals = values.map((v) => (num(v) === null ? 0 : Math.max(0, v)));
  const max = Math.max(1, ...vals);
  const w = width / Math.max(1, vals.length);
  const total = vals.reduce((a, b) => a + b, 0);
  const s = svg('svg', {class: 'spark', width, height, viewBox: `0 0 ${width} ${height}`,
    role: 'img', 'aria-label': total + ' records'});
  s.appendChild(svg('title', {}, total + ' records, max ' + max + ' per bucket'));
  vals.forEach((v, i) => {
    if (v <= 0) return;
    const h = Math.max(1, (v / max) * (height - 1));
    s.appendChild(svg('rect', {x: (i * w).toFixed(2), y: (height - h).toFixed(2),
      width: Math.max(1, w - 1).toFixed(2), height: h.toFixed(2)}));
  });
  s.appendChild(svg('line', {x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5,
    class: 'base'}));
  return s;
}

// ------------------------------------------------------------------ problem detail

const LEVEL_NAMES = {0: 'overflow cluster of the service', 1: 'stack frames',
  2: 'exception type and message', 3: 'message template', 4: 'fingerprint rule'};

async function renderProblem(gen, id) {
  document.title = 'Problem · Luffy Ingest';
  const status = el('p', {class: 'muted'}, 'Loading…');
  app.append(el('p', {}, el('a', {href: '#/problems'}, '← Problems')), status);
  const r = await api('GET', '/api/v1/clusters/' + encodeURIComponent(id));
  if (!current(gen)) return;
  if (!r.ok) {
    status.className = 'notice notice-error';
    status.textContent = r.status === 404 ? 'No problem ' + id + ' (or not one of your services).'
      : failure(r, 'The problem');
    return;
  }
  status.remove();
  const c = r.data;
  document.title = str(c.title).slice(0, 80) + ' · Luffy Ingest';
  if (c.status === 'merged') {
    app.append(el('h1', {id: 'problem-title'}, str(c.title)),
      notice('This problem was merged into another one.', 'info'),
      el('a', {href: '#/problems/' + encodeURIComponent(str(c.merged_into))},
        'Open ' + str(c.merged_into)));
    return;
  }
  const result = el('p', {id: 'action-result', role: 'status', hidden: true});
  const show = (ok, text) => {
    result.hidden = false;
    result.className = 'notice notice-' + (ok ? 'ok' : 'error');
    result.textContent = text;
  };
  const actions = el('div', {class: 'actions'});
  // Resolve and Reopen: the same call on another route, the server's answer shown either way.
  const statusAction = (route, label, done) => el('button', {type: 'button', id: route,
    on: {click: async (ev) => {
      ev.target.disabled = true;
      const a = await api('POST', '/api/v1/clusters/' + encodeURIComponent(id) + '/' + route);
      if (!current(gen)) return;
      if (a.ok) {
        show(true, done);
        setTimeout(() => { if (current(gen)) render(); }, 800);
      } else {
        ev.target.disabled = false;
        show(false, failure(a, label));
      }
    }}}, label);
  if (c.status !== 'resolved') {
    actions.appendChild(statusAction('resolve', 'Resolve',
      'Resolved. The next record of this problem reopens it as a regression.'));
  } else {
    actions.appendChild(statusAction('reopen', 'Reopen', 'Reopened.'));
    actions.appendChild(el('span', {class: 'muted'},
      'Resolved: the next record of this problem reopens it.'));
  }
  const into = el('input', {type: 'text', id: 'merge-into', placeholder: 'target problem id',
    spellcheck: 'false'});
  const mergeForm = el('form', {class: 'merge', id: 'merge-form'}, into,
    el('button', {type: 'submit', id: 'merge'}, 'Merge into…'));
  mergeForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const target = into.value.trim();
    if (!target) {
      show(false, 'Enter the id of the problem to merge this one into.');
      return;
    }
    const a = await api('POST', '/api/v1/clusters/' + encodeURIComponent(id) + '/merge',
      {into: target});
    if (!current(gen)) return;
    if (a.ok) {
      show(true, 'Merged into ' + str(a.data.merged_into) + ' (' + fmtNum(a.data.moved_count) +
        ' records moved).');
      setTimeout(() => {
        if (current(gen)) location.hash = '#/problems/' + encodeURIComponent(str(a.data.merged_into));
      }, 1200);
    } else {
      show(false, failure(a, 'Merge'));
    }
  });
  actions.appendChild(mergeForm);

  const why = c.why && typeof c.why === 'object' ? c.why : null;
  const meta = el('dl', {class: 'meta'},
    dt('Id', el('code', {}, str(c.id))),
    dt('Service', str(c.service_id)),
    dt('Status', el('span', {class: 'status status-' + statusClass(c.status),
      id: 'problem-status'}, str(c.status))),
    dt('Exception type', str(c.exception_type)),
    dt('Culprit', el('code', {}, str(c.culprit))),
    dt('Level', str(c.level)),
    dt('Language', str(c.language)),
    dt('Events', el('span', {id: 'problem-count'}, fmtNum(c.count))),
    dt('First seen', timeCell(c.first_seen), ' ', el('span', {class: 'muted'}, str(c.first_seen))),
    dt('Last seen', timeCell(c.last_seen), ' ', el('span', {class: 'muted'}, str(c.last_seen))),
    dt('Grouped by', 'level ' + str(c.fingerprint_level) + ' — ' +
      (LEVEL_NAMES[c.fingerprint_level] || 'unknown')),
    why && why.summary ? dt('Why', str(why.summary)) : null,
    why && Array.isArray(why.frames) && why.frames.length
      ? dt('Frames', el('ol', {class: 'why-frames'}, why.frames.map((x) => el('li', {},
        el('code', {}, str(x)))))) : null,
    why && why.rule ? dt('Rule', el('code', {}, str(why.rule))) : null,
    dt('Template', el('pre', {class: 'template'}, str((why && why.template) || c.template))),
    dt('Hosts', chips(c.hosts)),
    dt('Environments', chips(c.environments)));

  app.append(
    el('h1', {id: 'problem-title'}, str(c.title) || '(untitled)', ' ', badges(c)),
    actions, result, meta,
    el('h2', {}, 'Events per minute, last 24 h'),
    minuteChart(Array.isArray(c.per_minute) ? c.per_minute : [], c.last_seen),
    el('h2', {}, 'Samples'),
    samples(Array.isArray(c.samples) ? c.samples : []),
    el('h2', {}, 'History'),
    history(c.events));
}

function dt(label, ...value) {
  return [el('dt', {}, label), el('dd', {}, value)];
}

function chips(list) {
  if (!Array.isArray(list) || list.length === 0) return el('span', {class: 'muted'}, 'none');
  return el('span', {class: 'chips'}, list.map((v) => el('span', {class: 'chip'}, str(v))));
}

// Per-minute counts ([{minute:"…Z", count}]) over the 24 h ending at the problem's last minute,
// as an SVG bar/area chart with hour ticks and a hover read-out.
function minuteChart(points, lastSeen) {
  const W = 960, H = 180, L = 44, B = 22, T = 8, R = 24;
  const end = Math.floor((Date.parse(str(lastSeen)) || Date.now()) / 60000);
  const start = end - 24 * 60 + 1;
  const counts = new Map();
  for (const p of points) {
    const m = Math.floor(Date.parse(str(p && p.minute)) / 60000);
    if (Number.isFinite(m) && m >= start && m <= end) counts.set(m, num(p.count) || 0);
  }
  let max = 1;
  for (const v of counts.values()) max = Math.max(max, v);
  const x = (m) => L + ((m - start) / (24 * 60)) * (W - L - R);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  const chart = svg('svg', {class: 'chart', id: 'minute-chart', viewBox: `0 0 ${W} ${H}`,
    preserveAspectRatio: 'none', role: 'img', 'aria-label': 'events per minute'});
  // Grid: every count up to 4, else 0, the middle (a whole number) and the top.
  const ticks = max <= 4 ? [...Array(max + 1).keys()] : [0, Math.round(max / 2), max];
  for (const v of ticks) {
    chart.appendChild(svg('line', {x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid'}));
    chart.appendChild(svg('text', {x: L - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end'},
      fmtNum(v)));
  }
  // Hour ticks every 3 h, labelled with UTC hours.
  for (let m = start; m <= end; m++) {
    if (m % 180 !== 0) continue;
    const d = new Date(m * 60000);
    chart.appendChild(svg('line', {x1: x(m), x2: x(m), y1: T, y2: H - B, class: 'grid'}));
    chart.appendChild(svg('text', {x: x(m), y: H - 6, class: 'axis', 'text-anchor': 'middle'},
      String(d.getUTCHours()).padStart(2, '0') + ':00'));
  }
  const bw = Math.max(1, (W - L - R) / (24 * 60));
  for (const [m, v] of [...counts.entries()].sort((a, b) => a[0] - b[0])) {
    if (v <= 0) continue;
    chart.appendChild(svg('rect', {x: x(m).toFixed(2), y: y(v).toFixed(2), width: bw.toFixed(2),
      height: (H - B - y(v)).toFixed(2), class: 'bar'}));
  }
  const cursorLine = svg('line', {x1: 0, x2: 0, y1: T, y2: H - B, class: 'cursor',
    visibility: 'hidden'});
  chart.appendChild(cursorLine);
  const readout = el('div', {class: 'readout muted', id: 'chart-readout'},
    counts.size === 0 ? 'No events in the last 24 h of this problem.'
      : 'Hover the chart for a minute\'s count (UTC).');
  chart.addEventListener('mousemove', (ev) => {
    const box = chart.getBoundingClientRect();
    const px = ((ev.clientX - box.left) / box.width) * W;
    if (px < L) return;
    const m = Math.min(end, Math.max(start, Math.round(start + ((px - L) / (W - L - R)) * 24 * 60)));
    cursorLine.setAttribute('x1', x(m));
    cursorLine.setAttribute('x2', x(m));
    cursorLine.setAttribute('visibility', 'visible');
    readout.textContent = new Date(m * 60000).toISOString().slice(0, 16) + 'Z: ' +
      (counts.get(m) || 0) + ' events';
  });
  return el('div', {class: 'chart-box'}, chart, readout);
}

const RECORD_FIELDS = ['timestamp', 'date', 'level', 'service_id', 'environment', 'hostname',
  'logger', 'exception_type', 'exception_message', 'file_path'];

// Event time of a stored record, for ordering samples newest first (unknown times last).
function sampleTime(s) {
  const t = Date.parse(str(s && typeof s === 'object' ? s.timestamp || s.date : ''));
  return Number.isNaN(t) ? -Infinity : t;
}

function samples(list) {
  if (list.length === 0) return el('p', {class: 'muted'}, 'No samples stored.');
  const sorted = list.slice().sort((a, b) => sampleTime(b) - sampleTime(a));
  return el('div', {class: 'samples', id: 'samples'}, sorted.map((raw, i) => {
    const s = raw && typeof raw === 'object' ? raw : {message: str(raw)};
    const fields = el('dl', {class: 'meta small'});
    for (const k of RECORD_FIELDS) {
      if (s[k] !== undefined && s[k] !== null && s[k] !== '') append(fields, [dt(k, str(
        typeof s[k] === 'object' ? JSON.stringify(s[k]) : s[k]))]);
    }
    const parts = [fields,
      el('pre', {class: 'message'}, str(s.message !== undefined ? s.message : s.log)),
      stackTrace(s),
      el('details', {}, el('summary', {}, 'Raw record'),
        el('pre', {class: 'raw'}, JSON.stringify(s, null, 2)))];
    // The newest sample open, the others one click away.
    const when = str(s.timestamp || s.date);
    if (i === 0) return el('section', {class: 'sample'}, el('h3', {}, 'Latest stored sample'), parts);
    return el('details', {class: 'sample'},
      el('summary', {}, 'Sample ' + (i + 1) + (when ? ' · ' + when : '') +
        (s.hostname ? ' · ' + str(s.hostname) : '')), parts);
  }));
}

// Frames with in-app ones highlighted; each run of framework frames folded behind a toggle.
function stackTrace(s) {
  if (Array.isArray(s.frames) && s.frames.length > 0) {
    const box = el('div', {class: 'stack'});
    let run = [];
    const flush = () => {
      if (run.length === 0) return;
      if (run.length <= 1) {
        box.appendChild(run[0]);
      } else {
        box.appendChild(el('details', {class: 'folded'},
          el('summary', {}, run.length + ' framework frames'), run));
      }
      run = [];
    };
    for (const f of s.frames) {
      const text = str(f && typeof f === 'object' ? f.text : f);
      const line = el('div', {class: f && f.head ? 'frame head' : f && f.in_app ? 'frame in-app'
        : 'frame'}, text);
      if (f && (f.in_app || f.head)) {
        flush();
        box.appendChild(line);
      } else {
        run.push(line);
      }
    }
    flush();
    return box;
  }
  if (typeof s.stack_trace === 'string' && s.stack_trace) {
    return stackTrace({frames: guessFrames(s.stack_trace)});
  }
  return null;
}

// Servers that do not send parsed frames: split the trace into lines and call a line a framework
// frame when it names a well-known runtime or library location (a display aid only).
const FRAMEWORK = new RegExp('^\\s*(at\\s+)?(java\\.|javax\\.|jdk\\.|sun\\.|com\\.sun\\.|' +
  'org\\.springframework\\.|org\\.apache\\.|org\\.hibernate\\.|io\\.netty\\.|kotlin\\.|' +
  'kotlinx\\.|scala\\.|akka\\.|reactor\\.|System\\.|Microsoft\\.)|node_modules|node:internal|' +
  'site-packages|dist-packages|/usr/lib/|/usr/local/lib/|gems/|runtime/|\\(internal/');

function guessFrames(trace) {
  return trace.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const frame = /^\s*(at |File "|from |#\d|\S+\.go:\d)/.test(line) || /^\s+\S/.test(line);
    return frame ? {text: line, in_app: !FRAMEWORK.test(line)} : {text: line, head: true};
  });
}

const HIDDEN_EVENT_FIELDS = new Set(['type', 'at', 'cluster_id', 'service_id', 'title', 'id']);

function history(events) {
  if (!Array.isArray(events)) {
    return el('p', {class: 'muted', id: 'history'},
      'The event history is not available on this server.');
  }
  if (events.length === 0) return el('p', {class: 'muted', id: 'history'}, 'No events.');
  return el('table', {class: 'grid', id: 'history'},
    el('thead', {}, el('tr', {}, el('th', {}, 'Event'), el('th', {}, 'When'),
      el('th', {}, 'Details'))),
    el('tbody', {}, events.map((e) => {
      // The page already shows the cluster, its service and title; raw clock fields add noise.
      const rest = Object.entries(e || {}).filter(([k]) => !HIDDEN_EVENT_FIELDS.has(k) &&
        !/_(us|ms)$/.test(k))
        .map(([k, v]) => k + '=' + (typeof v === 'object' ? JSON.stringify(v) : str(v)))
        .join('  ');
      return el('tr', {}, el('td', {}, badge(str(e && e.type), 'event')),
        el('td', {class: 'nowrap'}, timeCell(e && e.at)),
        el('td', {class: 'muted'}, rest));
    })));
}

// ------------------------------------------------------------------ agents

function renderAgents(gen, params) {
  document.title = 'Agents · Luffy Ingest';
  const silentOnly = params.get('silent') === 'true';
  const toggle = el('input', {type: 'checkbox', id: 'silent-only', checked: silentOnly});
  toggle.addEventListener('change', () => {
    location.hash = hashFor('agents', {silent: toggle.checked ? 'true' : ''});
  });
  const status = el('p', {class: 'muted', id: 'agents-status'}, 'Loading…');
  const tbody = el('tbody', {id: 'agents-body'});
  const table = el('table', {class: 'grid agents', id: 'agents', hidden: true},
    el('thead', {}, el('tr', {}, ['Agent', 'Services', 'Last seen', '#Records/min', 'Last hour',
      '#Requests', '#Records', '#Duplicates', '#Refused 4xx', '#429 / 503',
      '#Last status', 'Formats'].map(th))),
    tbody);
  const more = el('button', {type: 'button', id: 'agents-more', hidden: true}, 'Load more');
  app.append(el('h1', {}, 'Agents'),
    el('p', {class: 'muted'}, 'One row per sending agent (client address and User-Agent). ',
      el('b', {}, 'Refused 4xx'), ' are chunks Fluent Bit dropped (lost); ', el('b', {}, '429 / 503'),
      ' answers mean the data is waiting in the agent\'s buffer and will be retried. ',
      'Duplicates are records sent again (agent retries).'),
    el('label', {class: 'inline'}, toggle, ' silent agents only'), status, table, more);
  let cursor = null;
  let shown = 0;
  const load = async () => {
    const q = new URLSearchParams({limit: '100'});
    if (silentOnly) q.set('silent', 'true');
    if (cursor) q.set('cursor', cursor);
    const r = await api('GET', '/api/v1/agents?' + q.toString());
    if (!current(gen)) return;
    if (!r.ok) {
      status.className = 'notice notice-error';
      status.id = 'agents-status';
      status.textContent = failure(r, 'The agents list');
      return;
    }
    table.hidden = false;
    const list = Array.isArray(r.data.agents) ? r.data.agents : [];
    for (const a of list) {
      tbody.appendChild(agentRow(a));
      shown++;
    }
    cursor = r.data.next_cursor === undefined || r.data.next_cursor === null
      ? null : String(r.data.next_cursor);
    more.hidden = cursor === null;
    status.className = 'muted';
    status.textContent = shown + ' agents' + (num(r.data.silent_after_seconds) !== null
      ? ' · silent after ' + r.data.silent_after_seconds + ' s without a request' : '');
  };
  more.addEventListener('click', load);
  load();
}

function agentRow(a) {
  const waiting = (num(a.throttled_429) || 0) + (num(a.unavailable_503) || 0);
  const refused = num(a.refused_4xx) || 0;
  const formats = a.formats && typeof a.formats === 'object'
    ? Object.entries(a.formats).filter(([, v]) => num(v)).map(([k, v]) => k + ' ' + fmtNum(v))
      .join(', ') : '';
  const hostnames = Array.isArray(a.hostnames) ? a.hostnames.map(str).join(', ') : '';
  return el('tr', {'data-id': str(a.id), class: a.silent ? 'agent-row silent' : 'agent-row'},
    el('td', {}, el('div', {class: 'title'}, hostnames || str(a.address)),
      el('div', {class: 'sub'}, str(a.address), a.user_agent ? ' · ' + str(a.user_agent) : '')),
    el('td', {}, Array.isArray(a.services) ? a.services.map(str).join(', ') : ''),
    el('td', {}, timeCell(a.last_seen), a.silent ? [' ', badge('silent', 'silent')] : null),
    el('td', {class: 'num'}, fmtNum(a.records_per_minute)),
    el('td', {}, Array.isArray(a.per_minute) ? sparkline(a.per_minute, 90, 20) : null),
    el('td', {class: 'num'}, fmtNum(a.requests)),
    el('td', {class: 'num'}, fmtNum(a.records)),
    el('td', {class: 'num', title: 'records the agent sent again (retries)'}, fmtNum(a.duplicates)),
    el('td', {class: refused > 0 ? 'num refused alert' : 'num refused',
      title: 'requests refused with a non-retryable 4xx: chunks Fluent Bit dropped'},
    refused > 0 ? el('span', {class: 'pill-bad'}, fmtNum(refused)) : fmtNum(refused)),
    el('td', {class: waiting > 0 ? 'num waiting warn' : 'num waiting',
      title: 'answered 429 or 503: the data waits in the agent buffer'},
    fmtNum(a.throttled_429 || 0) + ' / ' + fmtNum(a.unavailable_503 || 0)),
    el('td', {class: 'num'}, str(a.last_status)),
    el('td', {class: 'muted'}, formats));
}

// ------------------------------------------------------------------ pipeline

function renderPipeline(gen) {
  document.title = 'Pipeline · Luffy Ingest';
  const stats = el('div', {class: 'tiles', id: 'pipeline-stats'}, el('p', {class: 'muted'},
    'Loading…'));
  const actors = el('div', {id: 'pipeline-actors'}, el('p', {class: 'muted'}, 'Loading…'));
  const dead = el('div', {id: 'dead-letters'}, el('p', {class: 'muted'}, 'Loading…'));
  app.append(el('h1', {}, 'Pipeline'),
    el('p', {class: 'muted'}, 'Refreshed every 5 s. The ingest rate is computed between two ' +
      'polls.'),
    stats, el('h2', {}, 'Actors and shards'), actors, el('h2', {}, 'Dead letters'), dead);
  let prev = null;
  let memFromGate = null;
  const poll = async () => {
    const [m, a, s] = await Promise.all([api('GET', '/api/v1/ingest/metrics'),
      api('GET', '/api/v1/admin/actors'), api('GET', '/api/v1/admin/shards')]);
    if (!current(gen)) return;
    if (a.ok && a.data && a.data.backpressure && a.data.backpressure.redis_memory) {
      memFromGate = a.data.backpressure.redis_memory.last_depth;
    }
    clear(stats);
    if (!m.ok) {
      stats.appendChild(notice(failure(m, 'The ingest metrics'), 'error'));
    } else {
      const d = m.data;
      const now = performance.now();
      let rate = 'measuring…';
      if (prev && num(d.accepted) !== null && now > prev.at) {
        rate = fmtNum(Math.max(0, (d.accepted - prev.accepted) / ((now - prev.at) / 1000))) +
          ' records/s';
      }
      prev = {at: now, accepted: num(d.accepted) || 0};
      const resp = d.responses && typeof d.responses === 'object' ? d.responses : {};
      append(stats, [
        tile('Ingest rate', rate, 'accepted records per second', 'rate'),
        tile('Accepted', fmtNum(d.accepted), 'records queued in the journal', 'accepted'),
        tile('Duplicates', fmtNum(d.duplicates), 'dropped as agent retries', 'duplicates'),
        tile('Rejected', fmtNum(d.rejected), 'invalid records skipped', 'rejected'),
        tile('Rate-limited', fmtNum(d.rate_limited), 'over a service\'s rate limit',
          'rate-limited'),
        tile('Processing lag', fmtNum(d.processing_lag_seconds) + ' s',
          'p99 ' + fmtNum(d.processing_lag_p99_seconds) + ' s', 'lag'),
        tile('Queue depth', fmtNum(d.queue_depth), 'records inside the pipeline', 'queue'),
        tile('Redis', d.redis_up ? 'up' : 'DOWN', num(d.redis_used_memory_bytes) !== null
          ? fmtBytes(d.redis_used_memory_bytes) + ' used' +
            (num(d.redis_maxmemory_bytes) ? ' of ' + fmtBytes(d.redis_maxmemory_bytes) : '')
          : memFromGate !== null ? 'memory ' + memFromGate + ' % of maxmemory' : '', 'redis'),
        tile('Responses', el('span', {class: 'codes'}, ['202', '400', '401', '403', '413', '429',
          '503'].map((k) => el('span', {class: 'code'}, el('b', {}, k), ' ' +
            fmtNum(resp[k] || 0)))), 'ingest answers by status', 'responses'),
        tile('Clusters created', fmtNum(d.clusters_created), 'since start', 'clusters'),
        tile('Received', fmtBytes(d.bytes_received), fmtNum(d.requests) + ' requests, ' +
          fmtNum(d.in_flight_requests) + ' in flight', 'received'),
        tile('Uptime', fmtNum(Math.round(num(d.uptime_seconds) || 0)) + ' s', '', 'uptime')]);
    }
    clear(actors);
    if (!a.ok) {
      actors.appendChild(notice(failure(a, 'The admin actors view'), 'error'));
    } else {
      const groups = Array.isArray(a.data.groups) ? a.data.groups : [];
      actors.appendChild(el('table', {class: 'grid', id: 'actors-table'},
        el('thead', {}, el('tr', {}, ['Actor group', '#Size', '#Queue depth', '#Restarts',
          '#Processed'].map(th))),
        el('tbody', {}, groups.map((g) => el('tr', {},
          el('td', {}, str(g.name)), el('td', {class: 'num'}, fmtNum(g.size)),
          el('td', {class: 'num'}, fmtNum(g.queue_depth)),
          el('td', {class: num(g.restarts) ? 'num warn' : 'num'}, fmtNum(g.restarts)),
          el('td', {class: 'num'}, fmtNum(g.processed)))))));
      if (s.ok && Array.isArray(s.data.shards)) {
        actors.appendChild(el('table', {class: 'grid', id: 'shards-table'},
          el('thead', {}, el('tr', {}, ['#Shard', 'Owner', '#Journal entries', '#Queue depth',
            '#Lag'].map(th))),
          el('tbody', {}, s.data.shards.map((x) => el('tr', {},
            el('td', {class: 'num'}, str(x.shard)), el('td', {}, str(x.owner) || '—'),
            el('td', {class: 'num'}, fmtNum(x.journal_entries)),
            el('td', {class: 'num'}, fmtNum(x.queue_depth)),
            el('td', {class: 'num'}, num(x.lag_ms) !== null ? fmtNum(x.lag_ms) + ' ms' : ''))))));
      } else if (!m.ok || !Array.isArray(m.data.shard_queue_depth)) {
        // nothing more to show
      } else {
        actors.appendChild(el('p', {class: 'muted'}, 'Queue depth per shard: ' +
          m.data.shard_queue_depth.map((v, i) => i + ':' + fmtNum(v)).join('  ')));
      }
    }
  };
  poll();
  every(5000, poll);
  loadDeadLetters(gen, dead, null);
}

function tile(label, value, hint, key) {
  return el('div', {class: 'tile', 'data-testid': 'tile-' + key},
    el('div', {class: 'tile-label'}, label),
    el('div', {class: 'tile-value'}, value),
    el('div', {class: 'tile-hint muted'}, hint));
}

async function loadDeadLetters(gen, box, cursor) {
  const q = new URLSearchParams({limit: '50'});
  if (cursor) q.set('cursor', cursor);
  const r = await api('GET', '/api/v1/admin/dead_letters?' + q.toString());
  if (!current(gen)) return;
  if (!cursor) clear(box);
  if (!r.ok) {
    box.appendChild(notice(failure(r, 'The dead-letter list (admin)'), 'error'));
    return;
  }
  const list = Array.isArray(r.data.dead_letters) ? r.data.dead_letters : [];
  if (!cursor) {
    box.appendChild(el('p', {class: 'muted', id: 'dead-letters-total'},
      num(r.data.total) === 0 || (list.length === 0 && num(r.data.total) === null)
        ? 'No dead letters: every record reached its place.'
        : fmtNum(r.data.total) + ' entries'));
  }
  if (list.length === 0 && !cursor) return;
  const result = el('p', {role: 'status', hidden: true});
  box.appendChild(result);
  box.appendChild(el('table', {class: 'grid', id: cursor ? undefined : 'dead-letters-table'},
    el('thead', {}, el('tr', {}, ['When', 'Source', 'Reason', 'Service', 'Preview', '']
      .map(th))),
    el('tbody', {}, list.map((d) => {
      const retry = d.retryable ? el('button', {type: 'button', class: 'retry', on: {
        click: async (ev) => {
          ev.target.disabled = true;
          const a = await api('POST', '/api/v1/admin/dead_letters/' +
            encodeURIComponent(str(d.id)) + '/retry');
          if (!current(gen)) return;
          result.hidden = false;
          result.className = 'notice notice-' + (a.ok ? 'ok' : 'error');
          result.textContent = a.ok ? 'Requeued ' + str(d.id) + '.' : failure(a, 'Retry (admin)');
          if (!a.ok) ev.target.disabled = false;
        }}}, 'Retry') : el('span', {class: 'muted'}, 'not retryable');
      return el('tr', {}, el('td', {}, timeCell(d.at)), el('td', {}, str(d.source)),
        el('td', {}, str(d.reason)), el('td', {}, str(d.service_id)),
        el('td', {}, el('pre', {class: 'preview'}, str(d.preview))), el('td', {}, retry));
    }))));
  if (r.data.next_cursor !== undefined && r.data.next_cursor !== null) {
    const more = el('button', {type: 'button'}, 'Load more');
    more.addEventListener('click', () => {
      more.remove();
      loadDeadLetters(gen, box, String(r.data.next_cursor));
    });
    box.appendChild(more);
  }
}

// ------------------------------------------------------------------ start

document.getElementById('signout').addEventListener('click', () => signOut('Signed out.'));
// "/" jumps to the search field (as on most issue lists), unless the user is typing somewhere.
document.addEventListener('keydown', (ev) => {
  const t = ev.target;
  const typing = t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA');
  const search = document.getElementById('f-q');
  if (ev.key === '/' && !typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey && search) {
    ev.preventDefault();
    search.focus();
  }
});
window.addEventListener('hashchange', render);
render();
