package store

import (
	"database/sql"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Time is a timestamp as the API shows it (RFC 3339, UTC).
type Time = time.Time

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// msPtr turns a nullable millisecond column into nil or a time.
func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := msTime(v.Int64)
	return &t
}

func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// Counts are open findings by severity. Negligible counts as low.
type Counts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Unknown  int `json:"unknown"`
}

// Total is the number of open findings.
func (c Counts) Total() int { return c.Critical + c.High + c.Medium + c.Low + c.Unknown }

// Add sums two counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{c.Critical + o.Critical, c.High + o.High, c.Medium + o.Medium, c.Low + o.Low, c.Unknown + o.Unknown}
}

// Severities are the lower-case severity names the API filters on, most
// severe first.
var Severities = []string{"critical", "high", "medium", "low", "unknown"}

// severityName maps a report severity (CRITICAL, ..., NEGLIGIBLE) to the
// store's lower-case bucket.
func severityName(s string) string {
	switch strings.ToLower(s) {
	case "critical":
		return "critical"
	case "high":
		return "high"
	case "medium":
		return "medium"
	case "low", "negligible":
		return "low"
	}
	return "unknown"
}

// Page is one page of a list and the token of the next ("" at the end).
type Page[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"next_page_token"`
}

// DefaultLimit and MaxLimit bound page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func clampLimit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return min(n, MaxLimit)
}

// A page token is the opaque form of the last row's id: lists are ordered
// by id descending (newest first), so the next page is "id < token".
func pageToken(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("i" + strconv.FormatInt(id, 10)))
}

// ErrBadPageToken is returned for a token this store did not make.
var ErrBadPageToken = errPageToken{}

type errPageToken struct{}

func (errPageToken) Error() string { return "invalid page_token" }

func parsePageToken(tok string) (int64, error) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 2 || b[0] != 'i' {
		return 0, ErrBadPageToken
	}
	id, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrBadPageToken
	}
	return id, nil
}
