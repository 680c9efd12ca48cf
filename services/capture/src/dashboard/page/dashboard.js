// The lag page's script: renders the monitor's view pushed by /dashboard/events. Every value
// reaches the page through textContent or setAttribute, never as markup: entity names, keys and
// error messages come from writers and failed events.

const SVG = 'http://www.w3.org/2000/svg';
let actions = false;
let latest = null;

/** An element with attributes and children (strings become text nodes). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function number(value, digits = 0) {
  if (value === null || value === undefined) return '—';
  return value.toLocaleString('en', { maximumFractionDigits: digits });
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} m ${Math.round(seconds % 60)} s`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function time(ms) {
  return new Date(ms).toLocaleTimeString('en-GB');
}

/** A table cell; numbers also carry their exact value (`data-value`) for scripts and tests. */
function cell(field, text, numeric, value) {
  return el(
    'td',
    { 'data-field': field, class: numeric ? 'num' : undefined, 'data-value': value },
    text,
  );
}

/** The lag of one sink over the history: entries behind (line) and seconds behind (dashed). */
function chart(sink) {
  const width = 600;
  const height = 120;
  const pad = 24;
  const root = svg('svg', {
    class: 'chart',
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'data-points': sink.chart.length,
  });
  const title = svg('title', {});
  title.textContent = `lag of ${sink.sink} over the last ${Math.round(latest.historyMs / 60000)} minutes`;
  root.append(title);
  const points = sink.chart;
  const end = latest.at;
  const start = end - latest.historyMs;
  const maxBehind = Math.max(1, ...points.map((p) => p[1]));
  const maxSeconds = Math.max(1, ...points.map((p) => p[2]));
  const x = (at) => pad + ((at - start) / (end - start)) * (width - 2 * pad);
  const line = (index, max) =>
    points
      .map(
        (p) =>
          `${x(p[0]).toFixed(1)},${(height - pad - (p[index] / max) * (height - 2 * pad)).toFixed(1)}`,
      )
      .join(' ');
  root.append(svg('polyline', { class: 'behind', points: line(1, maxBehind) }));
  root.append(svg('polyline', { class: 'seconds', points: line(2, maxSeconds) }));
  const label = (text, at, y, anchor) => {
    const node = svg('text', { x: at, y, 'text-anchor': anchor });
    node.textContent = text;
    root.append(node);
  };
  label(`${number(maxBehind)} entries`, pad, 12, 'start');
  label(`${duration(maxSeconds)} (dashed)`, width - pad, 12, 'end');
  label(time(start), pad, height - 6, 'start');
  label(time(end), width - pad, height - 6, 'end');
  return root;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message ?? `HTTP ${response.status}`);
  return answer;
}

/**
 * The outcome of each request made from this page, by quarantined key: rows are drawn again at
 * every sample, the outcome must outlive the row it was asked from.
 */
const outcomes = new Map();

function outcome(id) {
  const done = outcomes.get(id);
  if (!done) return null;
  return el(
    'span',
    { class: done.ok ? undefined : 'error', 'data-result': done.ok ? 'ok' : 'error' },
    ` ${done.text}`,
  );
}

function quarantineRow(p, q) {
  const actionsCell = el('td');
  const id = JSON.stringify([p.sink, p.entity, p.partition, q.key]);
  if (actions) {
    for (const action of ['redrive', 'skip']) {
      const button = el(
        'button',
        { type: 'button', 'data-action': action },
        action === 'redrive' ? 'Re-drive' : 'Skip',
      );
      button.addEventListener('click', async () => {
        const what = action === 'redrive' ? 're-drive' : 'skip the failed event of';
        if (!window.confirm(`${what} ${p.entity} key “${q.key}” in sink ${p.sink}?`)) return;
        button.disabled = true;
        try {
          await post(`/dashboard/quarantine/${action}`, {
            sink: p.sink,
            entity: p.entity,
            partition: p.partition,
            key: q.key,
          });
          outcomes.set(id, { ok: true, text: `${action} requested` });
        } catch (err) {
          outcomes.set(id, { ok: false, text: err.message });
        }
        actionsCell.querySelector('[data-result]')?.remove();
        actionsCell.append(outcome(id));
      });
      actionsCell.append(button);
    }
    const done = outcome(id);
    if (done) actionsCell.append(done);
  }
  return el(
    'tr',
    { class: 'quarantine', 'data-key': q.key },
    el('td', { colspan: 2 }, `quarantined key ${q.key}`),
    el(
      'td',
      { colspan: 9, 'data-field': 'error' },
      q.error,
      q.request ? ` (${q.request} requested)` : '',
    ),
    actionsCell,
  );
}

