// Command corpusgen writes the Go loggers' corpus with the real libraries: log/slog's JSONHandler and
// go.uber.org/zap's production logger.
//
// Run from this directory: go run . (see ../README.md). Each record carries the scenario step's time
// (slog: the record's time; zap: a fixed clock), so the logged times are known; next to each
// <name>.log goes <name>.expected.ndjson: what each line means, computed from the values handed to
// the logger, never read back from the logged text.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// localZone is the zone slog writes its RFC 3339 times in, so the corpus has times with an offset.
const localZone = "Asia/Kolkata"

type step struct {
	Kind          string  `json:"kind"`
	Message       string  `json:"message"`
	StoredMessage string  `json:"stored_message"`
	Method        string  `json:"method"`
	Path          string  `json:"path"`
	Query         *string `json:"query"`
	Status        int     `json:"status"`
	DurationUS    int64   `json:"duration_us"`
	UserID        *string `json:"user_id"`
	RemoteAddr    string  `json:"remote_addr"`
	Endpoint      string  `json:"endpoint"`
	ErrorMessage  string  `json:"error_message"`
}

type scenario struct {
	Start  string `json:"start"`
	StepMS int64  `json:"step_ms"`
	Steps  []step `json:"steps"`
}

// PaymentError is the application error the error step returns.
type PaymentError struct{ msg string }

func (e *PaymentError) Error() string { return e.msg }

func chargeCard(message string) error { return &PaymentError{msg: message} }

func lookup(items []int, index int) int { return items[index] }

// panicked runs lookup out of range and hands the recovered value and the stack to report.
func panicked(report func(recovered any, stack string)) {
	defer func() {
		if r := recover(); r != nil {
			report(r, string(debug.Stack()))
		}
	}()
	lookup([]int{1, 2, 3}, 5)
}

func (s step) target() string {
	if s.Query != nil {
		return s.Path + "?" + *s.Query
	}
	return s.Path
}

func (s step) duration() time.Duration { return time.Duration(s.DurationUS) * time.Microsecond }

func requestLevel(status int) string {
	switch {
	case status >= 500:
		return "error"
	case status >= 400:
		return "warn"
	}
	return "info"
}

func splitRemote(remote string) (string, int) {
	colon := strings.LastIndex(remote, ":")
	port, _ := strconv.Atoi(remote[colon+1:])
	return strings.Trim(remote[:colon], "[]"), port
}

type row map[string]any

// expected is what the stored event must say; over holds what this logger adds or says differently.
func expected(s step, index, line int, at time.Time, over row) row {
	out := row{"line": line, "step": index, "@timestamp": at.UTC().Format("2006-01-02T15:04:05.000Z")}
	var tags []string
	level := "info"
	switch s.Kind {
	case "request":
		level = requestLevel(s.Status)
		ip, port := splitRemote(s.RemoteAddr)
		tags = append(tags, "http")
		if s.duration() > time.Second {
			tags = append(tags, "slow_request")
		}
		out["message"] = "request"
		out["http.request.method"] = s.Method
		out["url.path"] = s.Path
		out["http.response.status_code"] = s.Status
		out["event.duration"] = s.duration().Nanoseconds()
		out["endpoint"] = s.Endpoint
		out["user.id"] = s.UserID
		out["client.ip"] = ip
		out["client.port"] = port
		out["error.type"] = nil
		out["error.stack_trace"] = nil
	case "error":
		level = "error"
		out["message"] = s.Message
		out["error.type"] = nil
		out["error.message"] = s.ErrorMessage
		out["error.stack_trace"] = nil
		out["user.id"] = s.UserID
	case "panic":
		level = "error"
		out["message"] = "panic recovered"
		out["error.type"] = nil
		out["user.id"] = s.UserID
	default:
		if s.Kind == "warn" {
			level = "warn"
		}
		msg := s.Message
		if s.StoredMessage != "" {
			msg = s.StoredMessage
		}
		out["message"] = msg
		out["error.type"] = nil
		out["error.message"] = nil
		out["error.stack_trace"] = nil
		out["http.request.method"] = nil
	}
	if level == "error" {
		tags = append(tags, "error")
	}
	sort.Strings(tags)
	if tags == nil {
		tags = []string{}
	}
	out["log.level"] = level
	out["tags"] = tags
	for k, v := range over {
		out[k] = v
	}
	return out
}

