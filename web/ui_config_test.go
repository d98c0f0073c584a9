package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// configNewForm is a valid form as the form builder posts it.
func configNewForm(name string) url.Values {
	return url.Values{
		"name": {name}, "mode": {leadcycle.FormContactsAndLeads}, "active": {"true"}, "campaign": {"spring"},
		"fields.0.name": {"email"}, "fields.0.label": {"Email"}, "fields.0.type": {"email"}, "fields.0.target": {"contact.email"}, "fields.0.required": {"true"},
		"fields.1.name": {"first_name"}, "fields.1.label": {"Nome"}, "fields.1.type": {"text"}, "fields.1.target": {"contact.first_name"},
		"fields.2.name": {"interest"}, "fields.2.label": {"Interese"}, "fields.2.type": {"choice"}, "fields.2.choices": {"Conservas, Viño"},
		"fields.3.name": {""}, "fields.3.label": {""}, "fields.3.type": {"text"},
		"consents.0.purpose": {"commercial_email"}, "consents.0.label": {"Send me news"},
		"consents.1.purpose": {"commercial_email"}, "consents.1.label": {""},
		"thank_you_message": {"Grazas!"},
	}
}

// configLeakedKey finds catalog ids of this area shown instead of their
// text (a missing message shows its id).
var configLeakedKey = regexp.MustCompile(`[>"\s](forms?|strateg(?:y|ies)|process(?:es)?|webhooks?)\.[a-z_]+(?:\.[a-z_]+)*[<"\s]`)

// configCheckPage fails for a page that is not a 200 HTML page, is not
// accessible, or shows a catalog id.
func configCheckPage(t *testing.T, c *browserClient, path string) pageResponse {
	t.Helper()
	r := c.get(path)
	if r.status != http.StatusOK || !strings.HasPrefix(r.body, "<!doctype html>") {
		t.Fatalf("GET %s: %d %.300s", path, r.status, r.body)
	}
	checkAccessible(t, path, r.body)
	for _, m := range configLeakedKey.FindAllStringSubmatch(r.body, -1) {
		id := strings.Trim(m[0], `<>" `+"\n\t")
		if slices.Contains(leadcycle.EventTypes, id) {
			continue // an event type shown as code
		}
		t.Errorf("%s shows the catalog id %q", path, id)
	}
	return r
}

func TestConfigPagesRenderForAMarketer(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	c := ts.login(t, "ana@example.gal")
	ctx := context.Background()
	f := &leadcycle.Form{Name: "Feira", Active: true, Fields: []leadcycle.FormField{{Name: "email", Type: "email", Target: "contact.email", Required: true}, {Name: "utm", Type: "hidden"}}}
	if err := ts.store.Forms().Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	hook := ts.do(t, "POST", "/api/v1/webhooks", leadcycle.RoleAdmin, map[string]any{"name": "CRM", "url": "https://93.184.216.34/hook", "events": []string{"*"}})
	if hook.status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", hook.status, hook.body)
	}
	hookID := hook.json(t)["id"].(string)
	strategies, _ := ts.store.Strategies().List(ctx, leadcycle.ListQuery{Limit: 10})
	procs, _ := ts.store.Processes().List(ctx, leadcycle.ListQuery{Limit: 10})
	pages := []string{"/forms", "/forms/new", "/forms/" + f.ID.String(),
		"/matching-strategies", "/matching-strategies/new", "/matching-strategies/new?kind=lead",
		"/processes", "/processes/new", "/webhooks", "/webhooks/" + hookID}
	for _, m := range strategies.Items {
		pages = append(pages, "/matching-strategies/"+m.ID.String())
	}
	for _, p := range procs.Items {
		pages = append(pages, "/processes/"+p.ID.String(), "/processes/new?copy="+p.ID.String())
	}
	for _, path := range pages {
		configCheckPage(t, c, path)
	}
	// The shipped names read in the user's language.
	gl := ts.login(t, "ana@example.gal")
	gl.post("/language", url.Values{"lang": {"gl"}, "next": {"/"}})
	if r := gl.get("/matching-strategies"); !strings.Contains(r.body, "Contactos por correo electrónico") {
		t.Errorf("the default contact strategy's name is not translated")
	}
	if r := gl.get("/processes"); !strings.Contains(r.body, "Proceso de márketing e vendas de cliente potencial a oportunidade") {
		t.Errorf("the default process's name is not translated")
	}
	// A marketer reads webhooks but may not change them.
	if r := c.get("/webhooks/" + hookID); strings.Contains(r.body, `name="url"`) || strings.Contains(r.body, "rotate-secret") {
		t.Error("a marketer is offered to change a webhook")
	}
	if r := c.get("/webhooks/new"); r.status != http.StatusForbidden {
		t.Errorf("/webhooks/new as marketer: %d", r.status)
	}
}

