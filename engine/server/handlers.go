package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leakgate/leakgate/engine/export"
	"github.com/leakgate/leakgate/engine/exportbundle"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/providers/leakinject"
)

// Routes of the API.
const (
	RouteTrigger      = "POST /api/jobs/download-tracker/trigger"
	RouteJob          = "GET /api/jobs/{id}"
	RouteJobs         = "GET /api/jobs"
	RouteCancelJob    = "DELETE /api/jobs/{id}"
	RouteExport       = "GET /api/exports/{id}"
	RouteExportFile   = "GET /api/exports/{id}/files/{name}"
	RouteDeleteExport = "DELETE /api/exports/{id}"
	RouteHealthz      = "GET /healthz"
	RouteReadyz       = "GET /readyz"
)

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(RouteTrigger, s.trigger)
	mux.HandleFunc(RouteJob, s.getJob)
	mux.HandleFunc(RouteJobs, s.listJobs)
	mux.HandleFunc(RouteCancelJob, s.cancelJob)
	mux.HandleFunc(RouteExport, s.getExport)
	mux.HandleFunc(RouteExportFile, s.getExportFile)
	mux.HandleFunc(RouteDeleteExport, s.deleteExport)
	mux.HandleFunc(RouteHealthz, s.healthz)
	mux.HandleFunc(RouteReadyz, s.readyz)
	return mux
}

// JobView is a job as the API shows it.
type JobView struct {
	ID       string            `json:"id"`
	Kind     string            `json:"kind"`
	Status   jobs.State        `json:"status"`
	Error    string            `json:"error,omitempty"`
	Note     string            `json:"note,omitempty"`
	Attempt  int               `json:"attempt"`
	Progress jobs.Progress     `json:"progress"`
	Params   json.RawMessage   `json:"params,omitempty"`
	Result   json.RawMessage   `json:"result,omitempty"`
	Created  time.Time         `json:"created"`
	Started  time.Time         `json:"started,omitzero"`
	Finished time.Time         `json:"finished,omitzero"`
	Timings  Timings           `json:"timings"`
	Links    map[string]string `json:"links"`
	// ExportGone, for a succeeded job whose export was deleted (by DELETE
	// or by retention), says so; Links then has no "export".
	ExportGone string `json:"export_gone,omitempty"`
}

// Timings are the durations of a job so far, in seconds.
type Timings struct {
	// Waited is the time from creation to start (or to now, if queued).
	Waited float64 `json:"waited_seconds"`
	// Ran is the run time (so far, if running).
	Ran float64 `json:"ran_seconds"`
}

func (s *Server) jobView(j jobs.Job) JobView {
	now := s.svc.Now()
	v := JobView{ID: j.ID, Kind: j.Kind, Status: j.State, Error: j.Error, Note: j.Note, Attempt: j.Attempt,
		Progress: j.Progress, Params: j.Params, Result: j.Result, Created: j.Created, Started: j.Started, Finished: j.Finished,
		Links: map[string]string{"self": "/api/jobs/" + j.ID}}
	switch {
	case !j.Started.IsZero():
		v.Timings.Waited = seconds(j.Started.Sub(j.Created))
	case j.State == jobs.Queued:
		v.Timings.Waited = seconds(now.Sub(j.Created))
	}
	switch {
	case !j.Finished.IsZero() && !j.Started.IsZero():
		v.Timings.Ran = seconds(j.Finished.Sub(j.Started))
	case j.State == jobs.Running:
		v.Timings.Ran = seconds(now.Sub(j.Started))
	}
	if !j.State.Terminal() {
		v.Links["cancel"] = "/api/jobs/" + j.ID
	}
	if j.State == jobs.Succeeded {
		if s.bundles.Exists(j.ID) {
			v.Links["export"] = "/api/exports/" + j.ID
		} else {
			v.ExportGone = s.goneReason()
		}
	}
	return v
}

