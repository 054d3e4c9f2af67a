/*
 * The learner's live dashboard (served by learner/http.ts). Plain browser script, no build step: uPlot is loaded
 * from the package's own dist file. First paint from /history and /status, then live updates from /events
 * (server-sent events): every logged metrics row, and a status snapshot every 2 s.
 */

(() => {
  const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
  /** name -> [[wall, version, value], ...] */
  const history = new Map();
  const charts = [];
  const state = { metricsEvents: 0, statusEvents: 0, redraws: 0 };
  window.__lamer = state;

  /** TensorBoard-style exponential moving average with bias correction (first points are not pulled to 0). */
  function smooth(ys, weight) {
    let last = 0;
    let n = 0;
    return ys.map((y) => {
      if (y === null || !Number.isFinite(y)) return null;
      last = last * weight + (1 - weight) * y;
      n++;
      return last / (1 - weight ** n);
    });
  }

  /** Aligns several [xs, ys] series on the union of their x values (uPlot wants one shared x array). */
  function align(series) {
    const xs = [...new Set(series.flatMap((s) => s.xs))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const cols = series.map((s) => {
      const col = new Array(xs.length).fill(null);
      s.xs.forEach((x, i) => {
        col[index.get(x)] = s.ys[i];
      });
      return col;
    });
    return [xs, ...cols];
  }

  /** Points of one metric against version (x=1) or wall seconds (x=0); versions keep the newest value. */
  function pts(name, x) {
    const h = history.get(name) || [];
    if (x === 1) {
      const byV = new Map();
      for (const p of h) byV.set(p[1], p[2]);
      const xs = [...byV.keys()].sort((a, b) => a - b);
      return { xs, ys: xs.map((v) => byV.get(v)) };
    }
    return { xs: h.map((p) => p[0]), ys: h.map((p) => p[2]) };
  }

  const passNames = (prefix) => [...history.keys()].filter((k) => k.startsWith(prefix)).sort();

  const DEFS = [
    {
      id: 'chart-eval',
      x: 'policy version',
      range: [0, 1],
      series: () => passNames('eval/pass@').map((n) => ({ label: n.slice(5), ...pts(n, 1) })),
    },
    {
      id: 'chart-rollout',
      x: 'policy version',
      range: [0, 1],
      series: () =>
        passNames('rollout/pass@').map((n) => {
          const p = pts(n, 1);
          return { label: n.slice(8) + ' (EMA)', xs: p.xs, ys: smooth(p.ys, 0.8) };
        }),
    },
    {
      id: 'chart-loss',
      x: 'policy version',
      series: () =>
        ['train/loss', 'train/entropy'].map((n) => {
          const p = pts(n, 1);
          return { label: n.slice(6) + ' (EMA)', xs: p.xs, ys: smooth(p.ys, 0.8) };
        }),
    },
    {
      id: 'chart-throughput',
      x: 'wall-clock s',
      time: true,
      series: () => [
        { label: 'trials/s', ...pts('rollout/trials_per_s', 0) },
        {
          label: 'tokens/s ÷ 100',
          ...(() => {
            const p = pts('rollout/tokens_per_s', 0);
            return { xs: p.xs, ys: p.ys.map((y) => y / 100) };
          })(),
        },
      ],
    },
    {
      id: 'chart-lag',
      x: 'policy version',
      series: () => [
        { label: 'mean', ...pts('perf/policy_lag_mean', 1) },
        { label: 'max', ...pts('perf/policy_lag_max', 1) },
      ],
    },
    {
      id: 'chart-idle',
      x: 'wall-clock s',
      range: [0, 1],
      series: () => {
        const wait = history.get('perf/learner_wait_ms') || [];
        const upd = new Map((history.get('perf/update_ms') || []).map((p) => [p[1], p[2]]));
        const learner = wait
          .filter((p) => upd.has(p[1]))
          .map((p) => [p[0], p[2] / Math.max(1e-9, p[2] + upd.get(p[1]))]);
        return [
          { label: 'learner waiting', xs: learner.map((p) => p[0]), ys: learner.map((p) => p[1]) },
          { label: 'actor idle', ...pts('perf/actor_idle_frac', 0) },
        ];
      },
    },
  ];

  function build(def) {
    const el = document.getElementById(def.id);
    const series = def.series();
    const data = align(series);
    const width = Math.max(300, el.clientWidth || 460);
    const opts = {
      width,
      height: 220,
      scales: { x: { time: false }, ...(def.range ? { y: { range: def.range } } : {}) },
      axes: [{ label: def.x }, {}],
      series: [
        { label: def.x },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          spanGaps: true,
          points: { show: data[0].length < 60 },
        })),
      ],
      legend: { live: false },
    };
    el.innerHTML = '';
    const plot = new uPlot(opts, data, el);
    return { def, plot, labels: series.map((s) => s.label).join('|') };
  }

  function render() {
    state.redraws++;
    for (let i = 0; i < DEFS.length; i++) {
      const series = DEFS[i].series();
      const labels = series.map((s) => s.label).join('|');
      if (!charts[i] || charts[i].labels !== labels) {
        if (charts[i]) charts[i].plot.destroy();
        charts[i] = build(DEFS[i]);
      } else {
        charts[i].plot.setData(align(series));
      }
      const el = document.getElementById(DEFS[i].id);
      const data = charts[i].plot.data;
      let n = 0;
      for (let s = 1; s < data.length; s++) for (const y of data[s]) if (y !== null && y !== undefined) n++;
      el.dataset.points = String(n);
    }
  }

  let pending = null;
  function scheduleRender() {
    if (pending) return;
    // At most one redraw a second, none while the tab is hidden (the next visible redraw catches up).
    pending = setTimeout(() => {
      pending = null;
      if (!document.hidden) render();
    }, 1000);
  }

  const fmt = (v, d) => (v === undefined || v === null || !Number.isFinite(v) ? '–' : v.toFixed(d));
  const ago = (s) =>
    s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;

  function text(id, value) {
    document.getElementById(id).textContent = value;
  }

  function showStatus(st) {
    state.statusEvents++;
    text('run-id', st.runId);
    text('phase', st.phase);
    const v = document.getElementById('version');
    v.textContent = `v${st.policyVersion}${st.iterations ? ` / ${st.iterations}` : ''}`;
    v.dataset.version = String(st.policyVersion);
    text('tps', fmt(st.latest['rollout/trials_per_s'], 2));
    text('tokps', fmt(st.latest['rollout/tokens_per_s'], 0));
    text('lag', `${fmt(st.latest['perf/policy_lag_mean'], 2)} / ${fmt(st.latest['perf/policy_lag_max'], 0)}`);
    text('actors-n', String(st.connections));
    text(
      'eval',
      st.lastEval
        ? `v${st.lastEval.version} ` + st.lastEval.pass.map((p, k) => `p@${k + 1} ${(100 * p).toFixed(1)}%`).join(' ')
        : '–',
    );
    text('updated', new Date().toLocaleTimeString());
    const stall = document.getElementById('stall');
    stall.hidden = !st.stall;
    stall.textContent = st.stall ? `STALLED — ${st.stall.message}` : '';
    const body = document.querySelector('#actors tbody');
    body.innerHTML = '';
    for (const a of st.actors) {
      const tr = document.createElement('tr');
      if (!a.connected) tr.className = 'gone';
      const cells = [
        a.actorId,
        a.connected ? 'connected' : `gone ${ago(a.goneSec || 0)}`,
        a.version < 0 ? '–' : `v${a.version}`,
        fmt(a.trialsPerSec, 2),
        `${ago(a.lastSeenSec)} ago`,
        String(a.leased),
        a.outbox === undefined ? '–' : String(a.outbox),
        a.idleFrac === undefined ? '–' : `${Math.round(100 * a.idleFrac)}%`,
      ];
      cells.forEach((c, i) => {
        const td = document.createElement('td');
        td.textContent = c;
        if (i === 1) td.className = 'state';
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    const ul = document.getElementById('warnings');
    ul.innerHTML = '';
    const warnings = [
      ...st.warnings,
      ...st.sinkFailures.map((f) => ({
        at: '',
        message: `metric sink ${f.sink} failed ${f.failures}×: ${f.lastError}`,
      })),
    ];
    if (warnings.length === 0) ul.innerHTML = '<li class="none">none</li>';
    for (const w of warnings.slice(-20).reverse()) {
      const li = document.createElement('li');
      li.textContent = `${w.at ? w.at.slice(11, 19) + ' ' : ''}${w.message}`;
      ul.appendChild(li);
    }
  }

  async function start() {
    const [h, st] = await Promise.all([
      fetch('/history').then((r) => r.json()),
      fetch('/status').then((r) => r.json()),
    ]);
    for (const [k, v] of Object.entries(h)) history.set(k, v);
    showStatus(st);
    render();
    const es = new EventSource('/events');
    es.addEventListener('metrics', (e) => {
      const row = JSON.parse(e.data);
      state.metricsEvents++;
      for (const [k, v] of Object.entries(row.values)) {
        if (!history.has(k)) history.set(k, []);
        history.get(k).push([row.wall, row.version, v]);
      }
      scheduleRender();
    });
    es.addEventListener('status', (e) => showStatus(JSON.parse(e.data)));
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) render();
    });
    window.addEventListener('resize', () => {
      charts.forEach((c) => c.plot.destroy());
      charts.length = 0;
      render();
    });
  }

  start().catch((e) => {
    const stall = document.getElementById('stall');
    stall.hidden = false;
    stall.textContent = `dashboard could not load: ${e.message}`;
  });
})();