func TestConfigPagesRefuseTelesales(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "tele@example.gal", "Tele", leadcycle.RoleTelesales)
	c := ts.login(t, "tele@example.gal")
	for _, path := range []string{"/forms", "/forms/new", "/forms/1", "/matching-strategies", "/matching-strategies/1", "/processes", "/processes/1", "/processes/new", "/webhooks", "/webhooks/1"} {
		if r := c.get(path); r.status != http.StatusForbidden {
			t.Errorf("GET %s as telesales: %d", path, r.status)
		}
	}
	for _, path := range []string{"/forms/new", "/matching-strategies/new", "/processes/new", "/processes/1", "/webhooks/new"} {
		c.get("/")
		if r := c.post(path, url.Values{"name": {"x"}}); r.status != http.StatusForbidden {
			t.Errorf("POST %s as telesales: %d", path, r.status)
		}
	}
	if n, _ := ts.store.Forms().List(context.Background(), leadcycle.ListQuery{Limit: 10}); len(n.Items) != 0 {
		t.Error("telesales created a form")
	}
}

func TestFormBuilder(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	c := ts.login(t, "ana@example.gal")
	ctx := context.Background()
	c.get("/forms/new")

	// Create: the empty rows are left out, the choices split.
	evil := `<script>alert(1)</script> Primavera`
	r := c.post("/forms/new", configNewForm(evil))
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/forms/") {
		t.Fatalf("create: %d %q %.500s", r.status, r.location, r.body)
	}
	id, ok := leadcycle.ParseID(strings.TrimPrefix(r.location, "/forms/"))
	if !ok {
		t.Fatalf("redirect to %q", r.location)
	}
	f, err := ts.store.Forms().Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != evil || len(f.Fields) != 3 || f.Fields[2].Type != "choice" || !slices.Equal(f.Fields[2].Choices, []string{"Conservas", "Viño"}) ||
		len(f.Consents) != 1 || !f.Active || f.Campaign != "spring" || f.ThankYouMessage != "Grazas!" || !f.Fields[0].Required {
		t.Fatalf("created form: %+v", f)
	}
	page := configCheckPage(t, c, r.location)
	if strings.Contains(page.body, "<script>alert(1)") || !strings.Contains(page.body, "&lt;script&gt;alert(1)&lt;/script&gt; Primavera") {
		t.Error("the form's name is not escaped")
	}
	embed := fmt.Sprintf("/f/%s/embed.js", id)
	if !strings.Contains(page.body, html.EscapeString(embed)) || !strings.Contains(page.body, `data-copy="embed-code"`) || !strings.Contains(page.body, `readonly`) {
		t.Error("no embed code with a copy button")
	}
	if !strings.Contains(page.body, `id="pv-2"`) || !strings.Contains(page.body, "<option>Viño</option>") {
		t.Error("the preview does not show the fields")
	}

	// An invalid key: the API's message on the row, 422, the typed values
	// kept, nothing saved.
	form := formValuesOf(t, page.body)
	form.Set("fields.1.name", "Nome Completo")
	form.Set("campaign", "autumn")
	r = c.post(r.location, form)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be a key") || !strings.Contains(r.body, `value="Nome Completo"`) ||
		!strings.Contains(r.body, `value="autumn"`) || !strings.Contains(r.body, `id="ff-1-name-err"`) || !strings.Contains(r.body, "fields[1].name") {
		t.Fatalf("invalid key: %d %.3000s", r.status, r.body)
	}
	if got, _ := ts.store.Forms().Get(ctx, id); got.Campaign != "spring" {
		t.Error("an invalid form was saved")
	}
	// A bad redirect address: the field error by its input.
	form = formValuesOf(t, page.body)
	form.Set("redirect_url", "ftp://example.gal")
	if r := c.post("/forms/"+id.String(), form); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="form-redirect-err"`) || !strings.Contains(r.body, `value="ftp://example.gal"`) {
		t.Fatalf("bad redirect: %d", r.status)
	}

	// Reordering only shows the rearranged rows; saving stores the order.
	form = formValuesOf(t, page.body)
	form.Set("do", "fields.down.0")
	r = c.post("/forms/"+id.String(), form)
	if r.status != http.StatusOK || !strings.Contains(r.body, `name="fields.0.name" value="first_name"`) || !strings.Contains(r.body, `name="fields.1.name" value="email"`) {
		t.Fatalf("move down: %d %.2000s", r.status, r.body)
	}
	if got, _ := ts.store.Forms().Get(ctx, id); got.Fields[0].Name != "email" {
		t.Error("moving a row saved the form")
	}
	form = formValuesOf(t, r.body)
	form.Set("fields.2.remove", "true") // interest
	form.Set("fields.3.name", "phone")  // the empty row
	form.Set("fields.3.type", "phone")
	form.Set("fields.3.target", "contact.phone")
	form.Del("active")
	if r := c.post("/forms/"+id.String(), form); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %.2000s", r.status, r.body)
	}
	got, _ := ts.store.Forms().Get(ctx, id)
	var names []string
	for _, ff := range got.Fields {
		names = append(names, ff.Name)
	}
	if !slices.Equal(names, []string{"first_name", "email", "phone"}) || got.Active {
		t.Fatalf("saved form: %v active=%v", names, got.Active)
	}

	// Recent submissions.
	if err := ts.store.Forms().Create(ctx, &leadcycle.Form{Name: "Live", Active: true, Fields: []leadcycle.FormField{{Name: "email", Type: "email", Target: "contact.email"}}}); err != nil {
		t.Fatal(err)
	}
	live, _ := ts.store.Forms().List(ctx, leadcycle.ListQuery{Limit: 10})
	var liveID leadcycle.ID
	for _, f := range live.Items {
		if f.Name == "Live" {
			liveID = f.ID
		}
	}
	resp, err := http.PostForm(ts.URL+"/f/"+liveID.String(), url.Values{"email": {"breixo@example.gal"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := configCheckPage(t, c, "/forms/"+liveID.String()); !strings.Contains(r.body, "breixo@example.gal") || !strings.Contains(r.body, "data-submission=") {
		t.Errorf("the submission is not listed: %.3000s", r.body)
	}
	if r := configCheckPage(t, c, "/forms"); !strings.Contains(r.body, "&lt;script&gt;") || strings.Contains(r.body, "<script>alert") {
		t.Error("the list does not escape the name")
	}
}

// formValuesOf reads the values of the inputs of the first POST form of a
// page, as a browser would submit them (checkboxes only when checked).
func formValuesOf(t *testing.T, body string) url.Values {
	t.Helper()
	v := url.Values{}
	start := strings.Index(body, `<form method="post" action="/forms/`)
	if start < 0 {
		start = 0
	}
	end := strings.Index(body[start:], "</form>")
	doc := body[start : start+end]
	input := regexp.MustCompile(`<input ([^>]*)>`)
	attrRe := regexp.MustCompile(`([a-z-]+)(?:="([^"]*)")?`)
	for _, m := range input.FindAllStringSubmatch(doc, -1) {
		a := map[string]string{}
		has := map[string]bool{}
		for _, am := range attrRe.FindAllStringSubmatch(m[1], -1) {
			a[am[1]] = html.UnescapeString(am[2])
			has[am[1]] = true
		}
		if a["name"] == "" || (a["type"] == "checkbox" && !has["checked"]) {
			continue
		}
		v.Add(a["name"], a["value"])
	}
	sel := regexp.MustCompile(`(?s)<select id="[^"]*" name="([^"]+)"[^>]*>(.*?)</select>`)
	selected := regexp.MustCompile(`<option value="([^"]*)"[^>]* selected>`)
	for _, m := range sel.FindAllStringSubmatch(doc, -1) {
		if s := selected.FindStringSubmatch(m[2]); s != nil {
			v.Set(m[1], html.UnescapeString(s[1]))
		} else if first := regexp.MustCompile(`<option value="([^"]*)"`).FindStringSubmatch(m[2]); first != nil {
			v.Set(m[1], html.UnescapeString(first[1]))
		}
	}
	ta := regexp.MustCompile(`(?s)<textarea id="[^"]*" name="([^"]+)"[^>]*>(.*?)</textarea>`)
	for _, m := range ta.FindAllStringSubmatch(doc, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	v.Del("csrf_token")
	return v
}