func seconds(d time.Duration) float64 { return math.Round(max(d.Seconds(), 0)*1e6) / 1e6 }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// trigger queues a download-tracker export.
func (s *Server) trigger(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeProblem(w, r, Problem{Status: http.StatusUnsupportedMediaType, Detail: "send the body as application/json"})
			return
		}
	}
	var req export.Request
	if !s.decodeStrict(w, r, &req) {
		return
	}
	spec, err := req.Resolve(s.defaults, s.svc.MarketNow())
	if err != nil {
		validationProblem(w, r, err.Error(), export.FieldErrors(err)...)
		return
	}
	job, err := s.queue.Enqueue(r.Context(), export.Kind, spec)
	var full *jobs.FullError
	switch {
	case errors.As(err, &full):
		secs := int(math.Ceil(full.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeProblem(w, r, Problem{Type: ProblemQueueFull, Title: "Queue full", Status: http.StatusTooManyRequests,
			Detail: fmt.Sprintf("%d export jobs are waiting already; retry after %d seconds", full.Capacity, secs)})
		return
	case err != nil:
		s.internalError(w, r, err)
		return
	}
	if leakinject.On(leakinject.ServerGoroutinePerJob) {
		// The leak: a watcher per job that cancels it at shutdown, and
		// does not end when the job does.
		go func() {
			<-s.closing
			_, _ = s.queue.Cancel(context.Background(), job.ID)
		}()
	}
	w.Header().Set("Location", "/api/jobs/"+job.ID)
	writeJSON(w, http.StatusAccepted, s.jobView(job))
}

// decodeStrict decodes the JSON body of r into v, or answers the problem
// and returns false: 413 for a body over MaxBodyBytes (declared larger:
// before reading any of it, so that a client sending "Expect:
// 100-continue" is never told to continue), 408 for a body that does not
// arrive within Config.BodyTimeout, and 400 for anything but one JSON
// value whose keys are v's fields, spelled as they are (encoding/json
// would match them in any case). An empty body leaves v as it is.
func (s *Server) decodeStrict(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength > MaxBodyBytes {
		bodyTooLarge(w, r)
		return false
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)); err == nil {
		// The next request on the connection sets its own deadlines.
		defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		bodyTooLarge(w, r)
		return false
	case errors.Is(err, os.ErrDeadlineExceeded):
		w.Header().Set("Connection", "close")
		writeProblem(w, r, Problem{Status: http.StatusRequestTimeout,
			Detail: fmt.Sprintf("the request body did not arrive within %s", s.cfg.BodyTimeout)})
		return false
	case err != nil:
		// The error names the connection's addresses: not for the client.
		s.log.Debug("server: read body", "path", r.URL.Path, "err", err)
		validationProblem(w, r, "body: unreadable", &export.FieldError{Field: "body", Detail: "unreadable"})
		return false
	}
	if fe := decodeJSON(data, v); fe != nil {
		validationProblem(w, r, fe.Error(), fe)
		return false
	}
	return true
}

func bodyTooLarge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	detail := fmt.Sprintf("larger than %d bytes", MaxBodyBytes)
	writeProblem(w, r, Problem{Type: ProblemValidation, Status: http.StatusRequestEntityTooLarge,
		Detail: "body: " + detail, Errors: []*export.FieldError{{Field: "body", Detail: detail}}})
}

// decodeJSON decodes data into v as decodeStrict describes. It echoes
// input only as export.Excerpt.
func decodeJSON(data []byte, v any) *export.FieldError {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil // no body: all defaults
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if err = dec.Decode(&struct{}{}); errors.Is(err, io.EOF) {
			return unknownKey(data, v)
		}
		if err == nil {
			return &export.FieldError{Field: "body", Detail: "more than one JSON value"}
		}
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return &export.FieldError{Field: export.Excerpt(field), Detail: fmt.Sprintf("cannot hold a JSON %s", typeErr.Value)}
	case errors.As(err, &syntaxErr):
		return &export.FieldError{Field: "body", Detail: fmt.Sprintf("malformed JSON at byte %d: %s", syntaxErr.Offset, export.Excerpt(err.Error()))}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return &export.FieldError{Field: export.Excerpt(name), Detail: "unknown field"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &export.FieldError{Field: "body", Detail: "truncated JSON"}
	}
	return &export.FieldError{Field: "body", Detail: export.Excerpt(err.Error())}
}

