package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// apiCall is one in-process call of the JSON API made by a page on behalf
// of its signed-in user.
type apiCall struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (c *apiCall) Header() http.Header         { return c.header }
func (c *apiCall) Write(b []byte) (int, error) { return c.body.Write(b) }
func (c *apiCall) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

// api calls the JSON API with the page request's session cookie and CSRF
// token, so the API checks the user's role and the lead scopes exactly as
// for any client. body is JSON-encoded unless it is an io.Reader or nil; a
// 2xx answer is decoded into out (when not nil), any other answer becomes
// the error of its problem document.
func (s *Server) api(r *http.Request, p *page, method, path string, body, out any) error {
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	case multipartBody:
		rd, contentType = b.body, b.contentType
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, path, rd)
	if err != nil {
		return err
	}
	req.RemoteAddr = r.RemoteAddr
	req.Header.Set("User-Agent", r.UserAgent())
	for _, c := range r.Cookies() {
		if c.Name == SessionCookie {
			req.AddCookie(c)
		}
	}
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set(CSRFHeader, p.CSRF)
	call := &apiCall{header: http.Header{}}
	s.mux.ServeHTTP(call, req)
	if call.status == 0 {
		call.status = http.StatusOK
	}
	if call.status >= 300 {
		return problemError(call)
	}
	if out == nil || call.status == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(call.body.Bytes(), out); err != nil {
		return fmt.Errorf("decode %s %s: %w", method, path, err)
	}
	return nil
}

// multipartBody is an upload passed on to the API as it came.
type multipartBody struct {
	body        io.Reader
	contentType string
}

// problemError turns an API problem document back into a domain error with
// its field errors.
func problemError(call *apiCall) error {
	var p Problem
	if err := json.Unmarshal(call.body.Bytes(), &p); err != nil || p.Status == 0 {
		return leadcycle.Errorf(leadcycle.EInternal, "the API answered %d: %s", call.status, strings.TrimSpace(call.body.String()))
	}
	code := leadcycle.EInternal
	for c, st := range statusCodes {
		if st == call.status {
			code = c
			break
		}
	}
	if call.status == http.StatusInternalServerError {
		code = leadcycle.EInternal
	}
	return &leadcycle.Error{Code: code, Message: p.Detail, Fields: p.Errors}
}
