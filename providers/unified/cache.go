package unified

import (
	"container/list"
	"strconv"
	"sync"
	"time"

	"github.com/leakgate/leakgate/providers"
	"github.com/leakgate/leakgate/providers/leakinject"
)

type kind uint8

const (
	kindBars kind = iota + 1
	kindQuote
)

// key identifies one cached answer. It is comparable, so a lookup builds no
// string and allocates nothing.
type key struct {
	kind     kind
	symbol   string
	interval providers.Interval
	from, to int64
}

// String is the singleflight key; it is built only on a cache miss.
func (k key) String() string {
	return strconv.Itoa(int(k.kind)) + "|" + k.symbol + "|" + string(k.interval) + "|" +
		strconv.FormatInt(k.from, 10) + "|" + strconv.FormatInt(k.to, 10)
}

type value struct {
	bars  []providers.Bar
	quote providers.Quote
}

type entry struct {
	key     key
	val     value
	expires time.Time
}

// cache is a bounded LRU with per-entry expiry.
type cache struct {
	mu    sync.Mutex
	max   int
	items map[key]*list.Element
	order *list.List // front: most recently used
}

func newCache(max int) *cache {
	return &cache{max: max, items: make(map[key]*list.Element), order: list.New()}
}

func (c *cache) get(k key, now time.Time) (value, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return value{}, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, k)
		return value{}, false
	}
	c.order.MoveToFront(el)
	return e.val, true
}

func (c *cache) put(k key, v value, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		e := el.Value.(*entry)
		e.val, e.expires = v, expires
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&entry{key: k, val: v, expires: expires})
	if leakinject.On(leakinject.CacheUnbounded) {
		return // the leak: the bound is never enforced, every key asked for stays
	}
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*entry).key)
	}
}

// len returns how many entries the cache holds, expired ones included.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = make(map[key]*list.Element)
	c.order.Init()
}
