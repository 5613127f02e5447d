package server

import (
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/leakgate/leakgate/engine/crew"
	"github.com/leakgate/leakgate/engine/jobs"
	"github.com/leakgate/leakgate/providers"
)

// Metric names the admin listener exposes besides the go_* and process_*
// collectors.
const (
	MetricJobs             = "ffe_export_jobs"
	MetricQueueDepth       = "ffe_export_queue_depth"
	MetricQueueCapacity    = "ffe_export_queue_capacity"
	MetricJobsRunning      = "ffe_export_jobs_running"
	MetricJobDuration      = "ffe_export_job_duration_seconds"
	MetricProviderRequests = "ffe_provider_requests_total"
	MetricOpenClients      = "ffe_provider_open_clients"
	MetricUnclosed         = "ffe_unclosed_resources_total"
	MetricHTTPRequests     = "ffe_http_requests_total"
	MetricMonitorPolls     = "ffe_monitor_polls_total"
	MetricMonitorAlerts    = "ffe_monitor_alerts_total"
	// MetricCrewMemoryEntries and MetricCrewMemoryBytes are exported
	// when the crew's memory is on.
	MetricCrewMemoryEntries = "ffe_crew_memory_entries"
	MetricCrewMemoryBytes   = "ffe_crew_memory_bytes"
)

// Metrics is the Prometheus registry of one server. Create it before the
// providers so that their requests can be counted: pass
// providers.WithObserver(m.ObserveProviderRequest) to every provider
// client, ObserveJob as the service's job observer, then the Metrics in
// Deps. A Metrics serves one Server.
type Metrics struct {
	reg              *prometheus.Registry
	jobDuration      *prometheus.HistogramVec
	providerRequests *prometheus.CounterVec
	httpRequests     *prometheus.CounterVec

	mu       sync.Mutex
	attached bool
}

// NewMetrics returns a registry holding the Go runtime and process
// collectors, the provider request counter, and gauges of open provider
// clients and unclosed resources.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricJobDuration,
			Help:    "Run time of finished export jobs, by final status.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"status"}),
		providerRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricProviderRequests,
			Help: "Provider request attempts, by provider and HTTP status code (\"error\" when no answer came).",
		}, []string{"provider", "code"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricHTTPRequests,
			Help: "API requests served, by route pattern and status code.",
		}, []string{"route", "code"}),
	}
	reg.MustRegister(
		// go_gc_heap_live_bytes: the live heap of the latest collection, which
		// leak checks of a server process judge (garbage excluded).
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.jobDuration, m.providerRequests, m.httpRequests,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: MetricOpenClients,
			Help: "Provider clients created and not yet closed (providers.OpenClients).",
		}, func() float64 { return float64(providers.OpenClients()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: MetricUnclosed,
			Help: "Provider clients garbage-collected without Close since start (providers.Unclosed).",
		}, func() float64 { return float64(providers.Unclosed()) }),
	)
	return m
}

// Registry returns the registry, to add collectors of the caller's own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveProviderRequest counts one provider request attempt. Pass it to
// providers.WithObserver.
func (m *Metrics) ObserveProviderRequest(info providers.RequestInfo) {
	code := "error"
	if info.Status > 0 {
		code = strconv.Itoa(info.Status)
	}
	m.providerRequests.WithLabelValues(info.Provider, code).Inc()
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveJob records the run time of a finished job. Pass it as the
// service's job observer (service.Deps.JobObserver).
func (m *Metrics) ObserveJob(j jobs.Job) {
	m.jobDuration.WithLabelValues(string(j.State)).Observe(j.Duration().Seconds())
}

func (m *Metrics) observeHTTP(route string, code int) {
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
}

// attach registers the collectors that read a server's queue, monitor
// and crew memory (nil when off).
func (m *Metrics) attach(q *jobs.Queue, mon func() (polls, alerts uint64), mem *crew.Memory) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.attached {
		return errors.New("server: Metrics already serve another server")
	}
	m.attached = true
	return m.reg.Register(&serverCollector{q: q, mon: mon, mem: mem})
}

// serverCollector reads the queue, the monitor and the crew memory at
// scrape time.
type serverCollector struct {
	q   *jobs.Queue
	mon func() (polls, alerts uint64)
	mem *crew.Memory // nil when the crew's memory is off
}

var (
	descJobs          = prometheus.NewDesc(MetricJobs, "Export jobs in the store, by status.", []string{"status"}, nil)
	descQueueDepth    = prometheus.NewDesc(MetricQueueDepth, "Export jobs waiting to run.", nil, nil)
	descQueueCapacity = prometheus.NewDesc(MetricQueueCapacity, "Most export jobs that may wait.", nil, nil)
	descRunning       = prometheus.NewDesc(MetricJobsRunning, "Export jobs running now.", nil, nil)
	descPolls         = prometheus.NewDesc(MetricMonitorPolls, "Quote polls of the stock monitor.", nil, nil)
	descAlerts        = prometheus.NewDesc(MetricMonitorAlerts, "Alerts recorded by the stock monitor.", nil, nil)
	descMemEntries    = prometheus.NewDesc(MetricCrewMemoryEntries, "Entries the crew's memory holds.", nil, nil)
	descMemBytes      = prometheus.NewDesc(MetricCrewMemoryBytes, "Text bytes of the entries the crew's memory holds.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descJobs, descQueueDepth, descQueueCapacity, descRunning, descPolls, descAlerts} {
		ch <- d
	}
	if c.mem != nil {
		ch <- descMemEntries
		ch <- descMemBytes
	}
}

// Collect implements prometheus.Collector. It reads counts kept in memory
// only, never the database: a scrape does not wait on a slow or busy
// database, nor on the queue's writes to it.
func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.q.Stats()
	ch <- prometheus.MustNewConstMetric(descQueueDepth, prometheus.GaugeValue, float64(st.Queued))
	ch <- prometheus.MustNewConstMetric(descQueueCapacity, prometheus.GaugeValue, float64(st.Capacity))
	ch <- prometheus.MustNewConstMetric(descRunning, prometheus.GaugeValue, float64(st.Running))
	polls, alerts := c.mon()
	ch <- prometheus.MustNewConstMetric(descPolls, prometheus.CounterValue, float64(polls))
	ch <- prometheus.MustNewConstMetric(descAlerts, prometheus.CounterValue, float64(alerts))
	if c.mem != nil {
		ch <- prometheus.MustNewConstMetric(descMemEntries, prometheus.GaugeValue, float64(c.mem.Len()))
		ch <- prometheus.MustNewConstMetric(descMemBytes, prometheus.GaugeValue, float64(c.mem.Bytes()))
	}
	for _, s := range jobs.States {
		ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(st.Jobs[s]), string(s))
	}
}