func TestStrategyPages(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	c := ts.login(t, "ana@example.gal")
	ctx := context.Background()
	c.get("/matching-strategies/new?kind=lead")
	evil := "<script>alert(2)</script> by segment"
	r := c.post("/matching-strategies/new", url.Values{"kind": {"lead"}, "name": {evil}, "fields": {"email", "campaign"}, "custom_fields": {"segment"},
		"update_when_matched": {"true"}, "create_when_none": {"true"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create: %d %.2000s", r.status, r.body)
	}
	list, _ := ts.store.Strategies().List(ctx, leadcycle.ListQuery{Limit: 10})
	var m *leadcycle.MatchingStrategy
	for i := range list.Items {
		if list.Items[i].Name == evil {
			m = &list.Items[i]
		}
	}
	if m == nil || m.Kind != "lead" || !slices.Equal(m.Fields, []string{"email", "campaign", "custom.segment"}) || !m.UpdateWhenMatched || m.IgnoreEmptyValues || m.IsDefault {
		t.Fatalf("created strategy: %+v", m)
	}
	page := configCheckPage(t, c, "/matching-strategies")
	if strings.Contains(page.body, "<script>alert(2)") || !strings.Contains(page.body, "&lt;script&gt;alert(2)&lt;/script&gt;") {
		t.Error("the name is not escaped")
	}
	path := "/matching-strategies/" + m.ID.String()
	page = configCheckPage(t, c, path)
	if !strings.Contains(page.body, `name="custom_fields" value="custom.segment"`) || !strings.Contains(page.body, `id="sf-campaign" name="fields" value="campaign" checked`) {
		i := strings.Index(page.body, "<fieldset")
		t.Errorf("the editor does not show the fields: %.3000s", page.body[max(i, 0):])
	}
	// The API's problems: a bad region and no fields, with the typed values.
	r = c.post(path, url.Values{"name": {"Renamed"}, "phone_region": {"ESP"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "ISO 3166-1 alpha-2") || !strings.Contains(r.body, "must list 1 to 6 fields") ||
		!strings.Contains(r.body, `value="ESP"`) || !strings.Contains(r.body, `value="Renamed"`) || !strings.Contains(r.body, `id="strategy-region-err"`) {
		t.Fatalf("invalid strategy: %d %.3000s", r.status, r.body)
	}
	if got, _ := ts.store.Strategies().Get(ctx, m.ID); got.Name != evil {
		t.Error("an invalid strategy was saved")
	}
	// It becomes the default lead strategy.
	r = c.post(path, url.Values{"name": {"Leads by segment"}, "fields": {"email"}, "custom_fields": {"custom.segment"}, "is_default": {"true"}, "ignore_empty_values": {"true"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %.2000s", r.status, r.body)
	}
	got, _ := ts.store.Strategies().Get(ctx, m.ID)
	if got.Name != "Leads by segment" || !got.IsDefault || got.UpdateWhenMatched || !got.IgnoreEmptyValues || !slices.Equal(got.Fields, []string{"email", "custom.segment"}) {
		t.Fatalf("saved: %+v", got)
	}
	// There is always a default: unticking it is the API's error.
	r = c.post(path, url.Values{"name": {"Leads by segment"}, "fields": {"email"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "make another lead strategy the default instead") {
		t.Fatalf("untick the default: %d %.2000s", r.status, r.body)
	}
}

func TestProcessPages(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	c := ts.login(t, "ana@example.gal")
	ctx := context.Background()
	procs, _ := ts.store.Processes().List(ctx, leadcycle.ListQuery{Limit: 10})
	def := procs.Items[0]
	path := "/processes/" + def.ID.String()
	page := configCheckPage(t, c, path)
	for _, want := range []string{"Telesales acceptance", `lead.contact_id != &#34;&#34; or lead.account_id != &#34;&#34;`, "lead.sales_ready", `class="code"`, "&#34;stages&#34;"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the process page lacks %q", want)
		}
	}

	// A branch to a stage that does not exist: the API's path is shown, on
	// the stage too, and the typed definition stays.
	var doc map[string]any
	if err := json.Unmarshal([]byte(textareaOf(t, page.body, "definition")), &doc); err != nil {
		t.Fatal(err)
	}
	doc["stages"].([]any)[1].(map[string]any)["next"].([]any)[0].(map[string]any)["to"] = "nowhere"
	typed, _ := json.MarshalIndent(doc, "", "  ")
	r := c.post(path, url.Values{"definition": {string(typed)}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "stages[1].next[0].to") || !strings.Contains(r.body, "&#34;nowhere&#34;") ||
		!strings.Contains(r.body, `<ul class="problem"><li>stages[1].next[0].to`) {
		t.Fatalf("invalid branch: %d %.4000s", r.status, r.body)
	}
	// Not JSON at all.
	if r := c.post(path, url.Values{"definition": {`{"name": `}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "not valid JSON") || !strings.Contains(r.body, "{&#34;name&#34;: </textarea>") {
		t.Fatalf("bad JSON: %d %.2000s", r.status, r.body)
	}
	if got, _ := ts.store.Processes().Get(ctx, def.ID); got.Stages[1].Next[0].To != "sales_acceptance" {
		t.Fatal("an invalid process was saved")
	}
	// Renaming a stage saves.
	doc["stages"].([]any)[1].(map[string]any)["next"].([]any)[0].(map[string]any)["to"] = "sales_acceptance"
	doc["stages"].([]any)[0].(map[string]any)["name"] = "Primeiro contacto"
	typed, _ = json.Marshal(doc)
	if r := c.post(path, url.Values{"definition": {string(typed)}}); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %.2000s", r.status, r.body)
	}
	if got, _ := ts.store.Processes().Get(ctx, def.ID); got.Stages[0].Name != "Primeiro contacto" {
		t.Fatalf("saved: %+v", got.Stages[0])
	}

	// A new process from a copy.
	page = configCheckPage(t, c, "/processes/new?copy="+def.ID.String())
	if !strings.Contains(page.body, "lead_to_opportunity_copy") || !strings.Contains(page.body, "Copy of ") {
		t.Fatalf("the copy: %.2000s", page.body)
	}
	doc = nil
	if err := json.Unmarshal([]byte(textareaOf(t, page.body, "definition")), &doc); err != nil {
		t.Fatal(err)
	}
	doc["name"], doc["key"] = "<script>alert(3)</script> Nurture", "nurture"
	typed, _ = json.Marshal(doc)
	r = c.post("/processes/new", url.Values{"definition": {string(typed)}, "copy": {def.ID.String()}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create: %d %.2000s", r.status, r.body)
	}
	procs, _ = ts.store.Processes().List(ctx, leadcycle.ListQuery{Limit: 10})
	if len(procs.Items) != 2 {
		t.Fatalf("%d processes", len(procs.Items))
	}
	page = configCheckPage(t, c, r.location)
	if strings.Contains(page.body, "<script>alert(3)") || !strings.Contains(page.body, "&lt;script&gt;alert(3)&lt;/script&gt; Nurture") {
		t.Error("the process name is not escaped")
	}
	// The copy becomes the default, from its page.
	if !strings.Contains(page.body, "/make-default") {
		t.Fatal("no button to make the process the default")
	}
	if r := c.post(r.location+"/make-default", nil); r.status != http.StatusSeeOther {
		t.Fatalf("make default: %d %.1000s", r.status, r.body)
	}
	procs, _ = ts.store.Processes().List(ctx, leadcycle.ListQuery{Limit: 10})
	for _, pr := range procs.Items {
		if pr.IsDefault != (pr.Key == "nurture") {
			t.Errorf("process %s default=%v", pr.Key, pr.IsDefault)
		}
	}
}

// textareaOf is the text of a page's textarea by name.
func textareaOf(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<textarea[^>]* name="` + regexp.QuoteMeta(name) + `"[^>]*>(.*?)</textarea>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no textarea %s", name)
	}
	return html.UnescapeString(m[1])
}

func TestWebhookPages(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "root@example.gal", "Root", leadcycle.RoleAdmin)
	c := ts.login(t, "root@example.gal")
	ctx := context.Background()
	configCheckPage(t, c, "/webhooks/new")

	// A loopback address is refused, on the form, with the typed values.
	r := c.post("/webhooks/new", url.Values{"name": {"Local"}, "url": {"http://127.0.0.1:9/hook"}, "events": {"lead.created"}, "active": {"true"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "loopback") || !strings.Contains(r.body, `id="webhook-url-err"`) ||
		!strings.Contains(r.body, `value="http://127.0.0.1:9/hook"`) || !strings.Contains(r.body, `value="lead.created" checked`) {
		t.Fatalf("loopback: %d %.3000s", r.status, r.body)
	}
	// Created: the secret is shown this once.
	evil := "<script>alert(4)</script> CRM"
	r = c.post("/webhooks/new", url.Values{"name": {evil}, "url": {"https://93.184.216.34/hook"}, "events": {"lead.created", "form.submitted"}, "active": {"true"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="webhook-secret"`) || !strings.Contains(r.body, "whsec_") || !strings.Contains(r.body, "only this once") {
		t.Fatalf("create: %d %.3000s", r.status, r.body)
	}
	secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(r.body)
	hooks, _ := ts.store.Webhooks().List(ctx, leadcycle.ListQuery{Limit: 10})
	if len(hooks.Items) != 1 || hooks.Items[0].Name != evil || !slices.Equal(hooks.Items[0].Events, []string{"lead.created", "form.submitted"}) || !hooks.Items[0].Active {
		t.Fatalf("webhooks: %+v", hooks.Items)
	}
	h := hooks.Items[0]
	path := "/webhooks/" + h.ID.String()
	page := configCheckPage(t, c, path)
	if strings.Contains(page.body, "whsec_") {
		t.Error("the secret is shown again")
	}
	if strings.Contains(page.body, "<script>alert(4)") || !strings.Contains(page.body, "&lt;script&gt;alert(4)&lt;/script&gt; CRM") {
		t.Error("the webhook's name is not escaped")
	}
	// Rotating shows a new secret.
	r = c.post(path+"/rotate-secret", nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, "whsec_") || strings.Contains(r.body, secret) {
		t.Fatalf("rotate: %d", r.status)
	}
	// Edit: every event, paused.
	if r := c.post(path, url.Values{"name": {"CRM"}, "url": {"https://93.184.216.34/v2"}, "all_events": {"true"}}); r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %.2000s", r.status, r.body)
	}
	got, _ := ts.store.Webhooks().Get(ctx, h.ID)
	if got.URL != "https://93.184.216.34/v2" || got.Active || !slices.Equal(got.Events, []string{"*"}) {
		t.Fatalf("edited: %+v", got)
	}
	if r := c.post(path, url.Values{"name": {"CRM"}, "url": {"http://localhost/x"}, "all_events": {"true"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "loopback") {
		t.Fatalf("edit to localhost: %d", r.status)
	}

	// A failed delivery is listed and retried.
	if _, err := ts.store.WebhookDeliveries().FanOut(ctx, 100); err != nil { // the events so far
		t.Fatal(err)
	}
	if r := c.post(path, url.Values{"name": {"CRM"}, "url": {"https://93.184.216.34/v2"}, "all_events": {"true"}, "active": {"true"}}); r.status != http.StatusSeeOther {
		t.Fatalf("activate: %d", r.status)
	}
	seedLead(t, ts, "Webhook", "Iria", nil)
	if _, err := ts.store.WebhookDeliveries().FanOut(ctx, 100); err != nil {
		t.Fatal(err)
	}
	jobs, err := ts.store.WebhookDeliveries().ClaimDeliveries(ctx, 10, time.Minute)
	if err != nil || len(jobs) == 0 {
		t.Fatalf("claim: %d %v", len(jobs), err)
	}
	d := jobs[0].Delivery
	if err := ts.store.WebhookDeliveries().RecordAttempt(ctx, d.ID, leadcycle.DeliveryAttempt{At: time.Now(), StatusCode: 500, Error: "the receiver answered 500"}); err != nil {
		t.Fatal(err)
	}
	page = configCheckPage(t, c, path)
	retry := fmt.Sprintf(`action="/webhooks/%s/deliveries/%s/retry"`, h.ID, d.ID)
	if !strings.Contains(page.body, `data-status="failed"`) || !strings.Contains(page.body, "HTTP 500") || !strings.Contains(page.body, retry) {
		t.Fatalf("deliveries: %.4000s", page.body)
	}
	r = c.post(fmt.Sprintf("/webhooks/%s/deliveries/%s/retry", h.ID, d.ID), nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("retry: %d %.1000s", r.status, r.body)
	}
	ds, _ := ts.store.WebhookDeliveries().Deliveries(ctx, h.ID, leadcycle.ListQuery{Limit: 10})
	for _, x := range ds.Items {
		if x.ID == d.ID && x.Status != leadcycle.DeliveryPending {
			t.Errorf("retried delivery is %s", x.Status)
		}
	}
}

// TestFormDoubleOptInEditor: the editor offers the transactional templates
// for the confirmation, shows the API's refusal by its input, and saves.
func TestFormDoubleOptInEditor(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	c := ts.login(t, "ana@example.gal")
	ctx := context.Background()
	confirm := &leadcycle.EmailTemplate{Name: "Confirm your subscription", Subject: "Please confirm", Purpose: leadcycle.PurposeTransactional,
		Text: "Confirm: {{consent.confirm_url}}", FromEmail: "news@example.gal"}
	if err := ts.store.EmailTemplates().Create(ctx, confirm); err != nil {
		t.Fatal(err)
	}
	news := &leadcycle.EmailTemplate{Name: "Newsletter", Subject: "News", Text: "Hello", FromEmail: "news@example.gal"}
	if err := ts.store.EmailTemplates().Create(ctx, news); err != nil {
		t.Fatal(err)
	}
	page := c.get("/forms/new")
	if !strings.Contains(page.body, `name="double_opt_in"`) || !strings.Contains(page.body, ">Confirm your subscription</option>") || strings.Contains(page.body, ">Newsletter</option>") {
		t.Fatalf("the editor does not offer only the transactional templates: %.4000s", page.body)
	}
	form := configNewForm("Opt-in")
	form.Set("double_opt_in", "true")
	r := c.post("/forms/new", form)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="form-confirmation-error"`) || !strings.Contains(r.body, `name="double_opt_in" value="true" aria-describedby="form-optin-hint" checked`) {
		t.Fatalf("double opt-in without a confirmation email: %d %.3000s", r.status, r.body)
	}
	form.Set("confirmation_email_id", confirm.ID.String())
	r = c.post("/forms/new", form)
	if r.status != http.StatusSeeOther {
		t.Fatalf("create: %d %.2000s", r.status, r.body)
	}
	id, _ := leadcycle.ParseID(strings.TrimPrefix(r.location, "/forms/"))
	f, err := ts.store.Forms().Get(ctx, id)
	if err != nil || !f.DoubleOptIn || f.ConfirmationEmailID == nil || *f.ConfirmationEmailID != confirm.ID {
		t.Fatalf("saved: %+v %v", f, err)
	}
	if page := c.get(r.location); !strings.Contains(page.body, `value="`+confirm.ID.String()+`" selected`) {
		t.Error("the saved confirmation email is not selected")
	}
}
