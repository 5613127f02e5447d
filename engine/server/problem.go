package server

import (
	"encoding/json"
	"net/http"

	"github.com/leakgate/leakgate/engine/export"
)

// ProblemContentType is the media type of problem details (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem type URIs (tag URIs, as RFC 9457 suggests for types that are not
// meant to be dereferenced). Problems without a more specific type use
// "about:blank" and the status phrase as title.
const (
	ProblemValidation   = "tag:leakgate.dev,2024:problem/validation"
	ProblemUnauthorized = "tag:leakgate.dev,2024:problem/unauthorized"
	ProblemQueueFull    = "tag:leakgate.dev,2024:problem/queue-full"
	ProblemInvalidPath  = "tag:leakgate.dev,2024:problem/invalid-path"
	ProblemJobFinished  = "tag:leakgate.dev,2024:problem/job-finished"
)

// Problem is an RFC 9457 problem details object, with two extension
// members for validation problems: Field names the first field at fault and
// Errors lists every one.
type Problem struct {
	Type     string               `json:"type"`
	Title    string               `json:"title"`
	Status   int                  `json:"status"`
	Detail   string               `json:"detail,omitempty"`
	Instance string               `json:"instance,omitempty"`
	Field    string               `json:"field,omitempty"`
	Errors   []*export.FieldError `json:"errors,omitempty"`
}

// writeProblem writes p, filling in the status title and the instance.
func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Instance == "" && r != nil {
		p.Instance = r.URL.Path
	}
	if p.Field == "" && len(p.Errors) > 0 {
		p.Field = p.Errors[0].Field
	}
	w.Header().Set("Content-Type", ProblemContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// maxProblemText bounds each text of a validation problem.
const maxProblemText = 256

// validationProblem is a 400 naming the fields at fault. It clips the
// detail and each field error, so that no answer repeats a large input.
func validationProblem(w http.ResponseWriter, r *http.Request, detail string, errs ...*export.FieldError) {
	for i, fe := range errs {
		errs[i] = &export.FieldError{Field: export.Clip(fe.Field, maxProblemText), Detail: export.Clip(fe.Detail, maxProblemText)}
	}
	detail = export.Clip(detail, 2*maxProblemText)
	writeProblem(w, r, Problem{Type: ProblemValidation, Title: "Invalid request", Status: http.StatusBadRequest,
		Detail: detail, Errors: errs})
}
