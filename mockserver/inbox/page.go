package inbox

import (
	"bytes"
	"html"
	"net/url"
	"strconv"
)

// The inbox page and the login form are written by plain Go code rather than html/template:
// text/template finds fields and methods by name at run time (reflect.Value.MethodByName), and a
// binary that can do that must keep every exported method of every type it links, which made the
// image 2.6 MB larger (cmd/smartappmock's TestBinaryKeepsUnusedMethodsOut guards against it).
// Every value a request or the configuration supplies goes through htmlPage.escaped or
// htmlPage.queryAttr; markup is only ever a constant. testdata/inbox/*.golden.html pins the
// output, hostile values included.

// htmlPage accumulates a page: constant markup as is, every value escaped for where it goes.
type htmlPage struct {
	b bytes.Buffer
}

// markup writes constant HTML. It must never be given a value from a request or a configuration.
func (p *htmlPage) markup(s string) {
	p.b.WriteString(s)
}

// escaped writes s as character data or as the value of a double-quoted attribute: <, >, &, ' and "
// become character references.
func (p *htmlPage) escaped(s string) {
	p.b.WriteString(html.EscapeString(s))
}

// queryAttr writes s as one query-string value inside a double-quoted URL attribute.
func (p *htmlPage) queryAttr(s string) {
	p.b.WriteString(html.EscapeString(url.QueryEscape(s)))
}

// markupIf writes constant HTML when cond holds.
func (p *htmlPage) markupIf(cond bool, s string) {
	if cond {
		p.b.WriteString(s)
	}
}

func (p *htmlPage) bytes() []byte {
	return p.b.Bytes()
}

