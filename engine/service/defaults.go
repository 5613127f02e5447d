package service

import "time"

// Defaults of Config's retention, used when a field is zero.
const (
	DefaultKeepExports       = 100
	DefaultExportMaxAge      = 7 * 24 * time.Hour
	DefaultKeepJobs          = 1000
	DefaultJobMaxAge         = 30 * 24 * time.Hour
	DefaultRetentionInterval = time.Minute
)
