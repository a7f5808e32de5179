/**
 * What browser mode answers to a page request without the token: a styled page (it cannot load the app's
 * own CSS, which needs the token too) that says where the address with the token is printed, for both ways
 * of starting browser mode.
 */
export const UNAUTHORIZED_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>Likeness — not signed in</title>
<style>
  :root { color-scheme: light dark; --bg: light-dark(#f6f6f4, #1c1c1e); --card: light-dark(#fff, #252527);
    --text: light-dark(#1f1f1c, #ececea); --muted: light-dark(#5f5e58, #a9a8a3); --border: light-dark(#dcdad4, #38383b);
    --code: light-dark(#efefec, #2e2e31); }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg); color: var(--text);
    font: 14px/1.55 system-ui, -apple-system, 'Segoe UI', Roboto, Ubuntu, sans-serif; }
  main { max-width: 520px; margin: 24px; padding: 28px 32px; background: var(--card); border: 1px solid var(--border);
    border-radius: 10px; box-shadow: 0 6px 24px rgb(0 0 0 / 0.08); }
  h1 { margin: 0 0 8px; font-size: 20px; font-weight: 600; }
  p, li { color: var(--muted); } ul { padding-left: 20px; } strong { color: var(--text); }
  code { padding: 1px 5px; border-radius: 4px; background: var(--code); font: 12.5px ui-monospace, Menlo, Consolas, monospace; color: var(--text); }
</style></head>
<body><main data-testid="not-signed-in">
<h1>Not signed in</h1>
<p>Likeness only answers the address it printed when it started: that address ends in
<code>?token=…</code>, and the token is new each time the server starts.</p>
<ul>
<li>Started with <code>npm start</code> or with <code>likeness serve</code>: in that terminal, open the address
on the line <strong>“Likeness on http://127.0.0.1:…/?token=…”</strong> (Ctrl-click it in most terminals).</li>
<li>The desktop app needs no address: this page is only for browser mode.</li>
</ul>
<p>Restarted the server since? The old address no longer works: copy the new one from the terminal.</p>
</main></body></html>`;
