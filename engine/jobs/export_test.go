package jobs

// Stopping reports whether Stop was called on q.
func Stopping(q *Queue) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stopping
}
