package yahoo

import "time"

// SetNow replaces the clock Bars and Quote read.
func SetNow(c *Client, now func() time.Time) { c.now = now }
