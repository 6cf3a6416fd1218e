package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"go.uber.org/zap/zapcore"

	istiolog "istio.io/istio/pkg/log"
)

// logEntry is one warning or error that Istio logged while it built the configuration.
type logEntry struct {
	Level   string `json:"level"`
	Scope   string `json:"scope,omitempty"`
	Message string `json:"message"`
}

// captureCore is a zap core that keeps Istio's warnings and errors, so that a config Istio rejects at push time
// (for example an EnvoyFilter value it cannot build) surfaces in the oracle's answer with Istio's own words.
type captureCore struct {
	mu      *sync.Mutex
	entries *[]logEntry
	fields  []zapcore.Field
}

func (c captureCore) Enabled(l zapcore.Level) bool { return l >= zapcore.WarnLevel }

func (c captureCore) With(fields []zapcore.Field) zapcore.Core {
	cp := c
	cp.fields = append(append([]zapcore.Field{}, c.fields...), fields...)
	return cp
}

func (c captureCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c captureCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	// Istio's scopes call Write directly (no Check), so filter the level here.
	if !c.Enabled(e.Level) {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range append(append([]zapcore.Field{}, c.fields...), fields...) {
		f.AddTo(enc)
	}
	msg := e.Message
	if len(enc.Fields) > 0 {
		keys := make([]string, 0, len(enc.Fields))
		for k := range enc.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if k == "scope" {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s=%v", k, enc.Fields[k]))
		}
		if len(parts) > 0 {
			msg += " (" + strings.Join(parts, " ") + ")"
		}
	}
	scope := e.LoggerName
	if s, ok := enc.Fields["scope"]; ok {
		scope = fmt.Sprint(s)
	}
	c.mu.Lock()
	*c.entries = append(*c.entries, logEntry{Level: e.Level.String(), Scope: scope, Message: msg})
	c.mu.Unlock()
	return nil
}

func (c captureCore) Sync() error { return nil }

type logCapture struct {
	mu      sync.Mutex
	entries []logEntry
}

func (l *logCapture) snapshot() []logEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logEntry{}, l.entries...)
}

// configureIstioLog routes Istio's log to stderr when verbose (to /dev/null otherwise) and captures its warnings
// and errors in every case.
func configureIstioLog(verbose bool) (*logCapture, error) {
	lc := &logCapture{}
	opts := istiolog.DefaultOptions()
	if verbose {
		opts.OutputPaths = []string{"stderr"}
	} else {
		opts.OutputPaths = []string{os.DevNull}
	}
	opts.ErrorOutputPaths = []string{"stderr"}
	opts.WithExtension(func(c zapcore.Core) (zapcore.Core, func() error, error) {
		return zapcore.NewTee(c, captureCore{mu: &lc.mu, entries: &lc.entries}), func() error { return nil }, nil
	})
	return lc, istiolog.Configure(opts)
}
