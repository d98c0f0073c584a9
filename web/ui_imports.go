package web

import (
	"cmp"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// The import screens: the list of import jobs, the upload form, the mapping
// step (the file's headers with the automatic mapping as selects, from the
// API's dry run), and the job's page with its progress, counts and error
// report. Between the upload and the start of the import the file is kept
// in the server's import directory under a random token of the user.

func (s *Server) registerImportPages() {
	s.registerImportPreview()
	read, write := leadcycle.Perm("imports", leadcycle.ActionRead), leadcycle.Perm("imports", leadcycle.ActionWrite)
	s.handlePage("GET", "/imports", read, s.importListPage)
	s.handlePage("GET", "/imports/new", write, s.importNewPage)
	s.handlePage("POST", "/imports/new", write, s.importUploadSubmit)
	s.handlePage("POST", "/imports/start", write, s.importStartSubmit)
	s.handlePage("GET", "/imports/{id}", read, s.importJobPage)
	s.handlePage("POST", "/imports/{id}/cancel", write, s.importCancelSubmit)
	s.handlePage("GET", "/imports/{id}/errors.csv", read, s.importErrorsDownload)
}

// importListData is the list of import jobs.
type importListData struct {
	Jobs       []leadcycle.ImportJob
	Status     string
	Statuses   []string
	NextCursor string
}

func (s *Server) importListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	status := r.URL.Query().Get("status")
	q := url.Values{"limit": {"50"}}
	if status != "" {
		q.Set("status", status)
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var res leadcycle.Page[leadcycle.ImportJob]
	if err := s.api(r, p, "GET", importsBase+"?"+q.Encode(), nil, &res); err != nil {
		return "", err
	}
	p.Title, p.Nav = p.T("imports.title"), "imports"
	p.Data = &importListData{Jobs: res.Items, Status: status, Statuses: leadcycle.ImportStatuses, NextCursor: res.NextCursor}
	return "imports", nil
}

// importNewData is the upload form.
type importNewData struct {
	Entities   []string
	OnMatch    []string
	Strategies []leadcycle.MatchingStrategy
	Mappings   []leadcycle.ImportMapping
}

func (s *Server) importNewPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Form.Set("entity", cmp.Or(r.URL.Query().Get("entity"), leadcycle.ImportContacts))
	p.Form.Set("on_match", leadcycle.OnMatchUpdate)
	return s.importNewForm(r, p), nil
}

// importNewForm fills the upload form's choices.
func (s *Server) importNewForm(r *http.Request, p *page) string {
	d := &importNewData{Entities: leadcycle.ImportEntities, OnMatch: leadcycle.OnMatchActions}
	var strategies leadcycle.Page[leadcycle.MatchingStrategy]
	if err := s.api(r, p, "GET", "/api/v1/matching-strategies?limit=100&sort=name", nil, &strategies); err == nil {
		d.Strategies = strategies.Items
	}
	if p.Can("import-mappings:read") {
		var mappings leadcycle.Page[leadcycle.ImportMapping]
		if err := s.api(r, p, "GET", "/api/v1/import-mappings?limit=100&sort=name", nil, &mappings); err == nil {
			d.Mappings = mappings.Items
		}
	}
	p.Title, p.Nav, p.Data = p.T("imports.new_title"), "imports", d
	return "import_new"
}

// importOptionsOf reads the import options of the upload form (and of the
// mapping step, which carries them on as hidden fields).
func importOptionsOf(form url.Values) (leadcycle.ImportOptions, error) {
	o := leadcycle.ImportOptions{Entity: form.Get("entity"), OnMatch: form.Get("on_match"),
		DayFirst: form.Get("day_first") != "", ClearEmpty: form.Get("clear_empty") != ""}
	for name, dst := range map[string]**leadcycle.ID{"strategy_id": &o.StrategyID, "mapping_id": &o.MappingID} {
		v := strings.TrimSpace(form.Get(name))
		if v == "" {
			continue
		}
		id, ok := leadcycle.ParseID(v)
		if !ok {
			return o, leadcycle.FieldErrorf(leadcycle.EInvalid, name, "must be a record id")
		}
		*dst = &id
	}
	return o, nil
}

// importMappingData is the mapping step: the file's columns, their first
// values and the field each goes into.
type importMappingData struct {
	Token    string
	FileName string
	Options  leadcycle.ImportOptions
	Preview  *ImportPreview
	Rows     []importMapRow
}