// renderInboxPage writes the inbox page for d.
func renderInboxPage(d inboxPageData) []byte {
	var p htmlPage
	q := d.Query
	app := q.App != ""
	p.markup(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>`)
	if app {
		p.escaped(q.App)
		p.markup(` · `)
	}
	p.markup(`smartappmock inbox</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/__admin/ui/assets/inbox.css">
<script src="/__admin/ui/assets/inbox.js" defer></script>
</head>
<body data-app="`)
	p.escaped(q.App)
	p.markup(`" data-open-id="`)
	p.escaped(q.OpenID)
	p.markup(`" data-outcome="`)
	p.escaped(q.Outcome)
	p.markup(`" data-limit="`)
	p.escaped(strconv.Itoa(d.Limit))
	p.markup(`" data-max-replies="`)
	p.escaped(strconv.Itoa(d.Policy.MaxReplies))
	p.markup(`">
<a class="skip" href="#thread">Skip to the thread</a>
<header class="top">
  <h1><a href="/__admin/ui">smartappmock inbox</a></h1>
  <span class="muted">the fake's journal, live · `)
	p.escaped(d.Version)
	p.markup("</span>\n  ")
	p.markupIf(d.Login, `<form method="post" action="/__admin/ui/logout" class="logout"><button type="submit">Log out</button></form>`)
	p.markup(`
</header>
<div class="layout">
<nav class="apps" aria-label="Apps">
  <h2>Apps</h2>
  <ul>
    <li><a href="/__admin/ui"`)
	p.markupIf(!app, ` aria-current="page"`)
	p.markup(`>All requests</a></li>`)
	for _, a := range d.Apps {
		p.markup("\n    <li><a href=\"/__admin/ui?app=")
		p.queryAttr(a.ID)
		p.markup(`"`)
		p.markupIf(a.ID == q.App, ` aria-current="page"`)
		p.markup(`>`)
		p.escaped(a.ID)
		p.markup("</a>\n      <small class=\"muted\">")
		p.escaped(a.Source)
		p.markup(`</small></li>`)
	}
	p.markup("\n  </ul>\n  ")
	p.markupIf(app, `
  <h2 id="users-title">Users</h2>
  <ul id="users" aria-labelledby="users-title"><li class="muted">loading…</li></ul>
  <p id="more-users" class="muted" hidden></p>
  `)
	p.markup(`
</nav>
<main>
  `)
	if app {
		p.markup(`
  <section id="state" aria-label="App state" aria-live="polite">
    <h2>App <span class="app-id">`)
		p.escaped(q.App)
		p.markup(`</span>`)
		if q.OpenID != "" {
			p.markup(` · user <span class="open-id">`)
			p.escaped(q.OpenID)
			p.markup(`</span>`)
		}
		p.markup(`</h2>
    <dl>
      <dt>App clock</dt><dd id="clock">…</dd>
      <dt>Customer service</dt><dd id="capability">…</dd>
      `)
		p.markupIf(q.OpenID != "", `<dt>Window</dt><dd id="window">…</dd>`)
		p.markup(`
      <dt>Journal</dt><dd id="journal">…</dd>
      <dt>Rule</dt><dd id="policy">…</dd>
    </dl>
  </section>
  <section id="actions" aria-label="Admin actions">
    <form id="act-message" class="act">
      <label for="act-open-id">open_id</label>
      <input id="act-open-id" name="open_id" value="`)
		p.escaped(q.OpenID)
		p.markup(`" required autocomplete="off" list="known-users">
      <button type="submit">User sent a message</button>
    </form>
    <form id="act-clock" class="act">
      <label for="act-advance">Advance clock by</label>
      <input id="act-advance" name="advance" value="1h" size="6" required>
      <button type="submit">Advance clock</button>
    </form>
    <button type="button" id="act-capability">Toggle customer service</button>
    <button type="button" id="act-reset">Reset app</button>
    <output id="act-status" aria-live="polite"></output>
  </section>
  `)
	}
	p.markup(`
  <form id="filters" method="get" action="/__admin/ui" class="filters" aria-label="Filters">
    `)
	if app {
		p.markup(`<input type="hidden" name="app" value="`)
		p.escaped(q.App)
		p.markup(`">`)
	}
	p.markup(`
    <label for="f-open-id">open_id</label>
    <input id="f-open-id" name="open_id" value="`)
	p.escaped(q.OpenID)
	p.markup(`" autocomplete="off" list="known-users" placeholder="every user">
    <datalist id="known-users"></datalist>
    <label for="f-outcome">outcome</label>
    <select id="f-outcome" name="outcome">`)
	for _, o := range d.Outcomes {
		p.markup("\n      <option value=\"")
		p.escaped(o.Value)
		p.markup(`"`)
		p.markupIf(o.Value == q.Outcome, ` selected`)
		p.markup(`>`)
		p.escaped(o.Label)
		p.markup(`</option>`)
	}
	p.markup(`
    </select>
    <button type="submit">Filter</button>
    `)
	if q.OpenID != "" || q.Outcome != "" {
		p.markup(`<a href="/__admin/ui`)
		if app {
			p.markup(`?app=`)
			p.queryAttr(q.App)
		}
		p.markup(`">clear</a>`)
	}
	p.markup(`
  </form>
  <p class="bar">
    <button type="button" id="older" hidden>Load older</button>
    <span id="count" class="muted" aria-live="polite"></span>
    <a id="raw" href="/__admin/requests">Raw journal JSON of what is shown</a>
    <span id="live" class="muted">connecting…</span>
  </p>
  <ul id="warned" class="warned-panel" aria-label="Answers Baidu would not give, once per app, with how many shown carry each" hidden></ul>
  <ol id="thread" tabindex="0" aria-label="Thread, oldest first" role="log"></ol>
  <p id="empty" class="muted" hidden>No request matches yet. Send one to the fake and it appears here.</p>
</main>
</div>
</body>
</html>
`)
	return p.bytes()
}

// renderLoginPage writes the login form for d.
func renderLoginPage(d inboxLoginData) []byte {
	var p htmlPage
	p.markup(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · smartappmock inbox</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/__admin/ui/assets/inbox.css">
</head>
<body class="login">
<main>
  <h1>smartappmock inbox</h1>
  <p>This fake runs with an admin token (<code>--admin-token</code>). Enter it to see the journal.</p>
  `)
	p.markupIf(d.Failed && d.Wait == "", `<p class="error" role="alert">That is not the admin token.</p>`)
	if d.Wait != "" {
		p.markup(`<p class="error" role="alert">`)
		p.escaped(d.Wait)
		p.markup(`</p>`)
	}
	p.markup(`
  <form method="post" action="/__admin/ui/login">
    <input type="hidden" name="q" value="`)
	p.escaped(d.Query)
	p.markup(`">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">Open the inbox</button>
  </form>
</main>
</body>
</html>
`)
	return p.bytes()
}
