package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// State is the lifecycle state of a job.
type State string

// Job states.
const (
	Queued    State = "queued"
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// States lists every state, in lifecycle order.
var States = []State{Queued, Running, Succeeded, Failed, Cancelled}

// ParseState returns the state named s.
func ParseState(s string) (State, error) {
	if slices.Contains(States, State(s)) {
		return State(s), nil
	}
	return "", fmt.Errorf("unknown job status %q: use queued, running, succeeded, failed or cancelled", s)
}

// Terminal reports whether a job in state s is finished.
func (s State) Terminal() bool { return s == Succeeded || s == Failed || s == Cancelled }

// Job is a stored job.
type Job struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	State State  `json:"status"`
	// Params are the parameters given to Enqueue, as JSON.
	Params json.RawMessage `json:"params,omitempty"`
	// Result is what the handler returned, as JSON.
	Result json.RawMessage `json:"result,omitempty"`
	// Error is why a job failed or was cancelled.
	Error string `json:"error,omitempty"`
	// Note records interruptions: a job queued again after its process
	// stopped says so here.
	Note string `json:"note,omitempty"`
	// Attempt counts the starts of the job that were not interrupted by a
	// graceful Stop.
	Attempt  int       `json:"attempt"`
	Progress Progress  `json:"progress"`
	Created  time.Time `json:"created"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
}

// Duration is the run time of a finished job, zero for others.
func (j Job) Duration() time.Duration {
	if j.Started.IsZero() || j.Finished.IsZero() {
		return 0
	}
	return j.Finished.Sub(j.Started)
}

// ItemState is the state of one item of a job's progress.
type ItemState string

// Item states.
const (
	ItemPending ItemState = "pending"
	ItemRunning ItemState = "running"
	ItemDone    ItemState = "done"
	ItemFailed  ItemState = "failed"
)

// Item is the progress of one unit of a job's work, such as one symbol.
type Item struct {
	Name   string    `json:"name"`
	State  ItemState `json:"state"`
	Detail string    `json:"detail,omitempty"`
}

// Progress is how far a job got: counts and the state of each item.
type Progress struct {
	Total  int    `json:"total"`
	Done   int    `json:"done"`
	Failed int    `json:"failed"`
	Items  []Item `json:"items,omitempty"`
}

// Tracker records the progress of a running job. A handler receives one;
// it is safe for concurrent use.
type Tracker struct {
	mu  sync.Mutex
	p   Progress
	idx map[string]int
}

func newTracker() *Tracker { return &Tracker{idx: map[string]int{}} }

// Init declares the items of the job, all pending.
func (t *Tracker) Init(names ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.p = Progress{Total: len(names), Items: make([]Item, len(names))}
	clear(t.idx)
	for i, n := range names {
		t.p.Items[i] = Item{Name: n, State: ItemPending}
		t.idx[n] = i
	}
}

// Set records the state of item name, with an optional detail (an error
// message, a count). Unknown names are added.
func (t *Tracker) Set(name string, state ItemState, detail string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, ok := t.idx[name]
	if !ok {
		i = len(t.p.Items)
		t.idx[name] = i
		t.p.Items = append(t.p.Items, Item{Name: name})
		t.p.Total++
	}
	t.p.Items[i] = Item{Name: name, State: state, Detail: detail}
	t.p.Done, t.p.Failed = 0, 0
	for _, it := range t.p.Items {
		switch it.State {
		case ItemDone:
			t.p.Done++
		case ItemFailed:
			t.p.Failed++
		}
	}
}

// Progress returns a copy of the progress so far.
func (t *Tracker) Progress() Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.p
	p.Items = slices.Clone(p.Items)
	return p
}

// Errors matched with errors.Is.
var (
	// ErrQueueFull means the queue holds Capacity jobs already.
	ErrQueueFull = errors.New("jobs: queue full")
	// ErrNotFound means no job has the id.
	ErrNotFound = errors.New("jobs: job not found")
	// ErrFinished means the job is finished and cannot be cancelled.
	ErrFinished = errors.New("jobs: job already finished")
	// ErrTimeout is the cause of a job's context when its time is up.
	ErrTimeout = errors.New("jobs: job timed out")
	// ErrCancelled is the cause of a job's context when Cancel stopped it.
	ErrCancelled = errors.New("jobs: job cancelled")
	// ErrShutdown is the cause of a job's context when Stop interrupted it.
	ErrShutdown = errors.New("jobs: queue shutting down")
)

// FullError is the error of Enqueue on a full queue.
type FullError struct {
	Capacity int
	// RetryAfter estimates when a slot will be free.
	RetryAfter time.Duration
}

// Error implements error.
func (e *FullError) Error() string {
	return fmt.Sprintf("jobs: queue full (%d jobs waiting); retry after %s", e.Capacity, e.RetryAfter)
}

// Is makes a FullError match ErrQueueFull.
func (e *FullError) Is(target error) bool { return target == ErrQueueFull }