// importMapRow is one column of the file in the mapping step.
type importMapRow struct {
	Index   int
	Header  string
	Samples []string
	Field   string // chosen
	How     string // how the suggestion was made
	Error   string
}

func (s *Server) importUploadSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return "", leadcycle.Errorf(leadcycle.EMalformed, "the upload could not be read: %v", err)
	}
	p.Form = r.PostForm
	opts, err := importOptionsOf(r.PostForm)
	if err != nil {
		return s.importNewProblem(r, p, err)
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		return s.importNewProblem(r, p, leadcycle.FieldErrorf(leadcycle.EInvalid, "file", "%s", p.T("imports.file_required")))
	}
	defer file.Close()
	token, err := s.stageUpload(p.User, file)
	if err != nil {
		return s.importNewProblem(r, p, err)
	}
	name := filepath.Base(hdr.Filename)
	prev, err := s.previewStaged(r, p, token, name, opts)
	if err != nil {
		s.dropStaged(p.User, token)
		return s.importNewProblem(r, p, err)
	}
	p.Data = newImportMapping(token, name, opts, prev, nil)
	p.Title, p.Nav = p.T("imports.mapping_title", "File", name), "imports"
	p.Error = prev.Error
	return "import_mapping", nil
}

// importNewProblem shows the upload form again with a problem.
func (s *Server) importNewProblem(r *http.Request, p *page, err error) (string, error) {
	code := leadcycle.ErrorCode(err)
	if code == leadcycle.EInternal {
		return "", err
	}
	name := s.importNewForm(r, p)
	p.Error = leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		p.FieldErrors[f.Field] = f.Message
	}
	p.Status = StatusCode(code)
	if code == leadcycle.EMalformed || code == leadcycle.EUnsupported {
		p.Status = http.StatusUnprocessableEntity
	}
	return name, nil
}

// newImportMapping lays out the mapping step; chosen, when not nil, holds
// the user's choices by column (after a refused start).
func newImportMapping(token, name string, opts leadcycle.ImportOptions, prev *ImportPreview, chosen map[int]string) *importMappingData {
	d := &importMappingData{Token: token, FileName: name, Options: opts, Preview: prev}
	for _, c := range prev.Columns {
		row := importMapRow{Index: c.Index, Header: c.Header, Field: c.Field, How: c.How}
		if f, ok := chosen[c.Index]; ok {
			row.Field = f
		}
		for _, sample := range prev.Samples {
			if c.Index < len(sample) && strings.TrimSpace(sample[c.Index]) != "" {
				row.Samples = append(row.Samples, sample[c.Index])
			}
		}
		d.Rows = append(d.Rows, row)
	}
	return d
}

func (s *Server) importStartSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if err := r.ParseForm(); err != nil { // htmx sends the CSRF token as a header: the form is not read yet
		return "", leadcycle.Errorf(leadcycle.EMalformed, "the form could not be read: %v", err)
	}
	form := r.PostForm
	token, name := form.Get("token"), form.Get("file_name")
	opts, err := importOptionsOf(form)
	if err != nil {
		return "", err
	}
	if _, err := s.stagedPath(p.User, token); err != nil {
		return s.importNewProblem(r, p, err)
	}
	prev, err := s.previewStaged(r, p, token, name, opts)
	if err != nil {
		return s.importNewProblem(r, p, err)
	}
	chosen := map[int]string{}
	for _, c := range prev.Columns {
		chosen[c.Index] = strings.TrimSpace(form.Get(fmt.Sprintf("map.%d", c.Index)))
	}
	opts.Columns = importColumnChoices(prev.Columns, chosen)
	var job leadcycle.ImportJob
	if err := s.apiStaged(r, p, "POST", importsBase, token, name, opts, &job); err != nil {
		if leadcycle.ErrorCode(err) == leadcycle.EInternal {
			return "", err
		}
		d := newImportMapping(token, name, opts, prev, chosen)
		p.Error = leadcycle.ErrorMessage(err)
		for _, f := range leadcycle.ErrorFields(err) {
			p.FieldErrors[f.Field] = f.Message
			for i := range d.Rows {
				if key := strings.TrimPrefix(strings.TrimSuffix(f.Field, "]"), "columns["); key != f.Field && (key == d.Rows[i].Header || key == fmt.Sprintf("#%d", d.Rows[i].Index+1)) {
					d.Rows[i].Error = f.Message
				}
			}
		}
		p.Data, p.Status = d, StatusCode(leadcycle.ErrorCode(err))
		p.Title, p.Nav = p.T("imports.mapping_title", "File", name), "imports"
		return "import_mapping", nil
	}
	s.dropStaged(p.User, token)
	s.redirect(w, r, "/imports/"+job.ID.String(), p.T("imports.started", "File", job.FileName))
	return "", nil
}