// unknownKey returns an "unknown field" error for the first key (in
// sorted order) of the JSON object data that is not spelled exactly as a
// json tag of the struct v points to, or nil.
func unknownKey(data []byte, v any) *export.FieldError {
	t := reflect.TypeOf(v)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(data, &keys) != nil {
		return nil
	}
	known := map[string]bool{}
	for f := range t.Elem().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		known[name] = true
	}
	var bad []string
	for k := range keys {
		if !known[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &export.FieldError{Field: export.Excerpt(slices.Min(bad)), Detail: "unknown field (keys are case-sensitive)"}
}

// pathName returns the path value key of r if it is a valid id or file
// name, and answers 400 otherwise.
func pathName(w http.ResponseWriter, r *http.Request, key string) (string, bool) {
	v := r.PathValue(key)
	if err := exportbundle.ValidName(v); err != nil {
		validationProblem(w, r, err.Error(), &export.FieldError{Field: key, Detail: err.Error()})
		return "", false
	}
	return v, true
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id, ok := pathName(w, r, "id")
	if !ok {
		return
	}
	job, err := s.queue.Get(r.Context(), id)
	if errors.Is(err, jobs.ErrNotFound) {
		jobNotFound(w, r, id)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.jobView(job))
}

// JobList is the answer of GET /api/jobs.
type JobList struct {
	Jobs []JobView `json:"jobs"`
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	var f jobs.Filter
	q := r.URL.Query()
	for key := range q {
		if key != "status" && key != "limit" {
			validationProblem(w, r, "unknown query parameter "+key, &export.FieldError{Field: key, Detail: "unknown query parameter"})
			return
		}
	}
	if v := q.Get("status"); v != "" {
		st, err := jobs.ParseState(v)
		if err != nil {
			validationProblem(w, r, err.Error(), &export.FieldError{Field: "status", Detail: err.Error()})
			return
		}
		f.State = st
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			validationProblem(w, r, "limit must be 1 to 1000", &export.FieldError{Field: "limit", Detail: "want an integer from 1 to 1000"})
			return
		}
		f.Limit = n
	}
	list, err := s.queue.List(r.Context(), f)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := JobList{Jobs: make([]JobView, 0, len(list))}
	for _, j := range list {
		out.Jobs = append(out.Jobs, s.jobView(j))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	id, ok := pathName(w, r, "id")
	if !ok {
		return
	}
	job, err := s.queue.Cancel(r.Context(), id)
	switch {
	case errors.Is(err, jobs.ErrNotFound):
		jobNotFound(w, r, id)
	case errors.Is(err, jobs.ErrFinished):
		writeProblem(w, r, Problem{Type: ProblemJobFinished, Title: "Job already finished", Status: http.StatusConflict,
			Detail: fmt.Sprintf("job %s is %s already; only queued and running jobs can be cancelled", id, job.State)})
	case err != nil:
		s.internalError(w, r, err)
	case job.State == jobs.Cancelled:
		writeJSON(w, http.StatusOK, s.jobView(job))
	default:
		// Running: the cancellation is under way.
		writeJSON(w, http.StatusAccepted, s.jobView(job))
	}
}

// ExportView is an export's manifest as the API shows it.
type ExportView struct {
	ID      string            `json:"id"`
	Created time.Time         `json:"created"`
	Labels  map[string]string `json:"labels,omitempty"`
	Files   []FileView        `json:"files"`
	Links   map[string]string `json:"links"`
}

// FileView is one file of an export.
type FileView struct {
	exportbundle.File
	Href string `json:"href"`
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request) {
	id, ok := pathName(w, r, "id")
	if !ok {
		return
	}
	m, err := s.bundles.Manifest(id)
	if errors.Is(err, exportbundle.ErrNotFound) {
		s.exportMissing(w, r, id)
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	v := ExportView{ID: m.ID, Created: m.Created, Labels: m.Labels, Files: make([]FileView, 0, len(m.Files)),
		Links: map[string]string{"self": "/api/exports/" + m.ID, "job": "/api/jobs/" + m.ID,
			"manifest": "/api/exports/" + m.ID + "/files/" + exportbundle.ManifestName}}
	for _, f := range m.Files {
		v.Files = append(v.Files, FileView{File: f, Href: "/api/exports/" + m.ID + "/files/" + f.Name})
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) getExportFile(w http.ResponseWriter, r *http.Request) {
	id, ok := pathName(w, r, "id")
	if !ok {
		return
	}
	name, ok := pathName(w, r, "name")
	if !ok {
		return
	}
	f, entry, err := s.bundles.OpenFile(id, name)
	if errors.Is(err, exportbundle.ErrNotFound) {
		writeProblem(w, r, Problem{Status: http.StatusNotFound,
			Detail: fmt.Sprintf("no file %s in export %s; GET /api/exports/%s lists its files", name, id, id)})
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	defer f.Close()
	m, err := s.bundles.Manifest(id)
	modtime := time.Time{}
	if err == nil {
		modtime = m.Created
	}
	h := w.Header()
	h.Set("Content-Type", entry.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	if entry.SHA256 != "" {
		h.Set("ETag", `"`+entry.SHA256+`"`)
		h.Set("Repr-Digest", "sha-256=:"+hexToBase64(entry.SHA256)+":")
	}
	http.ServeContent(w, r, name, modtime, f)
}

func (s *Server) deleteExport(w http.ResponseWriter, r *http.Request) {
	id, ok := pathName(w, r, "id")
	if !ok {
		return
	}
	err := s.bundles.Delete(id)
	switch {
	case errors.Is(err, exportbundle.ErrNotFound):
		exportNotFound(w, r, id)
	case err != nil:
		s.internalError(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// healthz answers 200 while the process runs.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 while the server serves and its database answers,
// 503 before, during shutdown, and when the database does not answer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		writeProblem(w, r, Problem{Status: http.StatusServiceUnavailable, Detail: "not serving (starting or shutting down)"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.svc.DB().PingContext(ctx); err != nil {
		writeProblem(w, r, Problem{Status: http.StatusServiceUnavailable, Detail: "database: " + err.Error()})
		return
	}
	st := s.queue.Stats()
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "queued": st.Queued, "running": st.Running,
		"capacity": st.Capacity, "workers": st.Workers})
}

func jobNotFound(w http.ResponseWriter, r *http.Request, id string) {
	writeProblem(w, r, Problem{Status: http.StatusNotFound,
		Detail: fmt.Sprintf("no job %s; GET /api/jobs lists the jobs kept", id)})
}

// goneReason says why the export of a succeeded job is missing.
func (s *Server) goneReason() string {
	return fmt.Sprintf("the export was deleted, by DELETE or by retention (at most %d exports kept, none older than %s); trigger the export again",
		s.svc.Config().KeepExports, s.svc.Config().ExportMaxAge)
}

// exportMissing answers for an export that does not exist: 410 Gone when
// its job succeeded (the export existed and was deleted), 404 otherwise.
func (s *Server) exportMissing(w http.ResponseWriter, r *http.Request, id string) {
	if j, err := s.queue.Get(r.Context(), id); err == nil && j.State == jobs.Succeeded {
		writeProblem(w, r, Problem{Status: http.StatusGone, Detail: fmt.Sprintf("export %s: %s", id, s.goneReason())})
		return
	}
	exportNotFound(w, r, id)
}

func exportNotFound(w http.ResponseWriter, r *http.Request, id string) {
	writeProblem(w, r, Problem{Status: http.StatusNotFound,
		Detail: fmt.Sprintf("no export %s: an export appears when its job succeeds, until deleted or pruned; GET /api/jobs/%s tells its job's state", id, id)})
}

func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("server: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeProblem(w, r, Problem{Status: http.StatusInternalServerError, Detail: "internal error; see the server log"})
}

// hexToBase64 converts a hex digest to the base64 form of RFC 9530.
func hexToBase64(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}
