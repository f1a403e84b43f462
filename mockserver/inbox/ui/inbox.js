// smartappmock inbox: renders the journal as a thread and keeps it live.
// Everything a client sent is untrusted: it only ever reaches the page through textContent or, for
// an http(s) pic_url the server vetted, an img src. No innerHTML anywhere.
'use strict';
(function () {
  const body = document.body;
  const view = {
    app: body.dataset.app || '',
    openID: body.dataset.openId || '',
    outcome: body.dataset.outcome || '',
    limit: Number(body.dataset.limit) || 200,
    maxReplies: Number(body.dataset.maxReplies) || 5,
  };
  const $ = (id) => document.getElementById(id);
  const thread = $('thread');
  const rows = new Map(); // seq -> li
  let oldest = 0; // smallest seq shown
  let newest = 0; // largest seq seen
  let stream = null;
  // stuck: the thread follows new entries (and late image loads) while the reader is at the bottom.
  let stuck = true;
  // stats is read by the browser tests and the render benchmark.
  const stats = (window.inboxStats = { pages: 0, fetchMs: 0, firstScreenMs: 0, renderMs: 0, rendered: 0, live: 0 });

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null && text !== '') e.textContent = String(text);
    return e;
  }

  function query(extra) {
    const q = new URLSearchParams();
    if (view.app) q.set('app', view.app);
    if (view.openID) q.set('open_id', view.openID);
    if (view.outcome) q.set('outcome', view.outcome);
    for (const [k, v] of Object.entries(extra || {})) q.set(k, String(v));
    return q;
  }

  async function api(method, path, payload) {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', 'X-Smartappmock-Inbox': '1' } };
    if (payload !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(payload);
    }
    const res = await fetch(path, init);
    if (res.status === 401) {
      location.assign('/__admin/ui/login?q=' + encodeURIComponent(location.search.slice(1)));
      throw new Error('logged out');
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || res.status + ' ' + res.statusText);
    return data;
  }

  function codeText(it) {
    if (it.layer === 'oauth') return it.oauth_error ? 'error ' + it.oauth_error : 'token issued';
    return it.code_name + ' ' + it.code;
  }

  function picture(it) {
    const fig = el('figure', 'pic');
    const failed = (why) => {
      fig.replaceChildren(el('div', 'pic-failed', why), el('figcaption', 'url', it.pic_url));
      fig.classList.add('failed');
    };
    if (it.image_url && /^https?:\/\//i.test(it.image_url)) {
      const img = el('img');
      img.alt = 'image message';
      img.loading = 'lazy';
      img.decoding = 'async';
      img.referrerPolicy = 'no-referrer';
      img.addEventListener('error', () => failed('image did not load'), { once: true });
      img.addEventListener('load', follow, { once: true });
      img.src = it.image_url;
      fig.append(img, el('figcaption', 'url', it.pic_url));
    } else {
      failed(it.pic_url ? 'not an http(s) image link' : 'no pic_url');
    }
    return fig;
  }

  function render(it) {
    if (it.push) return renderPush(it); // the conversation: a user's message or a push attempt
    const li = el('li', 'entry ' + (it.ok ? 'ok' : 'fail'));
    li.dataset.seq = it.seq;
    li.dataset.code = it.layer === 'oauth' ? it.oauth_error || 'ok' : it.code;
    li.dataset.layer = it.layer;
    const meta = el('div', 'meta');
    meta.append(el('time', '', it.app_time));
    if (!view.app && it.app) meta.append(el('span', 'app', 'app ' + it.app));
    if (!view.openID && it.open_id) meta.append(el('span', 'who', it.open_id));
    li.append(meta);
    if (it.endpoint === 'send' || it.endpoint === 'sendbytp') {
      li.classList.add('send');
      const bubble = el('div', 'bubble');
      if (it.msg_type === 'image') {
        li.dataset.kind = 'image';
        bubble.append(picture(it));
      } else {
        li.dataset.kind = 'text';
        if (it.msg_type && it.msg_type !== 'text') bubble.append(el('div', 'muted', 'msg_type ' + it.msg_type));
        bubble.append(el('p', 'text', it.content));
      }
      li.append(bubble);
    } else {
      li.classList.add('system');
      li.dataset.kind = it.endpoint;
      const what = it.endpoint === 'token' ? 'token request'
        : it.endpoint === 'subscription' ? 'consent to a subscribe message' : it.method + ' ' + it.path;
      li.append(el('div', 'bubble', what));
      if (it.detail) li.append(el('div', 'detail', it.detail));
    }
    const status = el('div', 'status');
    status.append(el('span', 'code', (it.ok ? '✓ ' : '✗ ') + codeText(it)));
    if (it.message) status.append(el('span', 'msg', it.message));
    li.append(status);
    if (!it.ok && it.reason) li.append(el('div', 'reason', it.reason));
    if (it.rule && !(it.reason || '').includes(it.rule)) li.append(el('div', 'rule', 'forced by ' + it.rule));
    if (it.fault) {
      li.classList.add('faulted');
      li.dataset.faultPhase = it.fault_phase || '';
      const where = it.fault_phase === 'before' ? 'before the service: not delivered, nothing counted'
        : it.fault_phase === 'after' ? 'after the service: delivered and counted, the answer was lost' : '';
      li.append(el('div', 'fault', '⚡ fault ' + it.fault + (where ? ' — ' + where : '')));
    }
    if (it.warnings && it.warnings.length) {
      li.classList.add('warned');
      meta.append(el('span', 'warn-badge', '⚠ ' + it.warnings.length));
      // The sentence is said once per app, in the panel above the thread, with a count; the
      // message itself names only the kinds (the sentence is its title).
      const list = el('ul', 'warnings');
      list.setAttribute('aria-label', 'would fail against Baidu');
      for (const w of it.warnings) {
        const item = el('li', 'warning', '⚠ ' + w.kind);
        item.dataset.kind = w.kind;
        item.title = w.message;
        list.append(item);
        noteWarning(it.app, w);
      }
      li.append(list);
    }
    return li;
  }

  // warned holds, per app and kind, the panel line and how many entries shown carry the warning.
  const warned = new Map(); // app + '\n' + kind -> { li, n }
  function noteWarning(app, w) {
    const key = app + '\n' + w.kind;
    let v = warned.get(key);
    if (!v) {
      v = { li: el('li', 'warning'), n: 0 };
      v.li.dataset.app = app;
      v.li.dataset.kind = w.kind;
      warned.set(key, v);
      $('warned').append(v.li);
      $('warned').hidden = false;
    }
    v.n++;
    v.li.textContent = '⚠ ' + (view.app ? '' : 'app ' + app + ': ') + w.message + ' (×' + v.n + ')';
  }
  function clearWarnings() {
    warned.clear();
    $('warned').replaceChildren();
    $('warned').hidden = true;
  }

  function atBottom() {
    return thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
  }

  // follow scrolls to the newest entry if the reader has not scrolled away; sizes settle over a few
  // frames (entries off screen are laid out lazily), so it tries again on the next frames.
  function follow() {
    if (!stuck) return;
    let frames = 3;
    const step = () => {
      thread.scrollTop = thread.scrollHeight;
      if (--frames > 0) requestAnimationFrame(step);
    };
    step();
  }
  thread.addEventListener('scroll', () => {
    stuck = atBottom();
  }, { passive: true });

  function counted() {
    $('count').textContent = rows.size + ' shown' + (view.openID ? ' for ' + view.openID : '');
    $('empty').hidden = rows.size > 0;
    const raw = query({ limit: Math.max(rows.size, 1) });
    $('raw').href = '/__admin/requests?' + raw.toString();
  }

  // loadPage fetches the page before the oldest entry shown (or the newest page) and renders it in
  // chunks, newest first, each above the last, yielding to the browser in between: the screen the
  // reader sees comes first, and a page of thousands never freezes the tab.
  const CHUNK = 400;
  let loading = false;
  async function loadPage() {
    if (loading) return;
    loading = true;
    $('older').disabled = true;
    try {
      const t0 = performance.now();
      const q = query({ limit: view.limit });
      if (oldest) q.set('before', oldest);
      const data = await api('GET', '/__admin/ui/api/entries?' + q.toString());
      const t1 = performance.now();
      const items = data.entries.filter((it) => !rows.has(it.seq)); // oldest first
      const firstPage = stats.pages === 0;
      let above = thread.firstChild; // each chunk goes above this node
      for (let end = items.length; end > 0; ) {
        const start = Math.max(0, end - CHUNK);
        const frag = document.createDocumentFragment();
        let top = null;
        for (let i = start; i < end; i++) {
          const li = render(items[i]);
          rows.set(items[i].seq, li);
          frag.append(li);
          top = top || li;
        }
        const keep = thread.scrollHeight - thread.scrollTop;
        thread.insertBefore(frag, above);
        above = top;
        if (firstPage) follow();
        else thread.scrollTop = thread.scrollHeight - keep;
        if (end === items.length) {
          void thread.scrollHeight; // layout now, so that the time includes it
          stats.firstScreenMs = performance.now() - t1;
        }
        end = start;
        if (end > 0) await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
      }
      if (items.length) {
        oldest = oldest ? Math.min(oldest, items[0].seq) : items[0].seq;
        newest = Math.max(newest, items[items.length - 1].seq);
      }
      void thread.scrollHeight;
      stats.pages++;
      stats.fetchMs = t1 - t0;
      stats.renderMs = performance.now() - t1;
      stats.rendered = items.length;
      $('older').hidden = !data.more;
      counted();
    } finally {
      loading = false;
      $('older').disabled = false;
    }
  }

  // insert places a live entry by sequence number (requests can finish out of order).
  function insert(it) {
    const li = render(it);
    rows.set(it.seq, li);
    let next = null;
    for (let n = thread.lastElementChild; n && Number(n.dataset.seq) > it.seq; n = n.previousElementSibling) next = n;
    thread.insertBefore(li, next);
    if (it.seq > newest) newest = it.seq;
    if (!oldest) oldest = it.seq;
    li.classList.add('new');
    // A long session under load keeps the page light: past the cap, the oldest rows go (Load older
    // brings them back).
    const cap = Math.max(view.limit, 2000);
    while (rows.size > cap && thread.firstElementChild) {
      const gone = thread.firstElementChild;
      rows.delete(Number(gone.dataset.seq));
      gone.remove();
      oldest = Number(thread.firstElementChild.dataset.seq);
      $('older').hidden = false;
    }
    follow();
    stats.live++;
    counted();
  }

  let stateTimer = 0;
  function refreshSoon() {
    clearTimeout(stateTimer);
    stateTimer = setTimeout(refreshState, 150);
  }

  function connect() {
    if (stream) stream.close();
    stream = new EventSource('/__admin/ui/events?' + query({ after: newest }).toString());
    stream.addEventListener('open', () => {
      $('live').textContent = '● live';
      body.dataset.live = '1';
    });
    stream.addEventListener('error', () => {
      $('live').textContent = 'reconnecting…';
      body.dataset.live = '0';
    });
    stream.addEventListener('skipped', (ev) => {
      // More entries came than the live view shows (32 a second): a reload shows them all.
      $('live').textContent = '● live (' + JSON.parse(ev.data).skipped + ' skipped: reload to see them)';
    });
    stream.addEventListener('entry', (ev) => {
      const it = JSON.parse(ev.data);
      if (view.app) refreshSoon();
      if (it.match && !rows.has(it.seq)) insert(it);
    });
  }

  function renderState(st) {
    $('clock').textContent = st.clock + (st.ahead ? ' (' + st.ahead + ' ahead of the server)' : '');
    $('capability').textContent = st.capability ? 'on' : 'off: sends answer errno 90002';
    body.dataset.capability = st.capability ? 'on' : 'off';
    $('journal').textContent = st.held + ' entries held' + (st.dropped ? ', ' + st.dropped + ' dropped' : '');
    $('policy').textContent = st.policy;
    const list = $('users');
    const known = $('known-users');
    const items = [];
    const options = [];
    let mine = null;
    for (const u of st.users) {
      const li = el('li', u.open === false && u.replies_left === 0 ? 'user closed' : 'user');
      const a = el('a', '', u.open_id);
      a.href = '/__admin/ui?' + new URLSearchParams({ app: view.app, open_id: u.open_id }).toString();
      if (u.open_id === view.openID) {
        a.setAttribute('aria-current', 'page');
        mine = u;
      }
      li.append(a, el('small', 'last', u.last ? 'last ' + u.last : ''), el('small', 'win', u.window));
      const counts = u.sends ? u.sends + ' sent' + (u.failed ? ', ' + u.failed + ' failed' : '') : 'no send yet';
      li.append(el('small', 'muted', counts));
      if (u.account) {
        // A user the fake issued: a Baidu account or a guest, and how often they logged in.
        li.dataset.account = u.account;
        li.append(el('small', 'account', (u.account === 'guest' ? 'guest' : 'Baidu account') + (u.logins ? ', ' + u.logins + ' login' + (u.logins > 1 ? 's' : '') : ', not logged in')));
      }
      items.push(li);
      const o = el('option');
      o.value = u.open_id;
      options.push(o);
    }
    if (!items.length) items.push(el('li', 'muted', 'no user yet'));
    list.replaceChildren(...items);
    known.replaceChildren(...options);
    const more = $('more-users');
    more.hidden = !st.more_users;
    more.textContent = st.more_users ? st.more_users + ' more: filter by open_id' : '';
    const win = $('window');
    if (win) {
      win.textContent = mine ? mine.window : st.no_window;
      body.dataset.repliesLeft = mine ? mine.replies_left : 0;
    }
    body.dataset.stateVersion = String(Number(body.dataset.stateVersion || 0) + 1);
  }

  async function refreshState() {
    if (!view.app) return;
    try {
      renderState(await api('GET', '/__admin/ui/api/state?app=' + encodeURIComponent(view.app)));
    } catch (e) {
      $('act-status').textContent = 'state: ' + e.message;
    }
  }

  async function act(label, method, path, payload, after) {
    const out = $('act-status');
    out.textContent = label + '…';
    try {
      await api(method, '/__admin/apps/' + encodeURIComponent(view.app) + path, payload);
      out.textContent = label + ': done';
      if (after) await after();
      await refreshState();
    } catch (e) {
      out.textContent = label + ': ' + e.message;
    }
  }

  function wireActions() {
    if (!view.app) return;
    $('act-message').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const id = $('act-open-id').value.trim();
      act('User ' + id + ' sent a message', 'POST', '/messages', { open_id: id });
    });
    $('act-clock').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const d = $('act-advance').value.trim();
      act('Clock advanced by ' + d, 'POST', '/clock', { advance: d });
    });
    $('act-capability').addEventListener('click', () => {
      const on = body.dataset.capability !== 'on';
      act('Customer service ' + (on ? 'on' : 'off'), 'PUT', '/capability', { enabled: on });
    });
    $('act-reset').addEventListener('click', () =>
      act('App reset', 'POST', '/reset', undefined, async () => {
        rows.clear();
        thread.replaceChildren();
        clearWarnings();
        oldest = 0;
        stats.pages = 0;
        stuck = true;
        await loadPage();
      }),
    );
  }

  // The conversation: what users write (left, with the delivery of the push to the bot) and the
  // bot's replies (the sends, right). A user's message and its push attempts share a MsgId.
  const deliveries = new Map(); // msg_id -> {state, text}
  const userRows = new Map(); // msg_id -> the user's message li

  function deliveryOf(p) {
    if (p.duplicate) return null; // an extra delivery: the outcome stands
    if (p.acked) return { state: 'delivered', text: '✓ delivered to the bot' + (p.attempt > 1 ? ' after ' + p.attempt + ' attempts' : '') };
    if (p.verdict === 'canceled') return { state: 'pending', text: '… cut short (a replica stopped): the push stays in the outbox for another replica' };
    const why = p.status ? 'HTTP ' + p.status + (p.body ? ' "' + p.body.slice(0, 40) + '"' : '') : 'no answer';
    if (p.attempt >= p.attempts) return { state: 'failed', text: '✗ not delivered: ' + p.attempts + ' attempts failed (last: ' + why + ')' };
    return { state: 'retrying', text: '… attempt ' + p.attempt + ' of ' + p.attempts + ' failed (' + why + '), retrying' };
  }

  function showDelivery(li, d) {
    li.dataset.delivery = d.state;
    li.querySelector('.delivery').textContent = d.text;
  }

  function renderPush(it) {
    const p = it.push;
    const li = el('li', 'entry conv ' + (it.ok ? 'ok' : 'fail'));
    li.dataset.seq = it.seq;
    li.dataset.kind = it.endpoint;
    li.dataset.msgId = p.msg_id;
    const meta = el('div', 'meta');
    meta.append(el('time', '', it.app_time));
    if (!view.app && it.app) meta.append(el('span', 'app', 'app ' + it.app));
    if (!view.openID && it.open_id) meta.append(el('span', 'who', it.open_id));
    li.append(meta);
    if (it.endpoint === 'user_message') {
      li.classList.add('user');
      const bubble = el('div', 'bubble');
      if (it.msg_type === 'image') bubble.append(picture(it));
      else bubble.append(el('p', 'text', it.content));
      li.append(bubble, el('div', 'delivery'));
      if (!p.pushed) {
        showDelivery(li, { state: 'none', text: 'not pushed: the app has no push configuration (the window is open)' });
      } else {
        userRows.set(p.msg_id, li);
        showDelivery(li, deliveries.get(p.msg_id) || { state: 'pending', text: '… pushing to the bot' });
        li.append(pushActions(p.msg_id));
      }
      return li;
    }
    li.classList.add('attempt');
    const ms = (p.latency_us / 1000).toFixed(1) + ' ms';
    const what = (p.duplicate ? 'duplicate push ' : 'push attempt ' + p.attempt + '/' + p.attempts + ' ') + 'MsgId ' + p.msg_id + ' → ' +
      (p.status ? 'HTTP ' + p.status : 'no answer') + (p.body ? ' "' + p.body.slice(0, 60) + '"' : '') + ', ' + ms;
    li.append(el('div', 'line', (p.acked ? '✓ ' : '✗ ') + what));
    const which = [p.verdict, p.delivery > 1 ? 'delivery ' + p.delivery : '', p.redelivery ? 'redelivery' : '', p.replica ? 'by ' + p.replica : ''];
    li.dataset.verdict = p.verdict || '';
    if (p.redelivery) li.dataset.redelivery = '1';
    if (which.some(Boolean)) li.append(el('div', 'verdict muted', which.filter(Boolean).join(' · ')));
    if (p.request) {
      const req = el('details', 'request');
      req.append(el('summary', '', 'request bytes'), el('pre', 'url', 'POST ' + p.request.url), el('pre', 'body', p.request.body));
      li.append(req);
    }
    if (p.faults) li.append(el('div', 'rule', 'push faults: ' + p.faults));
    if (!p.acked && it.reason) li.append(el('div', 'reason', it.reason));
    const d = deliveryOf(p);
    const prev = deliveries.get(p.msg_id);
    // Attempts may be rendered in any order (pages load newest first): the latest attempt wins.
    if (d && (!prev || !prev.seq || prev.seq < it.seq)) {
      d.seq = it.seq;
      deliveries.set(p.msg_id, d);
      const user = userRows.get(p.msg_id);
      if (user) showDelivery(user, d);
    }
    return li;
  }

  // The delivery log of a push: its attempts are the thread's rows; the user's message links to
  // the log's JSON and sends the push again (same MsgId, same bytes).
  function pushActions(msgID) {
    const box = el('div', 'push-actions');
    const log = el('a', '', 'delivery log');
    log.href = '/__admin/pushes/' + encodeURIComponent(msgID);
    log.target = '_blank';
    log.rel = 'noopener';
    const again = el('button', 'redeliver', 'Redeliver');
    again.type = 'button';
    again.title = 'send this push again: same MsgId, same bytes';
    const out = el('output', 'muted');
    again.addEventListener('click', async () => {
      again.disabled = true;
      out.textContent = 'redelivering…';
      try {
        const ans = await api('POST', '/__admin/pushes/' + encodeURIComponent(msgID) + '/redeliver?wait=false');
        out.textContent = ans.summary;
        body.dataset.redelivered = String(Number(body.dataset.redelivered || 0) + 1);
      } catch (e) {
        out.textContent = 'not redelivered: ' + e.message;
      } finally {
        again.disabled = false;
      }
    });
    box.append(log, ' ', again, ' ', out);
    return box;
  }

  function wireComposer() {
    if (!view.app) return;
    const form = el('form', 'composer');
    form.id = 'composer';
    form.setAttribute('aria-label', 'Write as the user');
    const who = el('input');
    who.id = 'composer-open-id';
    who.placeholder = 'open_id';
    who.required = true;
    who.size = 14;
    who.value = view.openID;
    who.setAttribute('list', 'known-users');
    who.setAttribute('aria-label', 'open_id of the user who writes');
    const kind = el('select');
    kind.id = 'composer-type';
    kind.setAttribute('aria-label', 'message type');
    for (const [v, label] of [['text', 'text'], ['image', 'image link']]) {
      const o = el('option', '', label);
      o.value = v;
      kind.append(o);
    }
    const input = el('input');
    input.id = 'composer-text';
    input.required = true;
    input.placeholder = 'Write as the user…';
    input.setAttribute('aria-label', 'message');
    kind.addEventListener('change', () => {
      input.placeholder = kind.value === 'image' ? 'https://… image link' : 'Write as the user…';
    });
    const send = el('button', '', 'Send as user');
    send.type = 'submit';
    const out = el('output', 'muted');
    out.id = 'composer-status';
    out.setAttribute('aria-live', 'polite');
    form.append(who, kind, input, send, out);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const id = who.value.trim();
      const v = input.value;
      const msg = kind.value === 'image' ? { msg_type: 'image', pic_url: v.trim() } : { msg_type: 'text', content: v };
      out.textContent = 'sending…';
      send.disabled = true;
      try {
        const ans = await api('POST', '/__admin/apps/' + encodeURIComponent(view.app) + '/users/' + encodeURIComponent(id) + '/messages', msg);
        out.textContent = ans.summary;
        body.dataset.composed = String(Number(body.dataset.composed || 0) + 1);
        input.value = '';
        await refreshState();
      } catch (e) {
        out.textContent = 'not sent: ' + e.message;
      } finally {
        send.disabled = false;
      }
    });
    const after = $('empty') || thread;
    after.after(form);
  }

  $('older').addEventListener('click', () => loadPage().catch((e) => ($('count').textContent = e.message)));
  wireActions();
  wireComposer();
  Promise.all([loadPage(), refreshState()])
    .then(() => {
      stats.readyMs = performance.now();
      body.dataset.ready = '1';
      connect();
    })
    .catch((e) => {
      $('count').textContent = 'could not load the journal: ' + e.message;
    });
})();