// importColumnChoices turns the mapping step's selects into the columns
// option: the columns whose field the user changed, and the suggested
// columns whose field a changed one took, so that the API refuses a field
// chosen twice instead of quietly dropping the suggestion. Columns are named
// by header, or by position ("#3") when the header is empty or repeated.
func importColumnChoices(suggested []leadcycle.ImportColumn, chosen map[int]string) map[string]string {
	count := map[string]int{}
	taken := map[string]bool{}
	for _, c := range suggested {
		count[c.Header]++
		if f := chosen[c.Index]; f != c.Field && f != "" {
			taken[f] = true
		}
	}
	out := map[string]string{}
	for _, c := range suggested {
		f := chosen[c.Index]
		if f == c.Field && !(f != "" && taken[f]) {
			continue
		}
		key := c.Header
		if key == "" || count[key] > 1 {
			key = fmt.Sprintf("#%d", c.Index+1)
		}
		out[key] = f
	}
	return out
}

// importJobData is a job's page.
type importJobData struct {
	Job    leadcycle.ImportJob
	Errors []leadcycle.ImportError
	// MoreErrors is set when the report has more lines than shown.
	MoreErrors bool
	Now        time.Time
}

// Running reports whether the page should poll the job.
func (d *importJobData) Running() bool { return !d.Job.Final() }

// Percent is how far into the file the job is.
func (d *importJobData) Percent() int {
	if d.Job.Status == leadcycle.ImportDone {
		return 100
	}
	return pctOf(d.Job.BytesDone, d.Job.Size)
}

// RowsPerSecond is the job's speed so far, 0 before it starts.
func (d *importJobData) RowsPerSecond() float64 {
	j := d.Job
	if j.StartedAt == nil {
		return 0
	}
	end := d.Now
	if j.FinishedAt != nil {
		end = *j.FinishedAt
	}
	secs := end.Sub(*j.StartedAt).Seconds()
	if secs < 0.001 {
		return 0
	}
	return float64(int64(float64(j.Rows)/secs*10)) / 10
}

// importErrorsShown is the number of report lines on the job's page.
const importErrorsShown = 20

func (s *Server) importJobPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id := url.PathEscape(r.PathValue("id"))
	d := &importJobData{Now: p.Now}
	if err := s.api(r, p, "GET", importsBase+"/"+id, nil, &d.Job); err != nil {
		return "", err
	}
	var errs leadcycle.Page[leadcycle.ImportError]
	if err := s.api(r, p, "GET", fmt.Sprintf("%s/%s/errors?limit=%d", importsBase, id, importErrorsShown), nil, &errs); err != nil {
		return "", err
	}
	d.Errors, d.MoreErrors = errs.Items, errs.NextCursor != ""
	p.Title, p.Nav, p.Data = p.T("imports.job_title", "File", d.Job.FileName), "imports", d
	return "import", nil
}

func (s *Server) importCancelSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id := url.PathEscape(r.PathValue("id"))
	var job leadcycle.ImportJob
	if err := s.api(r, p, "POST", importsBase+"/"+id+"/cancel", nil, &job); err != nil {
		if leadcycle.ErrorCode(err) != leadcycle.EConflict {
			return "", err
		}
		s.redirect(w, r, "/imports/"+id, leadcycle.ErrorMessage(err))
		return "", nil
	}
	msg := "imports.cancel_requested"
	if job.Status == leadcycle.ImportCanceled {
		msg = "imports.canceled"
	}
	s.redirect(w, r, "/imports/"+id, p.T(msg))
	return "", nil
}

