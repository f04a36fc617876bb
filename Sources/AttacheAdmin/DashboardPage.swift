/// The dashboard at admin `GET /`: one self-contained page (no external scripts, styles or
/// fonts) that polls `/stats` and `/rules` every 2 s and shows, per `record` rule and key, hits,
/// request rate, average and p99 latency (green under 100 ms, yellow under 1 s, red from 1 s),
/// the status mix and a sparkline of the recent exchanges.
///
/// Keys are request paths, so they are attacker-controlled text: the script only ever puts them
/// into the page as text nodes (`textContent`), never as markup.
enum DashboardPage {
    static let bytes: [UInt8] = Array(html.utf8)

    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>attache</title>
        <style>
        :root { --ok: #1a7f37; --slow: #b58100; --bad: #c62828; --line: #d0d7de; --muted: #57606a; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #f6f8fa; }
        header { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: baseline; padding: 12px 20px; background: #24292f; color: #fff; }
        header h1 { margin: 0; font-size: 18px; }
        header span { color: #d0d7de; }
        header .failure { color: #ff8a80; font-weight: 600; }
        main { padding: 16px 20px; }
        section { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin-bottom: 16px; }
        section h2 { font-size: 15px; margin: 0; padding: 10px 12px; border-bottom: 1px solid var(--line); }
        section h2 small { color: var(--muted); font-weight: normal; margin-left: 1em; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: right; padding: 6px 12px; border-bottom: 1px solid #eaeef2; white-space: nowrap; }
        th { color: var(--muted); font-weight: 600; font-size: 12px; }
        th:first-child, td:first-child { text-align: left; white-space: normal; word-break: break-all; font-family: ui-monospace, monospace; }
        td.ok { color: var(--ok); } td.slow { color: var(--slow); } td.bad { color: var(--bad); font-weight: 600; }
        .mix { display: inline-flex; gap: 4px; }
        .mix span { padding: 0 5px; border-radius: 3px; font-size: 12px; background: #eaeef2; }
        .mix .s2 { background: #dafbe1; } .mix .s3 { background: #ddf4ff; } .mix .s4 { background: #fff8c5; } .mix .s5 { background: #ffebe9; }
        svg { vertical-align: middle; }
        #empty, #error { color: var(--muted); padding: 12px 0; }
        #error { color: var(--bad); }
        </style>
        </head>
        <body>
        <header>
        <h1>attache</h1>
        <span>rules generation <b id="generation">–</b></span>
        <span id="reload">last reload: none</span>
        <span id="updated">loading…</span>
        </header>
        <main>
        <div id="error" hidden></div>
        <div id="empty" hidden>No rule records statistics yet: add <code>record: true</code> to a rule.</div>
        <div id="rules"></div>
        </main>
        <script>
        "use strict";
        const previous = new Map();
        function latencyClass(ms) { return ms < 100 ? "ok" : ms < 1000 ? "slow" : "bad"; }
        function element(tag, attributes, text) {
          const node = document.createElement(tag);
          for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
          if (text !== undefined) node.textContent = text;
          return node;
        }
        function milliseconds(value) { return value < 10 ? value.toFixed(2) + " ms" : value < 1000 ? value.toFixed(1) + " ms" : (value / 1000).toFixed(2) + " s"; }
        function sparkline(history) {
          const ns = "http://www.w3.org/2000/svg", width = 120, height = 24;
          const svg = document.createElementNS(ns, "svg");
          svg.setAttribute("width", width); svg.setAttribute("height", height);
          svg.setAttribute("viewBox", "0 0 " + width + " " + height);
          svg.setAttribute("class", "sparkline");
          if (history.length === 0) return svg;
          const values = history.map(entry => entry.duration_ms);
          const top = Math.max(...values, 0.001);
          const step = history.length > 1 ? width / (history.length - 1) : 0;
          const points = values.map((value, index) => (index * step).toFixed(1) + "," + (height - 2 - (value / top) * (height - 4)).toFixed(1));
          const line = document.createElementNS(ns, "polyline");
          line.setAttribute("points", points.join(" "));
          line.setAttribute("fill", "none");
          line.setAttribute("stroke", "var(--" + latencyClass(top) + ")");
          line.setAttribute("stroke-width", "1.5");
          svg.appendChild(line);
          return svg;
        }
        function statusMix(statuses) {
          const mix = element("span", { class: "mix" });
          for (const [status, count] of Object.entries(statuses)) {
            mix.appendChild(element("span", { class: "s" + status[0], title: count + " × " + status }, status + " × " + count));
          }
          return mix;
        }
        function renderRule(name, rule, now) {
          const section = element("section", { "data-rule": name });
          const title = element("h2", {}, name);
          title.appendChild(element("small", {}, rule.hits + " hits · " + rule.keys_tracked + " of " + rule.max_keys + " keys"));
          section.appendChild(title);
          const table = element("table");
          const head = element("tr");
          for (const label of ["key", "hits", "req/s", "avg", "p99", "statuses", "recent"]) head.appendChild(element("th", {}, label));
          table.appendChild(head);
          for (const [key, stats] of Object.entries(rule.keys)) {
            const id = name + "\u0000" + key;
            const before = previous.get(id);
            const rate = before && now > before.time ? (stats.hits - before.hits) / ((now - before.time) / 1000) : null;
            previous.set(id, { hits: stats.hits, time: now });
            const row = element("tr", { "data-key": key });
            row.appendChild(element("td", { class: "key" }, key));
            row.appendChild(element("td", { class: "hits" }, String(stats.hits)));
            row.appendChild(element("td", { class: "rate" }, rate === null ? "–" : rate.toFixed(1)));
            row.appendChild(element("td", { class: "average " + latencyClass(stats.average_ms), "data-ms": String(stats.average_ms) }, milliseconds(stats.average_ms)));
            row.appendChild(element("td", { class: "p99 " + latencyClass(stats.p99_ms), "data-ms": String(stats.p99_ms) }, milliseconds(stats.p99_ms)));
            const mix = element("td", { class: "statuses" });
            mix.appendChild(statusMix(stats.statuses));
            row.appendChild(mix);
            const recent = element("td", { class: "recent" });
            recent.appendChild(sparkline(stats.history));
            row.appendChild(recent);
            table.appendChild(row);
          }
          section.appendChild(table);
          return section;
        }
        function render(stats, rules) {
          const now = Date.now();
          document.getElementById("generation").textContent = String(stats.generation);
          const reload = document.getElementById("reload");
          const last = rules.last_reload;
          if (last) {
            reload.textContent = "last reload: " + last.result + " at " + last.time + (last.result === "failure" && last.diagnostics.length ? " — " + last.diagnostics[0].rendered : "");
            reload.className = last.result === "failure" ? "failure" : "";
          } else {
            reload.textContent = "last reload: none (loaded " + (rules.loaded_at || "?") + ")";
            reload.className = "";
          }
          const container = document.getElementById("rules");
          container.replaceChildren(...Object.entries(stats.rules).map(([name, rule]) => renderRule(name, rule, now)));
          document.getElementById("empty").hidden = Object.keys(stats.rules).length > 0;
          document.getElementById("updated").textContent = "updated " + stats.time;
        }
        async function refresh() {
          const error = document.getElementById("error");
          try {
            const [stats, rules] = await Promise.all([
              fetch("stats", { cache: "no-store" }).then(response => response.json()),
              fetch("rules", { cache: "no-store" }).then(response => response.json()),
            ]);
            render(stats, rules);
            error.hidden = true;
          } catch (failure) {
            error.textContent = "attache's admin port did not answer: " + failure;
            error.hidden = false;
          }
        }
        refresh();
        setInterval(refresh, 2000);
        </script>
        </body>
        </html>

        """#
}