function sinkSection(sink) {
  const partitions = latest.partitions.filter((p) => p.sink === sink.sink);
  const instances = latest.instances.filter((i) => i.sink === sink.sink && i.live);
  const summary = el(
    'p',
    { class: 'summary' },
    ...Object.entries(sink.states)
      .filter(([, n]) => n > 0)
      .map(([state, n]) => el('span', { class: `state state-${state}` }, `${n} ${state}`)),
    el('span', { 'data-field': 'dead-letters' }, `dead letters: ${number(sink.deadLetters)}`),
    el('span', { 'data-field': 'instances' }, `live instances: ${instances.length}`),
  );
  const body = el('tbody');
  for (const p of partitions) {
    body.append(
      el(
        'tr',
        {
          'data-sink': p.sink,
          'data-entity': p.entity,
          'data-partition': p.partition,
          'data-state': p.state,
        },
        cell('entity', p.entity),
        cell('partition', String(p.partition), true),
        cell('node', p.node ?? 'unknown'),
        el(
          'td',
          { 'data-field': 'state' },
          el('span', { class: `state state-${p.state}` }, p.state),
        ),
        cell('applied', p.applied),
        cell(
          'behind',
          p.behind === null ? 'unknown' : number(p.behind),
          true,
          p.behind ?? 'unknown',
        ),
        cell('seconds', duration(p.secondsBehind), true, p.secondsBehind),
        cell('pending', number(p.pending), true, p.pending),
        cell('rate', p.applyRate === null ? '—' : `${number(p.applyRate, 1)}/s`, true),
        cell(
          'catch-up',
          p.catchUpSeconds === null
            ? p.behind === 0
              ? '0 s'
              : 'not gaining'
            : duration(p.catchUpSeconds),
          true,
        ),
        cell('owner', p.owner ?? 'none'),
        cell('quarantined', number(p.quarantinedCount), true, p.quarantinedCount),
      ),
    );
    for (const q of p.quarantined) body.append(quarantineRow(p, q));
    if (p.quarantinedCount > p.quarantined.length) {
      body.append(
        el(
          'tr',
          { class: 'quarantine' },
          el(
            'td',
            { colspan: 12 },
            `… and ${number(p.quarantinedCount - p.quarantined.length)} more quarantined keys (cdc dead-letters --sink ${p.sink} lists them all)`,
          ),
        ),
      );
    }
  }
  const table = el(
    'table',
    { class: 'partitions' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...[
          'Entity',
          'Partition',
          'Node',
          'State',
          'Applied up to',
          'Entries behind',
          'Seconds behind',
          'Pending',
          'Apply rate',
          'Catch up in',
          'Owner',
          'Quarantined',
        ].map((h) => el('th', {}, h)),
      ),
    ),
    body,
  );
  return el(
    'section',
    { class: 'sink', 'data-sink': sink.sink },
    el('h2', {}, `Sink ${sink.sink}`),
    summary,
    chart(sink),
    table,
  );
}