// importErrorsDownload passes the API's CSV report on, so that the page's
// session downloads it.
func (s *Server) importErrorsDownload(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id := url.PathEscape(r.PathValue("id"))
	call, err := s.apiRaw(r, p, "GET", importsBase+"/"+id+"/errors.csv")
	if err != nil {
		return "", err
	}
	for _, h := range []string{"Content-Type", "Content-Disposition"} {
		w.Header().Set(h, call.header.Get(h))
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(call.body.Bytes())
	return "", nil
}

// apiRaw calls the API like api but returns the answer as it came, for
// answers that are not JSON.
func (s *Server) apiRaw(r *http.Request, p *page, method, path string) (*apiCall, error) {
	req, err := http.NewRequestWithContext(r.Context(), method, path, nil)
	if err != nil {
		return nil, err
	}
	req.RemoteAddr = r.RemoteAddr
	for _, c := range r.Cookies() {
		if c.Name == SessionCookie {
			req.AddCookie(c)
		}
	}
	req.Header.Set(CSRFHeader, p.CSRF)
	call := &apiCall{header: http.Header{}}
	s.mux.ServeHTTP(call, req)
	if call.status == 0 {
		call.status = http.StatusOK
	}
	if call.status >= 300 {
		return nil, problemError(call)
	}
	return call, nil
}

// Staged uploads: the file of the mapping step, kept until the import
// starts (or for a day).

// stagedToken is what rand.Text makes.
var stagedToken = regexp.MustCompile(`^[A-Z2-7]{26}$`)

// stageMaxAge is how long an upload waits for its import to start.
const stageMaxAge = 24 * time.Hour

func (s *Server) stageDir() string {
	if s.importDir != "" {
		return s.importDir
	}
	return os.TempDir()
}

func stageName(u *leadcycle.User, token string) string {
	return fmt.Sprintf("leadcycle-stage-%s-%s", u.ID, token)
}

// stageUpload keeps an uploaded file for the mapping step and returns its
// token.
func (s *Server) stageUpload(u *leadcycle.User, src io.Reader) (string, error) {
	s.dropOldStaged()
	token := rand.Text()
	f, err := os.OpenFile(filepath.Join(s.stageDir(), stageName(u, token)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("stage upload: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(src, s.maxImport+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.dropStaged(u, token)
		return "", fmt.Errorf("stage upload: %w", err)
	}
	if n > s.maxImport {
		s.dropStaged(u, token)
		return "", leadcycle.Errorf(leadcycle.ETooLarge, "the upload is larger than the import limit of %d bytes", s.maxImport)
	}
	return token, nil
}

// stagedPath is the file of a token of the user; an unknown or expired
// token is an error asking for the file again.
func (s *Server) stagedPath(u *leadcycle.User, token string) (string, error) {
	gone := leadcycle.FieldErrorf(leadcycle.EInvalid, "file", "the uploaded file is no longer here: choose it again")
	if !stagedToken.MatchString(token) {
		return "", gone
	}
	path := filepath.Join(s.stageDir(), stageName(u, token))
	if _, err := os.Stat(path); err != nil {
		return "", gone
	}
	return path, nil
}

func (s *Server) dropStaged(u *leadcycle.User, token string) {
	if stagedToken.MatchString(token) {
		os.Remove(filepath.Join(s.stageDir(), stageName(u, token)))
	}
}

// dropOldStaged removes the uploads whose import never started.
func (s *Server) dropOldStaged() {
	files, _ := filepath.Glob(filepath.Join(s.stageDir(), "leadcycle-stage-*"))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && time.Since(st.ModTime()) > stageMaxAge {
			os.Remove(f)
		}
	}
}

// previewStaged asks the API's dry run about a staged file.
func (s *Server) previewStaged(r *http.Request, p *page, token, name string, opts leadcycle.ImportOptions) (*ImportPreview, error) {
	var prev ImportPreview
	if err := s.apiStaged(r, p, "POST", importPreviewPath, token, name, opts, &prev); err != nil {
		return nil, err
	}
	return &prev, nil
}

// apiStaged sends a staged file with import options to the API as a
// multipart upload.
func (s *Server) apiStaged(r *http.Request, p *page, method, path, token, name string, opts leadcycle.ImportOptions, out any) error {
	staged, err := s.stagedPath(p.User, token)
	if err != nil {
		return err
	}
	f, err := os.Open(staged)
	if err != nil {
		return err
	}
	defer f.Close()
	optsJSON, err := json.Marshal(opts)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := mw.WriteField("options", string(optsJSON))
		if err == nil {
			var part io.Writer
			if part, err = mw.CreateFormFile("file", name); err == nil {
				_, err = io.Copy(part, f)
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	return s.api(r, p, method, path, multipartBody{body: pr, contentType: mw.FormDataContentType()}, out)
}

// ImportFieldLabel is the shown name of an importable field: the catalog's
// for the built-in fields, the custom field's own label otherwise.
func (p *page) ImportFieldLabel(name, label string) string {
	id := "imports.field." + name
	if t := p.T(id); t != id {
		return t
	}
	return cmp.Or(label, name)
}