func writeExpected(dir, name string, rows []row, library, version, zone string) {
	meta, _ := json.Marshal(map[string]any{"meta": map[string]string{"library": library, "version": version, "timezone": zone}})
	lines := []string{string(meta)}
	for _, r := range rows {
		b, err := json.Marshal(r) // encoding/json sorts map keys
		must(err)
		lines = append(lines, string(b))
	}
	must(os.WriteFile(filepath.Join(dir, name+".expected.ndjson"), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if ok {
		for _, dep := range info.Deps {
			if dep.Path == path {
				return dep.Version
			}
		}
		return info.GoVersion
	}
	return "unknown"
}

func genSlog(dir string, sc scenario, start time.Time) {
	file, err := os.Create(filepath.Join(dir, "slog.log"))
	must(err)
	defer file.Close()
	handler := slog.NewJSONHandler(file, &slog.HandlerOptions{Level: slog.LevelDebug})
	levels := map[string]slog.Level{"info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	ctx := context.Background()
	var rows []row
	for index, s := range sc.Steps {
		at := start.Add(time.Duration(int64(index)*sc.StepMS) * time.Millisecond)
		over := row{}
		var record slog.Record
		switch s.Kind {
		case "request":
			record = slog.NewRecord(at, levels[requestLevel(s.Status)], "request", 0)
			record.AddAttrs(
				slog.String("method", s.Method), slog.String("path", s.target()), slog.Int("status", s.Status),
				slog.Duration("duration", s.duration()), slog.String("remote_addr", s.RemoteAddr),
			)
			if s.UserID != nil {
				record.AddAttrs(slog.String("user_id", *s.UserID))
			}
		case "error":
			record = slog.NewRecord(at, slog.LevelError, s.Message, 0)
			record.AddAttrs(slog.Any("err", chargeCard(s.ErrorMessage)), slog.String("user_id", *s.UserID))
		case "panic":
			panicked(func(recovered any, stack string) {
				record = slog.NewRecord(at, slog.LevelError, "panic recovered", 0)
				record.AddAttrs(slog.Any("panic", recovered), slog.String("stack", stack), slog.String("user_id", *s.UserID))
				over["error.message"] = fmt.Sprint(recovered)
				over["error.stack_trace"] = row{"contains": []string{"main.lookup", "goroutine"}}
			})
		default:
			level := slog.LevelInfo
			if s.Kind == "warn" {
				level = slog.LevelWarn
			}
			record = slog.NewRecord(at, level, s.Message, 0)
		}
		must(handler.Handle(ctx, record))
		rows = append(rows, expected(s, index, len(rows), at, over))
	}
	writeExpected(dir, "slog", rows, "log/slog", moduleVersion("log/slog"), "UTC")
}

type fixedClock struct{ at time.Time }

func (c *fixedClock) Now() time.Time                         { return c.at }
func (c *fixedClock) NewTicker(d time.Duration) *time.Ticker { return time.NewTicker(d) }

func genZap(dir string, sc scenario, start time.Time) {
	clock := &fixedClock{}
	config := zap.NewProductionConfig()
	config.Sampling = nil
	config.OutputPaths = []string{filepath.Join(dir, "zap.log")}
	if err := os.Remove(filepath.Join(dir, "zap.log")); err != nil && !os.IsNotExist(err) {
		panic(err)
	}
	logger, err := config.Build(zap.WithClock(clock))
	must(err)
	var rows []row
	// zap adds its own call-site "stacktrace" to every error-level line.
	callSite := row{"contains": []string{"main.genZap"}}
	for index, s := range sc.Steps {
		at := start.Add(time.Duration(int64(index)*sc.StepMS) * time.Millisecond)
		clock.at = at
		over := row{}
		switch s.Kind {
		case "request":
			fields := []zap.Field{
				zap.String("method", s.Method), zap.String("path", s.target()), zap.Int("status", s.Status),
				zap.Duration("latency", s.duration()), zap.String("remote_addr", s.RemoteAddr),
			}
			if s.UserID != nil {
				fields = append(fields, zap.String("user_id", *s.UserID))
			}
			switch requestLevel(s.Status) {
			case "error":
				logger.Error("request", fields...)
				over["error.stack_trace"] = callSite
			case "warn":
				logger.Warn("request", fields...)
			default:
				logger.Info("request", fields...)
			}
		case "error":
			logger.Error(s.Message, zap.Error(chargeCard(s.ErrorMessage)), zap.String("user_id", *s.UserID))
			over["error.stack_trace"] = callSite
		case "panic":
			panicked(func(recovered any, stack string) {
				logger.Error("panic recovered", zap.Any("panic", recovered), zap.String("stack", stack), zap.String("user_id", *s.UserID))
				over["error.message"] = fmt.Sprint(recovered)
				over["error.stack_trace"] = row{"contains": []string{"main.lookup", "goroutine"}}
			})
		default:
			if s.Kind == "warn" {
				logger.Warn(s.Message)
			} else {
				logger.Info(s.Message)
			}
		}
		rows = append(rows, expected(s, index, len(rows), at, over))
	}
	must(logger.Sync())
	writeExpected(dir, "zap", rows, "go.uber.org/zap", moduleVersion("go.uber.org/zap"), "UTC")
}

func main() {
	zone, err := time.LoadLocation(localZone)
	must(err)
	time.Local = zone
	dir, err := filepath.Abs("..")
	must(err)
	raw, err := os.ReadFile(filepath.Join(dir, "scenario.json"))
	must(err)
	var sc scenario
	must(json.Unmarshal(raw, &sc))
	start, err := time.Parse(time.RFC3339Nano, sc.Start)
	must(err)
	start = start.In(zone)
	genSlog(dir, sc, start)
	genZap(dir, sc, start)
	fmt.Println("wrote slog and zap corpora")
}