function render(message) {
  actions = message.actions;
  latest = message.view;
  const status = document.getElementById('status');
  document.getElementById('mode').textContent = actions
    ? 'Operator requests enabled (token accepted).'
    : 'Read-only: operator requests need the capture service to require a token.';
  if (!latest) {
    status.textContent = 'waiting for the first sample…';
    return;
  }
  status.textContent = `sampled at ${time(latest.at)} every ${latest.sampleMs / 1000} s; states judged over ${latest.windowMs / 1000} s`;
  document.body.setAttribute('data-sampled-at', latest.at);

  const warnings = document.getElementById('warnings');
  warnings.replaceChildren();
  if (latest.error)
    warnings.append(el('p', { class: 'error', 'data-warning': 'sample' }, latest.error));
  for (const p of latest.partitions.filter((x) => x.trimmedUnread)) {
    warnings.append(
      el(
        'p',
        {
          class: 'warning',
          'data-warning': 'retention',
          'data-sink': p.sink,
          'data-entity': p.entity,
          'data-partition': p.partition,
        },
        `Retention removed entries of ${p.entity} partition ${p.partition} that sink ${p.sink} had not read: they are lost to it (replay them from a backup of the target or re-capture them).`,
      ),
    );
  }

  const sinks = document.getElementById('sinks');
  sinks.replaceChildren(...latest.sinks.map(sinkSection));
  if (latest.sinks.length === 0) sinks.append(el('p', {}, 'No sink has a consumer group yet.'));

  const instances = document.querySelector('#instances tbody');
  instances.replaceChildren(
    ...latest.instances.map((i) =>
      el(
        'tr',
        { 'data-sink': i.sink, 'data-instance': i.instance, 'data-live': i.live },
        cell('sink', i.sink),
        cell('instance', i.instance),
        cell('live', i.live ? 'yes' : 'no'),
        cell(
          'heartbeat',
          `${time(i.lastHeartbeatAt)} (${duration((latest.at - i.lastHeartbeatAt) / 1000)} ago)`,
        ),
        cell('partitions', i.partitions.join(', ')),
      ),
    ),
  );
  renderReplayChoices();
}

/** Keeps the replay form's choices in step with the sinks and entities on the page. */
function renderReplayChoices() {
  const section = document.getElementById('replay');
  section.hidden = !actions;
  if (!actions) return;
  const form = document.getElementById('replay-form');
  const fill = (select, values, blank) => {
    const current = select.value;
    const wanted = (blank ? [''] : []).concat(values);
    if ([...select.options].map((o) => o.value).join('\n') === wanted.join('\n')) return;
    select.replaceChildren(...wanted.map((v) => el('option', { value: v }, v === '' ? 'all' : v)));
    if (wanted.includes(current)) select.value = current;
  };
  fill(
    form.elements.sink,
    latest.sinks.map((s) => s.sink),
    false,
  );
  fill(form.elements.entity, [...new Set(latest.partitions.map((p) => p.entity))].sort(), true);
}

function replayRequest(form, dryRun) {
  const from = form.elements.from.value;
  return {
    sink: form.elements.sink.value,
    entity: form.elements.entity.value || undefined,
    from,
    at: from === 'start' ? undefined : form.elements.at.value,
    dryRun,
  };
}

function setUpReplay() {
  const form = document.getElementById('replay-form');
  const plan = document.getElementById('replay-plan');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const request = replayRequest(form, true);
    plan.replaceChildren(el('p', {}, 'planning…'));
    try {
      const answer = await post('/dashboard/replay', request);
      const total = answer.partitions.reduce((n, p) => n + p.entries, 0);
      const confirm = el(
        'button',
        { type: 'button', 'data-action': 'confirm-replay' },
        `Confirm: replay ${total} entries`,
      );
      confirm.addEventListener('click', async () => {
        confirm.disabled = true;
        try {
          await post('/dashboard/replay', { ...request, dryRun: false });
          plan.append(
            el(
              'p',
              { 'data-result': 'ok' },
              'Replay requested: the instance that owns each partition carries it out between two batches.',
            ),
          );
        } catch (err) {
          plan.append(el('p', { class: 'error', 'data-result': 'error' }, err.message));
        }
      });
      plan.replaceChildren(
        el(
          'table',
          { 'data-plan': 'replay' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', {}, 'Entity'),
              el('th', {}, 'Partition'),
              el('th', {}, 'After id'),
              el('th', {}, 'Entries to read again'),
            ),
          ),
          el(
            'tbody',
            {},
            ...answer.partitions.map((p) =>
              el(
                'tr',
                {},
                cell('entity', p.entity),
                cell('partition', String(p.partition), true),
                cell('after', p.after),
                cell('entries', number(p.entries), true),
              ),
            ),
          ),
        ),
        confirm,
      );
    } catch (err) {
      plan.replaceChildren(el('p', { class: 'error', 'data-result': 'error' }, err.message));
    }
  });
}

function connect() {
  const events = new EventSource('/dashboard/events');
  events.addEventListener('view', (event) => render(JSON.parse(event.data)));
  events.addEventListener('error', () => {
    document.getElementById('status').textContent = 'connection lost; reconnecting…';
  });
}

setUpReplay();
connect();
